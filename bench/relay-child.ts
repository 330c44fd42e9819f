/**
 * The relay as a benchmark runs it: `node .bench-build/src/main.js` (compiled by `npm run
 * bench:build` beside the benches) as a child process on a free port, and its view of a node's
 * backlog. Shared by the relay benches.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import * as http from 'node:http';
import * as path from 'node:path';

export interface Relay {
  url: string;
  child: ChildProcess;
}

/** Starts the relay with `env` (and none of the shell's HH_*); resolves once it listens. */
export async function startRelay(env: Record<string, string>): Promise<Relay> {
  const main = path.resolve(__dirname, '../src/main.js');
  const base = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith('HH_')),
  );
  const child = spawn(process.execPath, [main], {
    env: { ...base, HH_PORT: '0', HH_HOST: '127.0.0.1', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const match = /"msg":"relay listening","port":(\d+)/.exec(out);
      if (match) resolve(Number(match[1]));
      if (out.length > 1_000_000) out = out.slice(-10_000);
    });
    child.once('close', (code) => reject(new Error(`relay exited ${code}`)));
  });
  return { url: `http://127.0.0.1:${port}`, child };
}

/** SIGTERM and wait for the exit. */
export async function stopRelay(relay: Relay): Promise<void> {
  if (relay.child.exitCode !== null || relay.child.signalCode !== null) return;
  relay.child.kill('SIGTERM');
  await once(relay.child, 'close');
}

/** The entries queued for `node`, from the relay's `/hh/nodes/:id`. */
export function backlogOf(relay: Relay, node: string): Promise<number> {
  return new Promise((resolve, reject) => {
    http
      .get(`${relay.url}/hh/nodes/${node}`, (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => {
          const status = JSON.parse(text) as { backlog: { entries: number } };
          resolve(status.backlog.entries);
        });
      })
      .on('error', reject);
  });
}

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { promises as fs, readlinkSync, readdirSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export const ROOT = path.resolve(__dirname, '../..');

/**
 * A fresh clone of this checkout's HEAD in a temp dir, as a new user gets it. `npm ci` is
 * replaced by a symlink to this checkout's node_modules (the same lock file, minutes faster).
 */
export async function freshClone(): Promise<string> {
  const parent = await fs.mkdtemp(path.join(os.tmpdir(), 'hh-first-run-'));
  const dir = path.join(parent, 'nestjs-hinted-handoff');
  const clone = spawnSync('git', ['clone', '--quiet', ROOT, dir], { encoding: 'utf8' });
  if (clone.status !== 0) throw new Error(`git clone failed: ${clone.stderr}`);
  await fs.symlink(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'));
  return dir;
}

/** The environment of a new user's shell: the parent's without any HH_* variable. */
export function envWithoutHH(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('HH_')));
}

/**
 * Ports that something already listens on, among `ports` of 127.0.0.1. Checked in a child
 * process so the answer is known synchronously, when jest decides what to run.
 */
export function portsInUse(ports: number[]): number[] {
  const script = `
    const net = require('net');
    Promise.all(${JSON.stringify(ports)}.map((port) => new Promise((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => { s.destroy(); resolve(port); });
      s.once('error', () => resolve(null));
    }))).then((r) => console.log(JSON.stringify(r.filter((p) => p !== null))));`;
  const out = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
  return JSON.parse(out.stdout) as number[];
}

/** Pids of processes whose working directory is `dir` or inside it (what a start left behind). */
export function processesIn(dir: string): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const cwd = readlinkSync(`/proc/${name}/cwd`);
      if (cwd === dir || cwd.startsWith(`${dir}/`)) pids.push(Number(name));
    } catch {
      // Gone meanwhile, or not ours to read.
    }
  }
  return pids;
}

export interface Started {
  child: ChildProcess;
  output(): string;
  exited: Promise<number | null>;
  /** Milliseconds from spawn to the relay's "listening" line. */
  listeningAfterMs: number;
}

/** Runs `command args` in `cwd` and resolves once the relay logs that it listens. */
export async function startUntilListening(
  command: string,
  args: string[],
  cwd: string,
): Promise<Started> {
  const started = Date.now();
  const child = spawn(command, args, { cwd, env: envWithoutHH(), stdio: 'pipe' });
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  await new Promise<void>((resolve, reject) => {
    const onData = () => {
      if (out.includes('"msg":"relay listening"')) resolve();
    };
    child.stdout!.on('data', onData);
    void exited.then((code) => reject(new Error(`exited (${code}) before listening:\n${out}`)));
  });
  return { child, output: () => out, exited, listeningAfterMs: Date.now() - started };
}

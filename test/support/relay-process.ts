import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';

const ROOT = path.resolve(__dirname, '../..');
const MAIN = path.join(ROOT, 'dist/main.js');
const run = promisify(execFile);

/**
 * Builds `dist/` unless a build newer than every source file is there already. tsc emits even
 * when a file elsewhere in the tree has a type error (others may be mid-edit); the relay's own
 * files are type-checked by `npm run typecheck`, so only a missing `dist/main.js` fails here.
 */
export async function ensureBuilt(): Promise<void> {
  const built = await fs.stat(MAIN).then(
    (s) => s.mtimeMs,
    () => 0,
  );
  if (built > 0 && built >= (await newestSource(path.join(ROOT, 'src')))) return;
  await run('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: ROOT }).catch(() => undefined);
  await fs.access(MAIN);
}

async function newestSource(dir: string): Promise<number> {
  let newest = 0;
  for (const entry of await fs.readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, await newestSource(full));
    else if (entry.name.endsWith('.ts')) newest = Math.max(newest, (await fs.stat(full)).mtimeMs);
  }
  return newest;
}

/** Every relay child not yet exited; SIGKILLed after the test file so none outlives jest. */
const children = new Set<ChildProcess>();
if (typeof afterAll === 'function') {
  afterAll(async () => {
    const exits = [...children].map((c) => once(c, 'close'));
    for (const child of children) child.kill('SIGKILL');
    await Promise.all(exits);
  });
}

export interface RelayProcess {
  url: string;
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** SIGTERM and wait: the exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL and wait: a crash. */
  kill(): Promise<void>;
}

/** The environment of a relay child: the parent's, minus any HH_* of the developer's shell. */
function childEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  const base = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith('HH_')),
  );
  return { ...base, HH_PORT: '0', HH_HOST: '127.0.0.1', ...env };
}

export interface SpawnRelayOptions {
  /** Runs the relay under `ulimit -n <n>` (the shell execs node, so the pid is the relay's). */
  maxOpenFiles?: number;
}

/** `node dist/main.js` with `env`; resolves once it logs that it listens (its port is 0). */
export async function spawnRelay(
  env: Record<string, string>,
  options: SpawnRelayOptions = {},
): Promise<RelayProcess> {
  const [command, args] =
    options.maxOpenFiles === undefined
      ? [process.execPath, [MAIN]]
      : [
          '/bin/sh',
          ['-c', `ulimit -n ${options.maxOpenFiles} && exec "$0" "$1"`, process.execPath, MAIN],
        ];
  const child = spawn(command, args, { cwd: ROOT, env: childEnv(env), stdio: 'pipe' });
  children.add(child);
  child.once('close', () => children.delete(child));
  let out = '';
  let err = '';
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      const match = /"msg":"relay listening","port":(\d+)/.exec(out);
      if (match) resolve(Number(match[1]));
    });
    child.once('close', (code) =>
      reject(new Error(`relay exited (${code}) before listening:\n${err}`)),
    );
  });
  const exited = once(child, 'close') as Promise<[number | null]>;
  return {
    url: `http://127.0.0.1:${port}`,
    child,
    stdout: () => out,
    stderr: () => err,
    stop: async () => {
      child.kill('SIGTERM');
      const [code] = await exited;
      return code;
    },
    kill: async () => {
      child.kill('SIGKILL');
      await exited;
    },
  };
}

/** Runs `node dist/main.js` expecting it to exit on its own: its exit code and output. */
export async function runRelayToExit(
  env: Record<string, string>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [MAIN], { cwd: ROOT, env: childEnv(env), stdio: 'pipe' });
  children.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const [code] = (await once(child, 'close')) as [number | null];
  children.delete(child);
  return { code, stdout, stderr };
}

/**
 * Runs every benchmark that exists, one after another (they measure throughput: running two at
 * once would make each the other's noise). `npm run bench` builds first, then runs this from
 * .bench-build/bench/, next to the compiled benches. Each prints its own table.
 * BENCH_ONLY=queue,relay runs a subset. The JetStream benches start their own nats-server
 * processes: without one on the PATH (or at NATS_SERVER_BIN) they are skipped, with a message.
 */
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { access } from 'node:fs/promises';
import { join } from 'node:path';

const BENCHES = ['queue', 'replay', 'relay', 'jetstream', 'jetstream-relay'];
/** Benches that need a server binary the machine may not have, and how to ask for it. */
const NATS_SERVER = {
  binary: process.env.NATS_SERVER_BIN ?? 'nats-server',
  install: 'nats-server',
};
const NEEDS: Record<string, { binary: string; install: string }> = {
  jetstream: NATS_SERVER,
  'jetstream-relay': NATS_SERVER,
};

/** Whether `binary --version` runs here. */
function runs(binary: string): boolean {
  const result = spawnSync(binary, ['--version'], { stdio: 'ignore' });
  return result.error === undefined && result.status === 0;
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

async function runOne(file: string): Promise<number> {
  const child = spawn(process.execPath, [file], { stdio: 'inherit', env: process.env });
  const [code, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
  return code ?? (signal ? 128 : 1);
}

async function main(): Promise<number> {
  const only = process.env.BENCH_ONLY?.split(',').map((s) => s.trim());
  const failed: string[] = [];
  for (const name of BENCHES.filter((b) => !only || only.includes(b))) {
    const file = join(__dirname, `${name}.bench.js`);
    if (!(await exists(file))) {
      process.stdout.write(`\n# ${name}: no ${name}.bench.js, skipped\n`);
      continue;
    }
    const need = NEEDS[name];
    if (need && !runs(need.binary)) {
      process.stdout.write(
        `\n# ${name}: skipped, ${need.binary} is not installed (Debian: apt-get install ${need.install})\n`,
      );
      continue;
    }
    process.stdout.write(`\n# ${name}\n`);
    const code = await runOne(file);
    if (code !== 0) failed.push(`${name} (exit ${code})`);
  }
  if (failed.length > 0) process.stdout.write(`\nBenchmarks that failed: ${failed.join(', ')}\n`);
  return failed.length === 0 ? 0 : 1;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
    process.exitCode = 1;
  },
);

/// <reference types="jest" />
// (The influxd harness under test/support registers a jest afterAll when jest runs it; the
// reference above only lets it type-check here, where it runs without jest.)
/**
 * The relay's throughput against two real influxd nodes, each figure against a baseline measured
 * in the same run (`npm run bench:relay`):
 *   1. relay, both nodes up (autocannon → /write)  vs  a plain client posting every batch to
 *      both nodes itself (goal ≥ 0.8×);
 *   2. relay with node b down (its copies handed off to disk)  vs  (1) (goal ≥ 0.8×);
 *   3. drain of a backlog (BENCH_BACKLOG_MIB, default 256 MiB) into the restarted node  vs  that
 *      node's direct-write rate (goal ≥ 0.7×).
 * Every batch is 5 000 points of line protocol. BENCH_SECONDS (default 10) sets each phase;
 * BENCH_ROUNDS (2), BENCH_CONNECTIONS (8), BENCH_REPLAY_BATCH_BYTES (1MiB) the rest.
 */
import * as http from 'node:http';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { startInfluxd, type InfluxNode } from '../test/support/influxd';

interface AutocannonResult {
  '2xx': number;
  non2xx: number;
  errors: number;
  duration: number;
}
// eslint-disable-next-line @typescript-eslint/no-require-imports
const autocannon = require('autocannon') as (
  opts: Record<string, unknown>,
) => Promise<AutocannonResult>;

const POINTS = 5000;
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 8);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const BACKLOG_BYTES = Number(process.env.BENCH_BACKLOG_MIB ?? 256) * 1024 * 1024;
const DB = 'bench';

/** 5 000 points: 100 series × 50 timestamps, ~60 bytes a line, like a telegraf batch. */
function makeBatch(): Buffer {
  const lines: string[] = [];
  for (let i = 0; i < POINTS; i += 1) {
    const series = i % 100;
    const ts = 1_700_000_000_000_000_000n + BigInt(Math.floor(i / 100)) * 1_000_000_000n;
    lines.push(
      `cpu,host=h${series},region=eu usage_user=${(i % 97) + 0.5},usage_idle=${i % 89}i ${ts}`,
    );
  }
  return Buffer.from(`${lines.join('\n')}\n`);
}

/** A plain keep-alive client: POSTs `body` to each URL of a request (in parallel), `connections` at a time. */
async function plainClient(
  targets: string[],
  body: Buffer,
  connections: number,
  seconds: number,
): Promise<number> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections * targets.length });
  const post = (url: string) =>
    new Promise<void>((resolve, reject) => {
      const req = http.request(
        url,
        {
          method: 'POST',
          agent,
          headers: { 'content-type': 'text/plain', 'content-length': body.length },
        },
        (res) => {
          res.resume();
          res.on('end', () =>
            res.statusCode === 204 ? resolve() : reject(new Error(`status ${res.statusCode}`)),
          );
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  const deadline = Date.now() + seconds * 1000;
  let batches = 0;
  const started = Date.now();
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (Date.now() < deadline) {
        await Promise.all(targets.map((t) => post(t)));
        batches += 1;
      }
    }),
  );
  const elapsed = (Date.now() - started) / 1000;
  agent.destroy();
  return (batches * POINTS) / elapsed;
}

async function relayRate(url: string, body: Buffer, seconds: number): Promise<number> {
  const result = await autocannon({
    url: `${url}/write?db=${DB}`,
    method: 'POST',
    headers: { 'content-type': 'text/plain' },
    body,
    connections: CONNECTIONS,
    duration: seconds,
  });
  if (result.non2xx > 0 || result.errors > 0) {
    throw new Error(`relay answered ${result.non2xx} non-2xx, ${result.errors} errors`);
  }
  return (result['2xx'] * POINTS) / result.duration;
}

interface Relay {
  url: string;
  child: ChildProcess;
}

async function startRelay(env: Record<string, string>): Promise<Relay> {
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

function getJson(url: string): Promise<{ backlog: { entries: number; bytes: number } }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => resolve(JSON.parse(text)));
      })
      .on('error', reject);
  });
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

async function main(): Promise<void> {
  const body = makeBatch();
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'hh-bench-relay-'));
  const nodes: InfluxNode[] = [];
  let relay: Relay | undefined;
  try {
    const [a, b] = await Promise.all([startInfluxd(), startInfluxd()]);
    nodes.push(a, b);
    await Promise.all([a.createDatabase(DB), b.createDatabase(DB)]);
    const writeUrl = (n: InfluxNode) => `${n.url}/write?db=${DB}`;

    relay = await startRelay({
      HH_NODES: `a=${a.url},b=${b.url}`,
      HH_DATA_DIR: path.join(dataDir, 'hh'),
      HH_RETRY_MAX_INTERVAL: '200ms',
      HH_REPLAY_BATCH_BYTES: process.env.BENCH_REPLAY_BATCH_BYTES ?? '1MiB',
    });
    // Warm-up, then baseline and relay interleaved (influxd's background compactions grow as
    // data comes in, so a phase run later would be measured on a busier node): best of ROUNDS.
    await plainClient([writeUrl(a), writeUrl(b)], body, CONNECTIONS, 2);
    await relayRate(relay.url, body, 2);
    let fanout = 0;
    let bothUp = 0;
    for (let round = 0; round < ROUNDS; round += 1) {
      fanout = Math.max(
        fanout,
        await plainClient([writeUrl(a), writeUrl(b)], body, CONNECTIONS, SECONDS),
      );
      bothUp = Math.max(bothUp, await relayRate(relay.url, body, SECONDS));
    }
    const directB = await plainClient([writeUrl(b)], body, CONNECTIONS, SECONDS);
    const directB1 = await plainClient([writeUrl(b)], body, 1, SECONDS);

    await b.stop();
    const oneDown = await relayRate(relay.url, body, SECONDS);
    // Grow the backlog to its target size.
    let backlog = await getJson(`${relay.url}/hh/nodes/b`);
    while (backlog.backlog.bytes < BACKLOG_BYTES) {
      await relayRate(relay.url, body, 5);
      backlog = await getJson(`${relay.url}/hh/nodes/b`);
    }
    const backlogPoints = backlog.backlog.entries * POINTS;
    const backlogMiB = backlog.backlog.bytes / 1024 / 1024;

    await b.start();
    const drainStart = Date.now();
    for (;;) {
      backlog = await getJson(`${relay.url}/hh/nodes/b`);
      if (backlog.backlog.entries === 0) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const drainSeconds = (Date.now() - drainStart - 0) / 1000;
    const drain = backlogPoints / drainSeconds;

    const rows: [string, number, string, number, string][] = [
      ['relay, both nodes up', bothUp, 'plain client → both nodes', fanout, '≥ 0.8'],
      ['relay, node b down (hand-off)', oneDown, 'relay, both nodes up', bothUp, '≥ 0.8'],
      [
        `drain ${backlogMiB.toFixed(0)} MiB into b`,
        drain,
        `direct writes to b (${CONNECTIONS} conns)`,
        directB,
        '≥ 0.7',
      ],
      [
        `drain ${backlogMiB.toFixed(0)} MiB into b`,
        drain,
        'direct writes to b (1 conn)',
        directB1,
        '(info)',
      ],
    ];
    console.log(
      `\nrelay benchmark: ${POINTS}-point batches, ${CONNECTIONS} connections, ${SECONDS} s phases, ${os.cpus().length} CPUs`,
    );
    console.log('| measured | points/s | baseline | points/s | ratio | goal |');
    console.log('|---|---:|---|---:|---:|---|');
    for (const [what, rate, base, baseRate, goal] of rows) {
      console.log(
        `| ${what} | ${fmt(rate)} | ${base} | ${fmt(baseRate)} | ${(rate / baseRate).toFixed(2)}× | ${goal} |`,
      );
    }
    console.log(
      `drain: ${fmt(backlogPoints)} points (${fmt(backlogPoints / POINTS)} entries) in ${drainSeconds.toFixed(1)} s, HH_REPLAY_BATCH_BYTES=${process.env.BENCH_REPLAY_BATCH_BYTES ?? '1MiB'}`,
    );
  } finally {
    if (relay) {
      relay.child.kill('SIGTERM');
      await once(relay.child, 'close');
    }
    await Promise.all(nodes.map((n) => n.cleanup()));
    await fs.rm(dataDir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);

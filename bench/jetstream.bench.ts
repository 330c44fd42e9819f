/**
 * JetStream store benchmark: hand-off append and drain through JetStreamQueue on one real
 * nats-server (1 replica) and on a real 3-server cluster (3 replicas), each beside a plain
 * JetStream publish / ordered-consumer read of the same entries on the same servers (the
 * baseline), and the disk store on the same machine, all in one run.
 *
 *   npm run bench:build && node .bench-build/bench/jetstream.bench.js
 *   BENCH_JS_ENTRIES=2000 node .bench-build/bench/jetstream.bench.js     # a few seconds
 *
 * Env: BENCH_JS_ENTRIES (default 20000 entries of BENCH_JS_ENTRY_BYTES, default 1024),
 * BENCH_JS_WINDOW (appends in flight at once, default 256: many requests handing off at once).
 * The drain reads as the replayer does: peek a 1 MiB batch, advance past it, until empty.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JetStreamQueue, NatsLink } from '../src/modules/jetstream';
import { DiskBackedQueue } from '../src/modules/queue';
import type { HandoffQueue } from '../src/modules/queue/handoff-queue.contract';
import { startNatsCluster, startNatsServer } from '../test/support/nats-server';
import { msSince, printTable, type BenchRow } from './bench-table';

const ENTRIES = Number(process.env.BENCH_JS_ENTRIES ?? 20_000);
const ENTRY_BYTES = Number(process.env.BENCH_JS_ENTRY_BYTES ?? 1024);
const WINDOW = Number(process.env.BENCH_JS_WINDOW ?? 256);
const BATCH_BYTES = 1024 * 1024;
const PAYLOADS = Array.from({ length: 64 }, () => randomBytes(ENTRY_BYTES));
const TOTAL_BYTES = ENTRIES * ENTRY_BYTES;

interface Timing {
  appendMs: number;
  drainMs: number;
}

/** `ENTRIES` calls of `op`, `WINDOW` of them in flight at once. */
async function windowed(op: (i: number) => Promise<unknown>): Promise<number> {
  let next = 0;
  const start = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: WINDOW }, async () => {
      while (next < ENTRIES) await op(next++);
    }),
  );
  return msSince(start);
}

async function throughStore(q: HandoffQueue): Promise<Timing> {
  await q.open();
  const appendMs = await windowed((i) => q.append(PAYLOADS[i % PAYLOADS.length]));
  const start = process.hrtime.bigint();
  let read = 0;
  for (;;) {
    const batch = await q.peek(BATCH_BYTES);
    if (batch.length === 0) break;
    read += batch.length;
    await q.advance(batch.length);
  }
  const drainMs = msSince(start);
  if (read !== ENTRIES) throw new Error(`drained ${read} entries of ${ENTRIES}`);
  await q.close();
  return { appendMs, drainMs };
}

/** Plain JetStream: publish (awaiting each ack), then read with an ordered consumer. */
async function plainJetStream(link: NatsLink, replicas: number): Promise<Timing> {
  const stream = `BENCH_PLAIN_R${replicas}`;
  await link.jsm.streams.add({
    name: stream,
    subjects: [`bench.r${replicas}`],
    num_replicas: replicas,
  });
  const appendMs = await windowed((i) =>
    link.js.publish(`bench.r${replicas}`, PAYLOADS[i % PAYLOADS.length]),
  );
  const start = process.hrtime.bigint();
  const consumer = await link.js.consumers.get(stream);
  const messages = await consumer.consume({ max_bytes: BATCH_BYTES });
  let read = 0;
  for await (const m of messages) {
    if (m.data.length !== ENTRY_BYTES) throw new Error('short read');
    if (++read === ENTRIES) break;
  }
  const drainMs = msSince(start);
  await link.jsm.streams.delete(stream);
  return { appendMs, drainMs };
}

const rate = (ms: number) => ({ value: TOTAL_BYTES / (ms / 1000), unit: 'B/s' });

async function main(): Promise<void> {
  process.stdout.write(
    `JetStream store: ${ENTRIES} entries of ${ENTRY_BYTES} B, ${WINDOW} appends in flight\n`,
  );
  const dir = await mkdtemp(join(tmpdir(), 'hh-bench-js-'));
  const single = await startNatsServer();
  const cluster = await startNatsCluster(3);
  const links: NatsLink[] = [];
  try {
    const disk = await throughStore(new DiskBackedQueue(join(dir, 'disk')));
    const link1 = await NatsLink.connect({ servers: single.url });
    const link3 = await NatsLink.connect({ servers: cluster.urls });
    links.push(link1, link3);
    const maxSize = TOTAL_BYTES * 2 + 64 * 1024 * 1024;
    const plain1 = await plainJetStream(link1, 1);
    const store1 = await throughStore(new JetStreamQueue(link1, 'bench-r1', { maxSize }));
    const plain3 = await plainJetStream(link3, 3);
    const store3 = await throughStore(
      new JetStreamQueue(link3, 'bench-r3', { maxSize, replicas: 3 }),
    );
    const rows: BenchRow[] = [
      { label: 'append, disk store', measured: rate(disk.appendMs) },
      {
        label: 'append, JetStream store R1',
        measured: rate(store1.appendMs),
        baseline: { ...rate(plain1.appendMs), label: 'plain publish R1' },
      },
      {
        label: 'append, JetStream store R3',
        measured: rate(store3.appendMs),
        baseline: { ...rate(plain3.appendMs), label: 'plain publish R3' },
      },
      { label: 'drain, disk store', measured: rate(disk.drainMs) },
      {
        label: 'drain, JetStream store R1',
        measured: rate(store1.drainMs),
        baseline: { ...rate(plain1.drainMs), label: 'ordered consumer R1' },
      },
      {
        label: 'drain, JetStream store R3',
        measured: rate(store3.drainMs),
        baseline: { ...rate(plain3.drainMs), label: 'ordered consumer R3' },
      },
    ];
    printTable('JetStream store vs plain JetStream vs disk store', rows);
  } finally {
    for (const link of links) await link.close();
    await single.kill();
    await cluster.cleanup();
    await rm(dir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);

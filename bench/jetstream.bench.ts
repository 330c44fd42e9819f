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
 * BENCH_JS_WINDOW (appends in flight at once, default 256: many requests handing off at once),
 * BENCH_JS_STREAMS (default 4: the R3 rows run again over this many node streams at once, the
 * same entries and window split between them, to see whether a cluster's rate grows with nodes).
 * The drain reads as the replayer does: peek a 1 MiB batch, advance past it, until empty.
 * Every figure of a store is printed beside a same-run baseline: plain JetStream, the disk
 * store, or one stream.
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
const STREAMS = Number(process.env.BENCH_JS_STREAMS ?? 4);
const BATCH_BYTES = 1024 * 1024;
const PAYLOADS = Array.from({ length: 64 }, () => randomBytes(ENTRY_BYTES));
const TOTAL_BYTES = ENTRIES * ENTRY_BYTES;

interface Timing {
  appendMs: number;
  drainMs: number;
}

/** `count` calls of `op`, `window` of them in flight at once. */
async function windowed(
  op: (i: number) => Promise<unknown>,
  count = ENTRIES,
  window = WINDOW,
): Promise<number> {
  let next = 0;
  const start = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: window }, async () => {
      while (next < count) await op(next++);
    }),
  );
  return msSince(start);
}

/** Peeks 1 MiB batches and advances past them until `q` is empty: the entries read. */
async function drain(q: HandoffQueue): Promise<number> {
  let read = 0;
  for (;;) {
    const batch = await q.peek(BATCH_BYTES);
    if (batch.length === 0) return read;
    read += batch.length;
    await q.advance(batch.length);
  }
}

/** Appends `count` entries to `q` (`window` in flight), then drains it. */
async function throughStore(q: HandoffQueue, count = ENTRIES, window = WINDOW): Promise<Timing> {
  await q.open();
  const appendMs = await windowed((i) => q.append(PAYLOADS[i % PAYLOADS.length]), count, window);
  const start = process.hrtime.bigint();
  const read = await drain(q);
  const drainMs = msSince(start);
  if (read !== count) throw new Error(`drained ${read} entries of ${count}`);
  await q.close();
  return { appendMs, drainMs };
}

/**
 * `queues` (one per node stream) each take ENTRIES / queues.length entries at once (the window
 * split between them), then drain at once: the time until the last one finished each phase.
 */
async function throughStores(queues: HandoffQueue[]): Promise<Timing> {
  const each = Math.floor(ENTRIES / queues.length);
  const window = Math.max(1, Math.floor(WINDOW / queues.length));
  await Promise.all(queues.map((q) => q.open()));
  const appendStart = process.hrtime.bigint();
  await Promise.all(
    queues.map((q) => windowed((i) => q.append(PAYLOADS[i % PAYLOADS.length]), each, window)),
  );
  const appendMs = msSince(appendStart);
  const drainStart = process.hrtime.bigint();
  const read = await Promise.all(queues.map(drain));
  const drainMs = msSince(drainStart);
  if (read.some((n) => n !== each)) throw new Error(`drained ${read.join(',')} of ${each} each`);
  await Promise.all(queues.map((q) => q.close()));
  // Rates below count ENTRIES: scale to the entries actually moved.
  const scale = ENTRIES / (each * queues.length);
  return { appendMs: appendMs * scale, drainMs: drainMs * scale };
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
    const many3 = await throughStores(
      Array.from(
        { length: STREAMS },
        (_, i) =>
          new JetStreamQueue(link3, `bench-r3-${i}`, {
            // JetStream reserves max_bytes (hints and dead letters, each replica) on the
            // servers' 1 GB test store: each of these streams holds only its share.
            maxSize: Math.ceil(maxSize / STREAMS) + 16 * 1024 * 1024,
            replicas: 3,
          }),
      ),
    );
    const onDisk = (ms: number) => ({ ...rate(ms), label: 'disk store' });
    const oneStream = (ms: number) => ({ ...rate(ms), label: 'one stream R3' });
    const rows: BenchRow[] = [];
    for (const phase of ['append', 'drain'] as const) {
      const ms = (t: Timing) => (phase === 'append' ? t.appendMs : t.drainMs);
      const plain = phase === 'append' ? 'plain publish' : 'ordered consumer';
      rows.push(
        { label: `${phase}, disk store`, measured: rate(ms(disk)) },
        {
          label: `${phase}, JetStream store R1`,
          measured: rate(ms(store1)),
          baseline: { ...rate(ms(plain1)), label: `${plain} R1` },
        },
        {
          label: `${phase}, JetStream store R1`,
          measured: rate(ms(store1)),
          baseline: onDisk(ms(disk)),
        },
        {
          label: `${phase}, JetStream store R3`,
          measured: rate(ms(store3)),
          baseline: { ...rate(ms(plain3)), label: `${plain} R3` },
        },
        {
          label: `${phase}, JetStream store R3`,
          measured: rate(ms(store3)),
          baseline: onDisk(ms(disk)),
        },
        {
          label: `${phase}, ${STREAMS} streams at once R3 (all together)`,
          measured: rate(ms(many3)),
          baseline: oneStream(ms(store3)),
        },
      );
    }
    printTable('JetStream store vs plain JetStream vs disk store', rows);
    const perSecond = (ms: number) => Math.round(ENTRIES / (ms / 1000)).toLocaleString('en-US');
    for (const [name, t] of [
      ['disk store', disk],
      ['JetStream R1, one stream', store1],
      ['JetStream R3, one stream', store3],
      [`JetStream R3, ${STREAMS} streams together`, many3],
    ] as const) {
      console.log(
        `${name}: append ${perSecond(t.appendMs)} entries/s, drain ${perSecond(t.drainMs)} entries/s`,
      );
    }
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

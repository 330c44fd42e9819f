/**
 * DiskBackedQueue benchmark: every figure beside a baseline measured in the same run.
 *
 *   npm run bench:queue                                  # 1 GiB, the goals of the design
 *   BENCH_QUEUE_BYTES=64MiB npm run bench:queue          # a quick run
 *
 * Env: BENCH_QUEUE_BYTES (default 1GiB: append, drain, open, RSS), BENCH_QUEUE_ALWAYS_BYTES
 * (default the smaller of 128MiB and BENCH_QUEUE_BYTES: the 'always' fsync pair, which runs at
 * disk-flush speed), BENCH_QUEUE_DIR (parent of the scratch directory, default os.tmpdir()),
 * BENCH_QUEUE_ROUNDS (default 3).
 *
 * The machine may be shared (other processes' load comes and goes), so every figure is measured
 * in several rounds, each round running the queue and its baseline back to back, and the table
 * takes the best round of each (fastest time; for RSS, the worst round).
 *
 * The drain with its RSS samples runs in a child process (this file with --drain-child), so the
 * "empty process" RSS it is compared with is a clean one, not this process after 1 GiB of writes.
 */
import { execFile, fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, open, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parseSize } from '../src/config/parse-sizes';
import { DiskBackedQueue, type DiskBackedQueueOptions } from '../src/modules/queue';
import { READ_CHUNK_SIZE } from '../src/modules/queue/segment-reader';
import { formatBytes, msSince, printTable, type BenchRow } from './bench-table';

const execFileAsync = promisify(execFile);
const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;

const ENTRY_SIZE = 1 * KiB;
/**
 * Entry sizes a relay really queues besides 1 KiB (the CLI's single lines): one HTTP write body
 * each, and Telegraf and the client libraries send 5 000-point batches of ~200-500 KiB.
 */
const LARGE_ENTRY_SIZES = [64 * KiB, 256 * KiB];
/** Appends in flight at once for the 'interval' run: how a server with many requests drives it. */
const APPEND_WINDOW = 256;
/** Concurrent appenders (each awaiting its own append) for the 'always' run. */
const ALWAYS_APPENDERS = 64;
/** The plain-fs baselines write in chunks of this size. */
const WRITE_CHUNK = 64 * KiB;
/** The plain sequential read (of the segment files) uses the queue reader's window size. */
const READ_CHUNK = READ_CHUNK_SIZE;
/** Bytes per peek() in the batched drain: the replayer's default batch (HH_REPLAY_BATCH_BYTES). */
const PEEK_BYTES = 1 * MiB;
const SEGMENT_SIZE = 10 * MiB;
const RSS_SAMPLE_MS = 5;
const OPEN_REPEATS = 3;

function envBytes(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  return parseSize(raw);
}

/** 64 distinct random 1 KiB payloads; their concatenation is the 64 KiB baseline chunk. */
const PAYLOADS = Array.from({ length: WRITE_CHUNK / ENTRY_SIZE }, () => randomBytes(ENTRY_SIZE));
const CHUNK = Buffer.concat(PAYLOADS);

function queueOptions(fsync: DiskBackedQueueOptions['fsync'], bytes: number) {
  // Room for the framing and seals on top of the payload bytes.
  return { fsync, maxSegmentSize: SEGMENT_SIZE, maxSize: bytes * 2 + 64 * MiB };
}

// ------------------------------------------------------------------ baselines

/** Plain fs writes of `bytes` in 64 KiB chunks, optionally an fdatasync after each chunk. */
async function plainWrite(path: string, bytes: number, syncEach: boolean): Promise<number> {
  const fh = await open(path, 'w');
  try {
    const start = process.hrtime.bigint();
    for (let at = 0; at < bytes; at += CHUNK.length) {
      const n = Math.min(CHUNK.length, bytes - at);
      for (let done = 0; done < n;) {
        const { bytesWritten } = await fh.write(CHUNK, done, n - done, at + done);
        done += bytesWritten;
      }
      if (syncEach) await fh.datasync();
    }
    return msSince(start);
  } finally {
    await fh.close();
  }
}

/**
 * A plain sequential read of the queue's own segment files, in order, into one reused buffer:
 * the same bytes, in the same page-cache state, as the drain that follows it.
 */
async function plainRead(dir: string): Promise<{ ms: number; bytes: number }> {
  const names = (await readdir(dir)).filter((n) => n.endsWith('.seg')).sort();
  const buf = Buffer.allocUnsafe(READ_CHUNK);
  const start = process.hrtime.bigint();
  let bytes = 0;
  for (const name of names) {
    const fh = await open(join(dir, name), 'r');
    try {
      for (let at = 0; ;) {
        const { bytesRead } = await fh.read(buf, 0, READ_CHUNK, at);
        if (bytesRead === 0) break;
        at += bytesRead;
        bytes += bytesRead;
      }
    } finally {
      await fh.close();
    }
  }
  return { ms: msSince(start), bytes };
}

/** Writes dirty pages back before a timed pair, so neither side pays for the previous step's. */
async function settle(): Promise<void> {
  await execFileAsync('sync');
}

// ------------------------------------------------------------------ queue runs

/** Appends `bytes` of `payloads`-sized entries (1 KiB by default), APPEND_WINDOW in flight at a time. */
async function appendWindowed(
  q: DiskBackedQueue,
  bytes: number,
  payloads: Buffer[] = PAYLOADS,
): Promise<number> {
  const entries = Math.floor(bytes / payloads[0].length);
  const start = process.hrtime.bigint();
  for (let i = 0; i < entries;) {
    const window: Promise<void>[] = [];
    for (let k = 0; k < APPEND_WINDOW && i < entries; k++, i++)
      window.push(q.append(payloads[i % payloads.length]));
    await Promise.all(window);
  }
  return msSince(start);
}

/** `appenders` loops, each appending its share one await at a time. */
async function appendConcurrent(
  q: DiskBackedQueue,
  bytes: number,
  appenders: number,
): Promise<number> {
  const entries = Math.floor(bytes / ENTRY_SIZE);
  let next = 0;
  const start = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: appenders }, async () => {
      while (next < entries) {
        const i = next++;
        await q.append(PAYLOADS[i % PAYLOADS.length]);
      }
    }),
  );
  return msSince(start);
}

interface DrainResult {
  ms: number;
  entries: number;
  bytes: number;
}

async function drainPeek(q: DiskBackedQueue): Promise<DrainResult> {
  let entries = 0;
  let bytes = 0;
  const start = process.hrtime.bigint();
  for (;;) {
    const batch = await q.peek(PEEK_BYTES);
    if (batch.length === 0) break;
    for (const b of batch) bytes += b.length;
    entries += batch.length;
    await q.advance(batch.length);
  }
  return { ms: msSince(start), entries, bytes };
}

async function drainCurrent(q: DiskBackedQueue): Promise<DrainResult> {
  let entries = 0;
  let bytes = 0;
  const start = process.hrtime.bigint();
  for (;;) {
    const b = await q.current();
    if (b === null) break;
    bytes += b.length;
    entries++;
    await q.advance();
  }
  return { ms: msSince(start), entries, bytes };
}

function expectDrained(what: string, r: DrainResult, bytes: number, entrySize = ENTRY_SIZE): void {
  const entries = Math.floor(bytes / entrySize);
  if (r.entries !== entries || r.bytes !== entries * entrySize) {
    throw new Error(
      `${what}: drained ${r.entries} entries / ${r.bytes} bytes, expected ${entries}`,
    );
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const rate = (bytes: number, ms: number) => (bytes / ms) * 1000;

// ------------------------------------------------------------------ drain child (RSS)

interface ChildReport {
  /** open() in a fresh process, as on a restart: cold JIT, nothing of the queue cached in memory. */
  openMs: number;
  rssEmpty: number;
  rssOpen: number;
  rssPeak: number;
  rssAfter: number;
  /** V8 heap in use after the drain and close: live memory, apart from the GC's slack in RSS. */
  heapAfter: number;
  drain: DrainResult;
}

/** In the child: RSS of the empty process, then a batched drain with RSS sampled throughout. */
async function drainChild(dir: string): Promise<ChildReport> {
  const rssEmpty = process.memoryUsage.rss();
  let rssPeak = rssEmpty;
  const sampler = setInterval(() => {
    rssPeak = Math.max(rssPeak, process.memoryUsage.rss());
  }, RSS_SAMPLE_MS);
  try {
    const q = new DiskBackedQueue(dir, { fsync: 'interval', maxSegmentSize: SEGMENT_SIZE });
    const start = process.hrtime.bigint();
    await q.open();
    const openMs = msSince(start);
    const rssOpen = process.memoryUsage.rss();
    const drain = await drainPeek(q);
    rssPeak = Math.max(rssPeak, process.memoryUsage.rss());
    await q.close();
    const { rss: rssAfter, heapUsed: heapAfter } = process.memoryUsage();
    return { openMs, rssEmpty, rssOpen, rssPeak, rssAfter, heapAfter, drain };
  } finally {
    clearInterval(sampler);
  }
}

async function runDrainChild(dir: string): Promise<ChildReport> {
  const child = fork(__filename, ['--drain-child', dir], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const reports: ChildReport[] = [];
  child.on('message', (m) => reports.push(m as ChildReport));
  const [code, signal] = (await once(child, 'exit')) as [number | null, string | null];
  if (code !== 0 || reports.length !== 1) {
    throw new Error(`drain child failed (exit ${code ?? signal}, ${reports.length} reports)`);
  }
  return reports[0];
}

interface LargeDrain {
  entrySize: number;
  plainRead: { ms: number; bytes: number };
  child: ChildReport;
}

/**
 * The peek drain of a backlog of `entrySize` entries in a fresh process (with its RSS), right
 * after a plain read of the same segment files (same window size).
 */
async function largeEntryDrain(
  root: string,
  total: number,
  entrySize: number,
): Promise<LargeDrain> {
  const log = (s: string) => process.stderr.write(`  ${s}\n`);
  const dir = join(root, `entries-${entrySize}`);
  const payloads = Array.from({ length: 4 }, () => randomBytes(entrySize));
  const q = new DiskBackedQueue(dir, queueOptions('interval', total));
  await q.open();
  await appendWindowed(q, total, payloads);
  await q.close();
  await settle();
  const plain = await plainRead(dir);
  log(`plain read: ${plain.ms.toFixed(0)} ms`);
  const child = await runDrainChild(dir);
  expectDrained(`peek drain of ${formatBytes(entrySize)} entries`, child.drain, total, entrySize);
  log(`queue drain (peek, ${formatBytes(entrySize)} entries): ${child.drain.ms.toFixed(0)} ms`);
  await rm(dir, { recursive: true, force: true });
  return { entrySize, plainRead: plain, child };
}

// ------------------------------------------------------------------ main

interface Round {
  plainWriteMs: number;
  plainRead: { ms: number; bytes: number };
  appendMs: number;
  openWarmMs: number;
  child: ChildReport;
  oneByOne: DrainResult;
  plainSyncedMs: number;
  alwaysMs: number;
  large: LargeDrain[];
}

/** One round: each figure right after its baseline, so both see the same machine load. */
async function runRound(root: string, total: number, alwaysBytes: number): Promise<Round> {
  const log = (s: string) => process.stderr.write(`  ${s}\n`);
  // Baseline: the same bytes through plain fs calls; removed at once, so its dirty pages are
  // dropped, not written back while the queue runs.
  await settle();
  const plainPath = join(root, 'plain.bin');
  const plainWriteMs = await plainWrite(plainPath, total, false);
  log(`plain write: ${plainWriteMs.toFixed(0)} ms`);
  await rm(plainPath);

  // 'interval' append, windows of concurrent appends.
  const dirA = join(root, 'interval');
  const a = new DiskBackedQueue(dirA, queueOptions('interval', total));
  await a.open();
  const appendMs = await appendWindowed(a, total);
  log(`queue append (interval): ${appendMs.toFixed(0)} ms`);
  await a.close();

  // open() of the backlog just written: 10 MiB segments, the tail scanned.
  const openMs: number[] = [];
  for (let i = 0; i < OPEN_REPEATS; i++) {
    const q = new DiskBackedQueue(dirA, queueOptions('interval', total));
    const start = process.hrtime.bigint();
    await q.open();
    openMs.push(msSince(start));
    const backlog = q.backlog();
    await q.close();
    if (backlog.entries !== Math.floor(total / ENTRY_SIZE))
      throw new Error(`open found ${backlog.entries} entries`);
  }
  log(`open: ${openMs.map((m) => m.toFixed(1)).join(', ')} ms`);

  // The read baseline right before the drain it is compared with.
  await settle();
  const plainRead1 = await plainRead(dirA);
  log(`plain read: ${plainRead1.ms.toFixed(0)} ms`);
  // open() on a restart, then the batched drain, in a clean child process, with its RSS.
  const child = await runDrainChild(dirA);
  log(`open (fresh process): ${child.openMs.toFixed(1)} ms`);
  expectDrained('peek drain', child.drain, total);
  log(`queue drain (peek): ${child.drain.ms.toFixed(0)} ms`);
  await rm(dirA, { recursive: true, force: true });

  // current() + advance(), one entry at a time, on a second backlog of the same size.
  const dirB = join(root, 'one-by-one');
  const b = new DiskBackedQueue(dirB, queueOptions('interval', total));
  await b.open();
  await appendWindowed(b, total);
  await settle();
  const plainRead2 = await plainRead(dirB);
  log(`plain read: ${plainRead2.ms.toFixed(0)} ms`);
  const oneByOne = await drainCurrent(b);
  expectDrained('current+advance drain', oneByOne, total);
  log(`queue drain (current+advance): ${oneByOne.ms.toFixed(0)} ms`);
  await b.close();
  await rm(dirB, { recursive: true, force: true });

  // 'always': group commit under 64 appenders vs an fdatasync per 64 KiB.
  await settle();
  const syncedPath = join(root, 'plain-synced.bin');
  const plainSyncedMs = await plainWrite(syncedPath, alwaysBytes, true);
  log(`plain write + fdatasync per 64 KiB: ${plainSyncedMs.toFixed(0)} ms`);
  await rm(syncedPath);
  const dirC = join(root, 'always');
  const c = new DiskBackedQueue(dirC, queueOptions('always', alwaysBytes));
  await c.open();
  const alwaysMs = await appendConcurrent(c, alwaysBytes, ALWAYS_APPENDERS);
  log(`queue append (always, ${ALWAYS_APPENDERS} appenders): ${alwaysMs.toFixed(0)} ms`);
  await c.close();
  await rm(dirC, { recursive: true, force: true });

  const large: LargeDrain[] = [];
  for (const size of LARGE_ENTRY_SIZES) large.push(await largeEntryDrain(root, total, size));

  const plainReadBest = plainRead1.ms <= plainRead2.ms ? plainRead1 : plainRead2;
  return {
    plainWriteMs,
    plainRead: plainReadBest,
    appendMs,
    openWarmMs: median(openMs),
    child,
    oneByOne,
    plainSyncedMs,
    alwaysMs,
    large,
  };
}

const best = (xs: number[]) => Math.min(...xs);
const worst = (xs: number[]) => Math.max(...xs);

async function main(): Promise<boolean> {
  const total = envBytes('BENCH_QUEUE_BYTES', 1 * GiB);
  const alwaysBytes = envBytes('BENCH_QUEUE_ALWAYS_BYTES', Math.min(total, 128 * MiB));
  const rounds = Math.max(1, Number(process.env.BENCH_QUEUE_ROUNDS ?? 3) || 3);
  const root = await mkdtemp(join(process.env.BENCH_QUEUE_DIR ?? tmpdir(), 'hh-queue-bench-'));
  process.stderr.write(
    `queue bench: ${formatBytes(total)} of ${ENTRY_SIZE}-byte entries, 'always' on ${formatBytes(alwaysBytes)}, ` +
      `${rounds} rounds, in ${root}\n`,
  );
  try {
    const runs: Round[] = [];
    for (let i = 0; i < rounds; i++) {
      process.stderr.write(`round ${i + 1}/${rounds}\n`);
      runs.push(await runRound(root, total, alwaysBytes));
    }
    const appended = Math.floor(total / ENTRY_SIZE) * ENTRY_SIZE;
    const alwaysAppended = Math.floor(alwaysBytes / ENTRY_SIZE) * ENTRY_SIZE;
    const readBest = runs.reduce((x, r) => (r.plainRead.ms < x.plainRead.ms ? r : x)).plainRead;
    const readBaseline = {
      value: rate(readBest.bytes, readBest.ms),
      unit: 'B/s',
      label: `read ${READ_CHUNK / KiB} KiB chunks`,
    };
    const rows: BenchRow[] = [
      {
        label: `append 1 KiB, fsync interval, ${APPEND_WINDOW} in flight`,
        measured: { value: rate(appended, best(runs.map((r) => r.appendMs))), unit: 'B/s' },
        baseline: {
          value: rate(total, best(runs.map((r) => r.plainWriteMs))),
          unit: 'B/s',
          label: 'fs write 64 KiB',
        },
        goal: { min: 0.8 },
      },
      {
        label: `append 1 KiB, fsync always, ${ALWAYS_APPENDERS} appenders`,
        measured: { value: rate(alwaysAppended, best(runs.map((r) => r.alwaysMs))), unit: 'B/s' },
        baseline: {
          value: rate(alwaysBytes, best(runs.map((r) => r.plainSyncedMs))),
          unit: 'B/s',
          label: 'fdatasync per 64 KiB',
        },
        goal: { min: 0.7 },
      },
      {
        label: `drain, peek(${PEEK_BYTES / MiB} MiB) + advance(n)`,
        measured: { value: rate(appended, best(runs.map((r) => r.child.drain.ms))), unit: 'B/s' },
        baseline: readBaseline,
        goal: { min: 0.7 },
      },
      {
        label: 'drain, current() + advance()',
        measured: { value: rate(appended, best(runs.map((r) => r.oneByOne.ms))), unit: 'B/s' },
        baseline: readBaseline,
        goal: { min: 0.7 },
      },
      ...LARGE_ENTRY_SIZES.map((size, i): BenchRow => {
        const plain = runs.reduce((x, r) =>
          r.large[i].plainRead.ms < x.large[i].plainRead.ms ? r : x,
        ).large[i].plainRead;
        const drained = Math.floor(total / size) * size;
        return {
          label: `drain ${formatBytes(size)} entries, peek(${PEEK_BYTES / MiB} MiB) + advance(n)`,
          measured: {
            value: rate(drained, best(runs.map((r) => r.large[i].child.drain.ms))),
            unit: 'B/s',
          },
          baseline: { ...readBaseline, value: rate(plain.bytes, plain.ms) },
          goal: { min: 0.7 },
        };
      }),
      {
        label: `open() of ${formatBytes(total)} in ${SEGMENT_SIZE / MiB} MiB segments, fresh process`,
        measured: { value: best(runs.map((r) => r.child.openMs)), unit: 'ms' },
        goal: { max: 100 },
      },
      {
        label: `open() of the same, warm process (median of ${OPEN_REPEATS})`,
        measured: { value: best(runs.map((r) => r.openWarmMs)), unit: 'ms' },
        goal: { max: 100 },
      },
      {
        label: `peak RSS over the empty process, draining ${formatBytes(total)}`,
        measured: {
          value: worst(runs.map((r) => r.child.rssPeak - r.child.rssEmpty)),
          unit: 'B',
        },
        goal: { max: 64 * MiB },
      },
      ...LARGE_ENTRY_SIZES.map((size, i): BenchRow => ({
        label: `peak RSS over the empty process, the same of ${formatBytes(size)} entries`,
        measured: {
          value: worst(runs.map((r) => r.large[i].child.rssPeak - r.large[i].child.rssEmpty)),
          unit: 'B',
        },
        goal: { max: 64 * MiB },
      })),
    ];
    for (const [i, r] of runs.entries()) {
      for (const [what, c] of [
        ['1 KiB', r.child] as const,
        ...r.large.map((l) => [formatBytes(l.entrySize), l.child] as const),
      ]) {
        process.stdout.write(
          `round ${i + 1}, ${what} entries: drain child RSS empty ${formatBytes(c.rssEmpty)}, after open ${formatBytes(c.rssOpen)}, ` +
            `peak ${formatBytes(c.rssPeak)}, after close ${formatBytes(c.rssAfter)} ` +
            `(sampled every ${RSS_SAMPLE_MS} ms); V8 heap in use after close ${formatBytes(c.heapAfter)}\n`,
        );
      }
    }
    // The block below is meant to be pasted into the README as it is.
    const met = printTable(
      `### DiskBackedQueue benchmark\n\n` +
        `\`npm run bench:queue\` (${formatBytes(total)}, 'always' on ${formatBytes(alwaysBytes)}; ` +
        `node ${process.version}, ${new Date().toISOString().slice(0, 10)}). Best of ${rounds} rounds ` +
        `for the queue and for its baseline, each round running both back to back; RSS is the ` +
        `worst round. Quick run: \`BENCH_QUEUE_BYTES=256MiB npm run bench:queue\`.`,
      rows,
    );
    return met;
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--drain-child') {
  drainChild(process.argv[3]).then(
    (report) => process.send!(report, () => process.exit(0)),
    (err) => {
      process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
      process.exit(1);
    },
  );
} else {
  main().then(
    (met) => {
      // A missed goal is a finding, not a crash: exit 0 so run-all goes on, and say so.
      if (!met) process.stdout.write('Some goals were missed (rows marked NO).\n');
    },
    (err) => {
      process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
      process.exitCode = 1;
    },
  );
}

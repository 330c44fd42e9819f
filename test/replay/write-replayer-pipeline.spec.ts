import { DiskBackedQueue, type QueueEntry } from '../../src/modules/queue/disk-backed-queue';
import { DeadLetterQueue } from '../../src/modules/replay/dead-letter-queue';
import { PermanentWriteError, TransientWriteError } from '../../src/modules/replay/errors';
import { HttpNodeClient } from '../../src/modules/replay/http-node-client';
import type { NodeClient } from '../../src/modules/replay/node-client.interface';
import { WriteReplayer, type WriteReplayerOptions } from '../../src/modules/replay/write-replayer';
import { ManualClock } from '../support/manual-clock';
import { RecordingMetrics } from '../support/recording-metrics';
import { CapturingLogger } from '../support/silent-logger';
import { makeTempDir, removeDir } from '../support/temp-dir';
import { TestSink } from '../support/test-sink';

/** Entries of 30-odd bytes: a 256-byte batch holds 7 or 8 of them. */
const line = (i: number) => `cpu,host=h${i} value=${i}i`;
const BATCH_BYTES = 256;

interface Read {
  skip: number;
  /** Settles when the peek has read its entries. */
  done: Promise<unknown>;
  entries: number;
}

/**
 * A client that answers in memory and sees the queue reads around each send: it records every
 * batch, checks that never two sends overlap, and can be told to fail one batch.
 */
class ScriptedClient implements NodeClient {
  readonly batches: string[][] = [];
  inFlight = 0;
  maxInFlight = 0;
  /** Batch index → how the send of that batch fails. */
  readonly failures = new Map<number, () => Error>();
  /** Called with each batch before it is answered; may wait (the node is slow). */
  onSend: (batch: number, entries: Buffer[]) => Promise<void> | void = () => undefined;
  private calls = 0;

  async send(_nodeId: string, entries: Buffer[]): Promise<void> {
    const index = this.calls++;
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      await this.onSend(index, entries);
      const failure = this.failures.get(index);
      if (failure) {
        const err = failure();
        const delivered = (err as { delivered?: number }).delivered ?? 0;
        this.batches.push(entries.slice(0, delivered).map(String));
        throw err;
      }
      this.batches.push(entries.map(String));
    } finally {
      this.inFlight--;
    }
  }

  received(): string[] {
    return this.batches.flat();
  }
}

describe('WriteReplayer drain pipeline', () => {
  let dir: string;
  let queue: DiskBackedQueue;
  let replayer: WriteReplayer;
  let metrics: RecordingMetrics;
  let reads: Read[];

  beforeEach(async () => {
    dir = await makeTempDir();
    metrics = new RecordingMetrics();
    reads = [];
  });

  afterEach(async () => {
    await replayer?.close();
    await removeDir(dir);
  });

  async function open(client: NodeClient, options: WriteReplayerOptions = {}): Promise<void> {
    queue = new DiskBackedQueue(dir, { fsync: 'never', maxSegmentSize: 4096 });
    // Every read of the replayer is seen, with when it settled.
    const peekEntries = queue.peekEntries.bind(queue);
    queue.peekEntries = (maxBytes: number, maxEntries?: number, skip = 0) => {
      const done = peekEntries(maxBytes, maxEntries, skip);
      const read: Read = { skip, done, entries: -1 };
      reads.push(read);
      void done.then(
        (e: QueueEntry[]) => (read.entries = e.length),
        () => undefined,
      );
      return done;
    };
    replayer = new WriteReplayer(queue, client, metrics, 'n1', {
      deadLetters: new DeadLetterQueue(dir, { fsync: 'never' }),
      logger: new CapturingLogger(),
      jitter: 0,
      replayBatchBytes: BATCH_BYTES,
      ...options,
    });
    await replayer.open();
  }

  async function writeLines(n: number): Promise<string[]> {
    const lines = Array.from({ length: n }, (_, i) => line(i));
    for (const l of lines) await replayer.write(Buffer.from(l));
    return lines;
  }

  it('reads batch k+1 while batch k is in flight, and sends them one at a time, in order', async () => {
    const client = new ScriptedClient();
    // The node answers batch k only once the read of k+1 has finished: without the read-ahead
    // nothing would be read during a send, and the check below would find no read to wait for.
    const overlapped: boolean[] = [];
    client.onSend = async (_batch, entries) => {
      const ahead = reads.at(-1)!;
      overlapped.push(ahead.skip === entries.length);
      if (ahead.skip === entries.length) await ahead.done;
    };
    await open(client);
    const lines = await writeLines(400);
    await replayer.drain();
    expect(client.received()).toEqual(lines);
    expect(client.maxInFlight).toBe(1);
    expect(client.batches.length).toBeGreaterThan(30);
    // Every batch had the next one read while it was in flight.
    expect(overlapped.every(Boolean)).toBe(true);
    // The head was read once; every later batch came from a read-ahead (the last one empty).
    expect(reads.filter((r) => r.skip === 0)).toHaveLength(1);
    expect(reads).toHaveLength(client.batches.length + 1);
    expect(queue.backlog().entries).toBe(0);
    expect(metrics.total('replayed')).toBe(400);
  });

  it('crosses segment boundaries in order with the read-ahead (segments of 4 KiB)', async () => {
    const client = new ScriptedClient();
    await open(client, { replayBatchBytes: 3000 });
    const lines = await writeLines(2000);
    await replayer.drain();
    expect(client.received()).toEqual(lines);
    expect(queue.backlog()).toEqual(expect.objectContaining({ entries: 0, bytes: 0 }));
  });

  it('sends the same bodies and resolves the same bytes as batch-by-batch sendWrite()', async () => {
    const lines = Array.from({ length: 300 }, (_, i) => line(i));
    const runs: { bodies: Buffer[]; bytes: number }[] = [];
    for (const pipelined of [false, true]) {
      const sink = new TestSink();
      await sink.start();
      const client = new HttpNodeClient([{ id: 'n1', url: sink.url }], {
        timeoutMs: 2000,
        format: 'lines',
      });
      const runDir = await makeTempDir();
      const q = new DiskBackedQueue(runDir, { fsync: 'never' });
      const r = new WriteReplayer(q, client, metrics, 'n1', { replayBatchBytes: BATCH_BYTES });
      try {
        await r.open();
        for (const l of lines) await r.write(Buffer.from(l));
        let bytes = 0;
        if (pipelined) bytes = await r.drain();
        else for (let sent = -1; sent !== 0; bytes += sent) sent = await r.sendWrite();
        runs.push({ bodies: sink.accepted, bytes });
      } finally {
        await r.close();
        await client.close();
        await sink.stop();
        await removeDir(runDir);
      }
    }
    expect(runs[1].bodies.map(String)).toEqual(runs[0].bodies.map(String));
    expect(runs[1].bytes).toBe(runs[0].bytes);
    expect(runs[1].bytes).toBe(lines.reduce((a, l) => a + l.length, 0));
  });

  it('loses and duplicates nothing when a batch fails part-way while the next one is read', async () => {
    const client = new ScriptedClient();
    // Batch 3 fails after 2 of its entries went; the read of batch 4 is pending at that point.
    client.failures.set(3, () => new TransientWriteError('reset mid-batch', 2));
    let aheadPending = false;
    client.onSend = (batch) => {
      if (batch === 3) aheadPending = reads.at(-1)!.entries === -1 && reads.at(-1)!.skip > 0;
    };
    await open(client);
    const lines = await writeLines(100);
    await expect(replayer.drain()).rejects.toBeInstanceOf(TransientWriteError);
    expect(aheadPending).toBe(true);
    const sentBefore = client.received().length;
    expect(queue.backlog().entries).toBe(100 - sentBefore);
    expect(replayer.failures()).toBe(1);
    await replayer.drain();
    expect(client.received()).toEqual(lines);
    expect(metrics.total('replayed')).toBe(100);
    expect(replayer.failures()).toBe(0);
  });

  it('bisects a refused batch in the middle of a pipelined drain, and goes on in order', async () => {
    const client = new ScriptedClient();
    const refused = line(37);
    const tryBatch = client.send.bind(client);
    client.send = async (id, entries) => {
      if (entries.some((e) => String(e) === refused)) {
        throw new PermanentWriteError('unable to parse', 0, 400, 'unable to parse');
      }
      return tryBatch(id, entries);
    };
    await open(client);
    const lines = await writeLines(120);
    await replayer.drain();
    expect(client.received()).toEqual(lines.filter((l) => l !== refused));
    const dead = await replayer.deadLetters!.read(10);
    expect(dead.map((d) => String(d.payload))).toEqual([refused]);
    expect(queue.backlog().entries).toBe(0);
  });

  it('sends what was written after the read-ahead found the end, in the same drain', async () => {
    const client = new ScriptedClient();
    client.onSend = async (batch) => {
      if (batch !== 0) return;
      await reads.at(-1)!.done;
      await replayer.write(Buffer.from('late v=1'));
    };
    await open(client);
    const lines = await writeLines(5);
    await replayer.drain();
    expect(client.batches).toEqual([lines, ['late v=1']]);
    expect(queue.backlog().entries).toBe(0);
  });

  it('rejects with a failed read-ahead once the batch in flight is acknowledged, and resends nothing', async () => {
    const client = new ScriptedClient();
    await open(client);
    const peekEntries = queue.peekEntries.bind(queue);
    let failed = false;
    queue.peekEntries = (maxBytes: number, maxEntries?: number, skip = 0) => {
      if (skip > 0 && !failed) {
        failed = true;
        return Promise.reject(new Error('EIO: read failed'));
      }
      return peekEntries(maxBytes, maxEntries, skip);
    };
    const lines = await writeLines(50);
    await expect(replayer.drain()).rejects.toThrow('EIO: read failed');
    expect(client.batches).toHaveLength(1);
    expect(queue.backlog().entries).toBe(50 - client.batches[0].length);
    await replayer.drain();
    expect(client.received()).toEqual(lines);
  });

  it('gives the lock to a purge waiting behind a batch in flight, and drops the read-ahead', async () => {
    const client = new ScriptedClient();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let purge: Promise<unknown> | undefined;
    client.onSend = async (batch) => {
      if (batch !== 1) return;
      // The purge asks for the lock while batch 1 is in flight (and batch 2 is read ahead).
      purge = replayer.purgeAll();
      await gate;
    };
    await open(client);
    await writeLines(100);
    const draining = replayer.drain();
    while (!purge) await new Promise((r) => setImmediate(r));
    release();
    await draining;
    await purge;
    // Batches 0 and 1 went; the purge took the rest, the read-ahead of batch 2 was not sent.
    expect(client.batches).toHaveLength(2);
    expect(client.received()).toEqual(
      Array.from({ length: client.received().length }, (_, i) => line(i)),
    );
    expect(queue.backlog().entries).toBe(0);
    expect(metrics.total('replayed') + metrics.total('purged')).toBe(100);
  });

  it('still waits for the rate limiter before each pipelined send', async () => {
    const clock = new ManualClock();
    const client = new ScriptedClient();
    await open(client, { retryRateLimit: 100, replayBatchBytes: 100, clock });
    for (let i = 0; i < 3; i++) await replayer.write(Buffer.from('z'.repeat(100)));
    const draining = replayer.drain();
    // The full bucket lets the first 100 bytes go; the next batch waits on the limiter's timer.
    while (clock.pending() === 0) await new Promise((r) => setImmediate(r));
    expect(client.batches).toHaveLength(1);
    await clock.advance(999);
    expect(client.batches).toHaveLength(1);
    await clock.advance(1);
    while (clock.pending() === 0) await new Promise((r) => setImmediate(r));
    expect(client.batches).toHaveLength(2);
    await clock.advance(1000);
    await expect(draining).resolves.toBe(300);
    expect(client.batches).toHaveLength(3);
  });
});

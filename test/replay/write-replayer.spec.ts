import { DiskBackedQueue } from '../../src/modules/queue/disk-backed-queue';
import { QueueFullError } from '../../src/modules/queue/errors';
import { DeadLetterQueue } from '../../src/modules/replay/dead-letter-queue';
import {
  NodeTimeoutError,
  NodeUnreachableError,
  TransientWriteError,
} from '../../src/modules/replay/errors';
import { HttpNodeClient } from '../../src/modules/replay/http-node-client';
import type { NodeClient } from '../../src/modules/replay/node-client.interface';
import { WriteReplayer, type WriteReplayerOptions } from '../../src/modules/replay/write-replayer';
import { ManualClock } from '../support/manual-clock';
import { RecordingMetrics } from '../support/recording-metrics';
import { CapturingLogger } from '../support/silent-logger';
import { makeTempDir, removeDir } from '../support/temp-dir';
import { TestSink } from '../support/test-sink';

const line = (i: number, pad = 0) => `cpu,host=h${i} value=${i}i ${'x'.repeat(pad)}`.trimEnd();

describe('WriteReplayer', () => {
  let dir: string;
  let sink: TestSink;
  let client: HttpNodeClient;
  let metrics: RecordingMetrics;
  let logger: CapturingLogger;
  let replayer: WriteReplayer;
  let queue: DiskBackedQueue;
  let queueNow: number;

  beforeEach(async () => {
    dir = await makeTempDir();
    sink = new TestSink();
    await sink.start();
    metrics = new RecordingMetrics();
    logger = new CapturingLogger();
    queueNow = 1_000_000;
  });

  afterEach(async () => {
    await replayer?.close();
    await client?.close();
    await sink.stop();
    await removeDir(dir);
  });

  async function open(
    options: WriteReplayerOptions = {},
    format: 'lines' | 'raw' = 'lines',
    nodeClient?: NodeClient,
  ): Promise<WriteReplayer> {
    client = new HttpNodeClient([{ id: 'n1', url: sink.url }], { timeoutMs: 2000, format });
    queue = new DiskBackedQueue(dir, { fsync: 'never', now: () => queueNow });
    replayer = new WriteReplayer(queue, nodeClient ?? client, metrics, 'n1', {
      deadLetters: new DeadLetterQueue(dir, { fsync: 'never', now: () => queueNow }),
      logger,
      jitter: 0,
      ...options,
    });
    await replayer.open();
    return replayer;
  }

  async function writeLines(n: number, pad = 0): Promise<string[]> {
    const lines: string[] = [];
    for (let i = 0; i < n; i++) {
      lines.push(line(i, pad));
      await replayer.write(Buffer.from(lines[i]));
    }
    return lines;
  }

  it('resolves 0 when the queue is empty', async () => {
    await open();
    await expect(replayer.sendWrite()).resolves.toBe(0);
    expect(sink.requests).toBe(0);
  });

  it('delivers everything handed off while the node was down, once it is up, exactly in order', async () => {
    await open({ replayBatchBytes: 2048 });
    await sink.stop();
    const lines = await writeLines(500);
    await expect(replayer.sendWrite()).rejects.toBeInstanceOf(NodeUnreachableError);
    await expect(replayer.drain()).rejects.toBeInstanceOf(NodeUnreachableError);
    expect(queue.backlog().entries).toBe(500);
    await sink.start();
    const bytes = await replayer.drain();
    expect(sink.lines()).toEqual(lines);
    expect(bytes).toBe(lines.reduce((a, l) => a + l.length, 0));
    expect(queue.backlog().entries).toBe(0);
    expect(metrics.total('replayed')).toBe(500);
    expect(metrics.total('appended')).toBe(500);
  });

  it('drains batch after batch, never one entry per request', async () => {
    await open({ replayBatchBytes: 64 * 1024 });
    const lines = await writeLines(2000);
    await replayer.drain();
    expect(sink.lines()).toEqual(lines);
    expect(sink.requests).toBeLessThanOrEqual(2);
  });

  it('never splits an entry and never exceeds replayBatchBytes unless one entry is larger', async () => {
    const batchBytes = 1000;
    await open({ replayBatchBytes: batchBytes });
    let seed = 3;
    const rnd = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
    const sizes = Array.from({ length: 300 }, () =>
      rnd() < 0.05 ? 1000 + Math.floor(rnd() * 2000) : 20 + Math.floor(rnd() * 400),
    );
    const lines = sizes.map((s, i) => `e${i} ${'y'.repeat(s)}`);
    for (const l of lines) await replayer.write(Buffer.from(l));
    await replayer.drain();
    expect(sink.lines()).toEqual(lines);
    for (const body of sink.accepted) {
      const entries = body.toString().split('\n');
      for (const e of entries) expect(lines).toContain(e);
      const payloadBytes = entries.reduce((a, e) => a + e.length, 0);
      if (entries.length > 1) expect(payloadBytes).toBeLessThanOrEqual(batchBytes);
    }
    expect(sink.accepted.some((b) => b.length > batchBytes)).toBe(true);
  });

  it('caps a batch at replayBatchEntries when set', async () => {
    await open({ replayBatchEntries: 7 });
    const lines = await writeLines(30);
    await replayer.drain();
    expect(sink.lines()).toEqual(lines);
    expect(sink.accepted.map((b) => b.toString().split('\n').length)).toEqual([7, 7, 7, 7, 2]);
  });

  it('dead-letters a refused entry with the node answer, and the entries behind it still arrive', async () => {
    await open();
    sink.refuse.add('host=h7 ');
    const lines = await writeLines(20);
    const bytes = await replayer.drain();
    expect(sink.lines()).toEqual(lines.filter((_, i) => i !== 7));
    expect(bytes).toBe(lines.reduce((a, l, i) => (i === 7 ? a : a + l.length), 0));
    expect(queue.backlog().entries).toBe(0);
    const dlq = replayer.deadLetters!;
    expect(dlq.count()).toBe(1);
    const [dead] = await dlq.read(10);
    expect(dead.payload.toString()).toBe(lines[7]);
    expect(dead.status).toBe(400);
    expect(dead.error).toContain('unable to parse');
    expect(dead.appendedAt).toBe(1_000_000);
    expect(metrics.of('deadLettered')).toEqual([['n1', 1]]);
    expect(metrics.of('replayError')).toEqual([['n1', 'permanent']]);
    const warning = logger.lines.filter((l) => l.includes('dead-lettered'));
    expect(warning).toHaveLength(1);
    expect(warning[0]).not.toContain('host=h7');
  });

  it('bisects a refused joined batch so only the entries refused alone are dead-lettered', async () => {
    await open();
    sink.refuse.add('host=h3 ');
    sink.refuse.add('host=h12 ');
    const lines = await writeLines(16);
    await replayer.drain();
    expect(sink.lines()).toEqual(lines.filter((_, i) => i !== 3 && i !== 12));
    const dead = await replayer.deadLetters!.read(10);
    expect(dead.map((d) => d.payload.toString())).toEqual([lines[3], lines[12]]);
    // 1 refused batch of 16, then halves: far fewer requests than one per entry.
    expect(sink.requests).toBeLessThan(16);
  });

  it('lists and requeues dead letters to the tail of the queue', async () => {
    await open();
    sink.refuse.add('host=h2 ');
    const lines = await writeLines(4);
    await replayer.drain();
    expect(await replayer.deadLetters!.list()).toEqual([
      expect.objectContaining({ index: 0, size: lines[2].length, status: 400 }),
    ]);
    sink.refuse.clear();
    await replayer.write(Buffer.from('later v=1'));
    expect(await replayer.requeueDeadLetters()).toBe(1);
    expect(replayer.deadLetters!.count()).toBe(0);
    await replayer.drain();
    expect(sink.lines()).toEqual([lines[0], lines[1], lines[3], 'later v=1', lines[2]]);
  });

  it.each([
    ['503', { kind: 'status', status: 503 } as const, TransientWriteError],
    ['429', { kind: 'status', status: 429 } as const, TransientWriteError],
    ['connection reset', { kind: 'reset' } as const, NodeUnreachableError],
  ])('keeps the batch at the head on %s and delivers it later', async (_n, mode, type) => {
    await open();
    const lines = await writeLines(10);
    sink.mode = mode;
    await expect(replayer.drain()).rejects.toBeInstanceOf(type);
    expect(queue.backlog().entries).toBe(10);
    expect(replayer.deadLetters!.count()).toBe(0);
    sink.mode = { kind: 'up' };
    await replayer.drain();
    expect(sink.lines()).toEqual(lines);
  });

  it('keeps the batch when the node hangs past the timeout', async () => {
    client = new HttpNodeClient([{ id: 'n1', url: sink.url }], { timeoutMs: 100, format: 'lines' });
    queue = new DiskBackedQueue(dir, { fsync: 'never' });
    replayer = new WriteReplayer(queue, client, metrics, 'n1', { logger, jitter: 0 });
    await replayer.open();
    await replayer.write(Buffer.from('a v=1'));
    sink.mode = { kind: 'hang' };
    await expect(replayer.sendWrite()).rejects.toBeInstanceOf(NodeTimeoutError);
    expect(metrics.of('replayError')).toEqual([['n1', 'timeout']]);
    sink.mode = { kind: 'up' };
    await replayer.sendWrite();
    expect(sink.lines()).toEqual(['a v=1']);
  });

  it('grows the back-off with each failure and resets it on success', async () => {
    await open({ retryIntervalMs: 10, retryMaxIntervalMs: 50 });
    await writeLines(3);
    sink.mode = { kind: 'status', status: 503 };
    const delays: number[] = [];
    for (let i = 0; i < 5; i++) {
      await expect(replayer.sendWrite()).rejects.toThrow();
      delays.push(replayer.backoffMs());
    }
    expect(delays).toEqual([10, 20, 40, 50, 50]);
    expect(metrics.of('backoff').map((a) => a[1])).toEqual([10, 20, 40, 50, 50]);
    expect(metrics.of('nodeUp').at(-1)).toEqual(['n1', false]);
    sink.mode = { kind: 'up' };
    await replayer.sendWrite();
    expect(replayer.backoffMs()).toBe(0);
    expect(replayer.failures()).toBe(0);
    expect(metrics.of('backoff').at(-1)).toEqual(['n1', 0]);
    expect(metrics.of('nodeUp').at(-1)).toEqual(['n1', true]);
  });

  it('advances past exactly the entries a client delivered before failing', async () => {
    const got: string[] = [];
    let fail = true;
    const flaky: NodeClient = {
      async send(_id, entries) {
        if (fail) {
          fail = false;
          got.push(...entries.slice(0, 3).map(String));
          throw new TransientWriteError('dropped mid-batch', 3);
        }
        got.push(...entries.map(String));
      },
    };
    await open({}, 'lines', flaky);
    const lines = await writeLines(8);
    await expect(replayer.sendWrite()).rejects.toBeInstanceOf(TransientWriteError);
    expect(queue.backlog().entries).toBe(5);
    expect(metrics.total('replayed')).toBe(3);
    await replayer.drain();
    expect(got).toEqual(lines);
  });

  it('counts a full queue and rethrows', async () => {
    client = new HttpNodeClient([{ id: 'n1', url: sink.url }], {
      timeoutMs: 1000,
      format: 'lines',
    });
    queue = new DiskBackedQueue(dir, { fsync: 'never', maxSize: 4096, maxSegmentSize: 1024 });
    replayer = new WriteReplayer(queue, client, metrics, 'n1', { logger });
    await replayer.open();
    let err: unknown;
    for (let i = 0; i < 100 && !err; i++) {
      await replayer.write(Buffer.alloc(200, 97)).catch((e) => (err = e));
    }
    expect(err).toBeInstanceOf(QueueFullError);
    expect(metrics.of('queueFull')).toEqual([['n1']]);
  });

  it('purges exactly the entries older than maxAge', async () => {
    const clock = new ManualClock(0);
    await open({ maxAgeMs: 5000, clock });
    for (let i = 0; i < 10; i++) {
      queueNow = i * 1000;
      await replayer.write(Buffer.from(`p${i} v=1`));
    }
    await clock.advanceTo(10_000); // cutoff = 5000: entries stamped 0..4000 go
    const result = await replayer.purgeOld();
    expect(result.entries).toBe(5);
    expect(metrics.of('purged')).toEqual([['n1', 5, 'age']]);
    await replayer.drain();
    expect(sink.lines()).toEqual(['p5 v=1', 'p6 v=1', 'p7 v=1', 'p8 v=1', 'p9 v=1']);
  });

  it('waits for the rate limiter before each send', async () => {
    const clock = new ManualClock();
    await open({ retryRateLimit: 100, replayBatchBytes: 100, clock });
    for (let i = 0; i < 3; i++) await replayer.write(Buffer.from('z'.repeat(100)));
    await replayer.sendWrite(); // the full bucket lets the first 100 bytes go
    let second = false;
    const pending = replayer.sendWrite().then(() => (second = true));
    // The second batch waits on the limiter's timer, not on the node.
    while (clock.pending() === 0) await new Promise((r) => setImmediate(r));
    expect(second).toBe(false);
    expect(sink.requests).toBe(1);
    await clock.advance(1000);
    await pending;
    expect(sink.requests).toBe(2);
  });

  it('lets the send in flight finish on close, and sends nothing after', async () => {
    await open();
    await writeLines(5);
    const draining = replayer.drain();
    await replayer.close();
    await draining;
    const sent = sink.lines().length;
    expect(queue.isOpen()).toBe(false);
    // Reopen: whatever was not acknowledged is still there, nothing lost.
    await replayer.open();
    expect(queue.backlog().entries + sent).toBe(5);
  });
});

import { DiskBackedQueue } from '../../src/modules/queue/disk-backed-queue';
import { QueueFailedError } from '../../src/modules/queue/errors';
import { DeadLetterQueue } from '../../src/modules/replay/dead-letter-queue';
import type { NodeClient } from '../../src/modules/replay/node-client.interface';
import { QueueUnavailableError } from '../../src/modules/replay/queue-healer';
import { WriteReplayer } from '../../src/modules/replay/write-replayer';
import { errno, FaultyFs } from '../support/faulty-fs';
import { ManualClock } from '../support/manual-clock';
import { RecordingMetrics } from '../support/recording-metrics';
import { CapturingLogger } from '../support/silent-logger';
import { makeTempDir, removeDir } from '../support/temp-dir';

/** A node that takes everything and remembers every batch it was sent. */
class RecordingNode implements NodeClient {
  readonly batches: string[][] = [];
  onSend: () => void = () => undefined;
  async send(_node: string, batch: Buffer[]): Promise<void> {
    this.batches.push(batch.map((b) => b.toString()));
    this.onSend();
  }
  lines(): string[] {
    return this.batches.flat();
  }
}

describe('a failed queue heals (replay and hand-off paths)', () => {
  let dir: string;
  let fs: FaultyFs;
  let node: RecordingNode;
  let metrics: RecordingMetrics;
  let logger: CapturingLogger;
  let clock: ManualClock;
  let replayer: WriteReplayer;
  let queue: DiskBackedQueue;

  beforeEach(async () => {
    dir = await makeTempDir();
    fs = new FaultyFs();
    node = new RecordingNode();
    metrics = new RecordingMetrics();
    logger = new CapturingLogger();
    clock = new ManualClock();
    queue = new DiskBackedQueue(dir, { fsync: 'always', fs });
    replayer = new WriteReplayer(queue, node, metrics, 'n1', {
      deadLetters: new DeadLetterQueue(dir, { fsync: 'always' }),
      logger,
      clock,
      jitter: 0,
      retryIntervalMs: 100,
      retryMaxIntervalMs: 1000,
    });
    await replayer.open();
  });

  afterEach(async () => {
    await replayer.close().catch(() => undefined);
    await removeDir(dir);
  });

  async function failQueueOnce(): Promise<void> {
    let fired = false;
    fs.fault = (op, file) => {
      if (op !== 'datasync' || !file.endsWith('.seg') || fired) return undefined;
      fired = true;
      return errno('EIO');
    };
    await expect(replayer.write(Buffer.from('lost?'))).rejects.toThrow('EIO');
    expect(queue.isFailed()).toBe(true);
  }

  it('reopens the failed queue on the next write once the cause is gone, and keeps what was acknowledged', async () => {
    await replayer.write(Buffer.from('a'));
    await failQueueOnce();
    await replayer.write(Buffer.from('b'));
    expect(queue.isFailed()).toBe(false);
    await replayer.drain();
    // 'lost?' was written but its fdatasync failed: at-least-once keeps it if its bytes stayed.
    expect(node.lines().filter((l) => l !== 'lost?')).toEqual(['a', 'b']);
    expect(metrics.of('queueReopened')).toEqual([['n1', true]]);
    expect(logger.lines.filter((l) => l.includes('queue failed'))).toHaveLength(1);
    expect(logger.lines.filter((l) => l.includes('queue reopened'))).toHaveLength(1);
  });

  it('replay reopens the failed queue and delivers every entry once', async () => {
    for (const l of ['a', 'b', 'c']) await replayer.write(Buffer.from(l));
    await failQueueOnce();
    await replayer.drain();
    expect(node.lines().filter((l) => l !== 'lost?')).toEqual(['a', 'b', 'c']);
    expect(queue.backlog().entries).toBe(0);
  });

  it('a hand-off arriving while the heal has the queue closed for reopening waits for it', async () => {
    await replayer.write(Buffer.from('a'));
    await failQueueOnce();
    // The hand-off arrives in the middle of the reopen, as its recovery opens the segment.
    let during: Promise<void> | null = null;
    fs.fault = (op, file) => {
      if (op === 'open' && file.endsWith('.seg') && !during) {
        expect(queue.isOpen()).toBe(false);
        during = replayer.write(Buffer.from('b'));
      }
      return undefined;
    };
    expect(await replayer.heal()).toBe(true);
    expect(during).not.toBeNull();
    await expect(during).resolves.toBeUndefined();
    await replayer.drain();
    expect(node.lines().filter((l) => l !== 'lost?')).toEqual(['a', 'b']);
  });

  it('backs off reopening while the cause persists, logging the failure once, then heals', async () => {
    await replayer.write(Buffer.from('a'));
    await failQueueOnce();
    fs.fault = (op) => (op === 'open' ? errno('EMFILE') : undefined);
    await expect(replayer.drain()).rejects.toThrow('EMFILE');
    // Not due yet: no reopen attempt, a clear error.
    await expect(replayer.drain()).rejects.toBeInstanceOf(QueueUnavailableError);
    await expect(replayer.write(Buffer.from('x'))).rejects.toBeInstanceOf(QueueFailedError);
    expect(replayer.healDueInMs()).toBe(100);
    await clock.advance(100);
    await expect(replayer.drain()).rejects.toThrow('EMFILE');
    expect(replayer.healDueInMs()).toBe(200);
    expect(logger.lines.filter((l) => l.includes('cannot be reopened'))).toHaveLength(1);
    fs.fault = () => undefined;
    await clock.advance(200);
    await replayer.drain();
    expect(node.lines().filter((l) => l !== 'lost?')).toEqual(['a']);
    await replayer.write(Buffer.from('b'));
    await replayer.drain();
    expect(node.lines().filter((l) => l !== 'lost?')).toEqual(['a', 'b']);
  });

  it('never sends a batch again when the send succeeded but the advance failed', async () => {
    for (const l of ['a', 'b', 'c']) await replayer.write(Buffer.from(l));
    // The node takes the batch; then the position cannot be made durable.
    node.onSend = () => {
      fs.fault = (op, file) =>
        op === 'datasync' && file === 'position' ? errno('EIO') : undefined;
    };
    await expect(replayer.drain()).rejects.toThrow('EIO');
    // The back-off was not reset by the send whose advance failed.
    expect(replayer.failures()).toBe(0);
    node.onSend = () => undefined;
    fs.fault = () => undefined;
    await replayer.drain();
    await replayer.write(Buffer.from('d'));
    await replayer.drain();
    expect(node.batches).toEqual([['a', 'b', 'c'], ['d']]);
    expect(queue.backlog().entries).toBe(0);
  });

  it('never sends a batch again when the queue failed during its advance, and reopens it', async () => {
    for (const l of ['a', 'b', 'c']) await replayer.write(Buffer.from(l));
    await replayer.close();
    // 'interval': the advance stays in memory; the tick's fdatasync of the position then fails.
    queue = new DiskBackedQueue(dir, { fsync: 'always', fs });
    replayer = new WriteReplayer(queue, node, metrics, 'n1', { logger, clock, jitter: 0 });
    await replayer.open();
    node.onSend = () => {
      // The advance's durable position write fails: the queue is not failed by that alone, so
      // fail it too (as a failed tail sync would) to take the reopen path.
      fs.fault = (op) => (op === 'datasync' ? errno('EIO') : undefined);
      void queue.append(Buffer.from('z')).catch(() => undefined);
    };
    await expect(replayer.drain()).rejects.toThrow();
    node.onSend = () => undefined;
    fs.fault = () => undefined;
    await replayer.drain();
    const sent = node.lines().filter((l) => l !== 'z');
    expect(sent).toEqual(['a', 'b', 'c']);
  });
});

import { DiskBackedQueue } from '../../src/modules/queue/disk-backed-queue';
import { DeadLetterQueue } from '../../src/modules/replay/dead-letter-queue';
import { PermanentWriteError, TransientWriteError } from '../../src/modules/replay/errors';
import type { NodeClient } from '../../src/modules/replay/node-client.interface';
import type { PartitionedEntry } from '../../src/modules/replay/replay-lanes';
import { WriteReplayer } from '../../src/modules/replay/write-replayer';
import { RecordingMetrics } from '../support/recording-metrics';
import { CapturingLogger } from '../support/silent-logger';
import { makeTempDir, removeDir } from '../support/temp-dir';

/**
 * A node that keeps the last value per key. Entries are `key=value;key=value` (or `!barrier`);
 * the client partitions them by key, so the replayer sends a batch in lanes.
 */
class KeyValueNode implements NodeClient {
  readonly state = new Map<string, string>();
  readonly sends: string[][] = [];
  inFlight = 0;
  maxInFlight = 0;
  /** Throws for a send containing this text, once per arming. */
  failOn?: { text: string; err: () => Error };
  refuse = new Set<string>();

  partition(entry: Buffer, lanes: number): PartitionedEntry<Buffer> {
    const text = entry.toString();
    if (text.startsWith('!')) return { barrier: true };
    const byLane = new Map<number, string[]>();
    for (const pair of text.split(';')) {
      const lane = Number(pair.split('=')[0].slice(1)) % lanes;
      byLane.set(lane, [...(byLane.get(lane) ?? []), pair]);
    }
    return {
      pieces: [...byLane].map(([lane, pairs]) => ({ lane, piece: Buffer.from(pairs.join(';')) })),
    };
  }

  async send(_node: string, entries: Buffer[]): Promise<void> {
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    await new Promise((r) => setTimeout(r, 2));
    this.inFlight--;
    const texts = entries.map((e) => e.toString());
    this.sends.push(texts);
    for (const [i, text] of texts.entries()) {
      if (this.failOn && text.includes(this.failOn.text)) {
        const err = this.failOn.err();
        this.failOn = undefined;
        Object.assign(err, { delivered: i });
        throw err;
      }
      if (text.split(';').some((pair) => this.refuse.has(pair)))
        throw new PermanentWriteError(`refused ${text}`, i, 400);
      if (text.startsWith('!')) continue;
      for (const pair of text.split(';')) {
        const [k, v] = pair.split('=');
        this.state.set(k, v);
      }
    }
  }
}

describe('WriteReplayer with a client that partitions its entries (lanes)', () => {
  let dir: string;
  let replayer: WriteReplayer;
  let queue: DiskBackedQueue;
  let node: KeyValueNode;

  beforeEach(async () => {
    dir = await makeTempDir();
    node = new KeyValueNode();
  });

  afterEach(async () => {
    await replayer?.close();
    await removeDir(dir);
  });

  async function open(lanes: number, client: NodeClient = node): Promise<void> {
    queue = new DiskBackedQueue(dir, { fsync: 'never' });
    replayer = new WriteReplayer(queue, client, new RecordingMetrics(), 'n1', {
      deadLetters: new DeadLetterQueue(dir, { fsync: 'never' }),
      logger: new CapturingLogger(),
      jitter: 0,
      replayLanes: lanes,
      replayBatchBytes: 1024 * 1024,
    });
    await replayer.open();
  }

  /** Entry k sets k0..k7 to k. */
  const writeAll = async (n: number, from = 0) => {
    for (let k = from; k < from + n; k++) {
      await replayer.write(
        Buffer.from(Array.from({ length: 8 }, (_, i) => `k${i}=${k}`).join(';')),
      );
    }
  };
  const lastValues = (k: number) => new Map(Array.from({ length: 8 }, (_, i) => [`k${i}`, `${k}`]));

  it('sends a batch as one send per lane at once, and every key ends on its last value', async () => {
    await open(4);
    await writeAll(20);
    await replayer.drain();
    expect(node.maxInFlight).toBe(4);
    expect(node.state).toEqual(lastValues(19));
    expect(queue.backlog().entries).toBe(0);
  });

  it('without lanes configured (or without partition) sends strictly one batch at a time', async () => {
    await open(1);
    await writeAll(20);
    await replayer.drain();
    expect(node.maxInFlight).toBe(1);
    expect(node.sends).toHaveLength(1);
    expect(node.state).toEqual(lastValues(19));
  });

  it('on a lane that fails, advances only past what every lane took and sends the rest again', async () => {
    await open(4);
    await writeAll(20);
    node.failOn = { text: 'k1=7', err: () => new TransientWriteError('lane down') };
    await expect(replayer.drain()).rejects.toThrow('lane down');
    // Entries 0..6 went through on every lane; 7 and on wait.
    expect(queue.backlog().entries).toBe(13);
    await replayer.drain();
    expect(node.state).toEqual(lastValues(19));
    expect(queue.backlog().entries).toBe(0);
  });

  it('drains every lane before a barrier, and dead-letters only the entry a lane refuses', async () => {
    await open(4);
    await writeAll(5);
    await replayer.write(Buffer.from('!barrier'));
    await writeAll(5, 10);
    node.refuse.add('k2=3');
    await replayer.drain();
    const barrierAt = node.sends.findIndex((s) => s.includes('!barrier'));
    expect(node.sends[barrierAt]).toEqual(['!barrier']);
    // Every send before the barrier holds entries before it, every send after it entries after.
    const values = (texts: string[]) =>
      texts.flatMap((t) => t.split(';').map((p) => Number(p.split('=')[1])));
    expect(
      node.sends
        .slice(0, barrierAt)
        .flatMap(values)
        .every((v) => v < 10),
    ).toBe(true);
    expect(
      node.sends
        .slice(barrierAt + 1)
        .flatMap(values)
        .every((v) => v >= 10),
    ).toBe(true);
    expect(node.state).toEqual(lastValues(14));
    const letters = await replayer.deadLetters!.read(10);
    expect(letters.map((l) => l.payload.toString())).toEqual([
      Array.from({ length: 8 }, (_, i) => `k${i}=3`).join(';'),
    ]);
  });
});

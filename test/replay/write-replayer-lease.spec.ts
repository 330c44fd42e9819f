/**
 * The replayer's lease gate (`mayReplay`, the JetStream store's replay lease): nothing is read
 * or sent while it says no, a lease lost during a send leaves the batch at the head (the next
 * holder sends it), and entries owed from before a lost lease are never passed unsent.
 */
import { DiskBackedQueue } from '../../src/modules/queue/disk-backed-queue';
import { LeaseNotHeldError } from '../../src/modules/replay/errors';
import type { NodeClient } from '../../src/modules/replay/node-client.interface';
import { WriteReplayer } from '../../src/modules/replay/write-replayer';
import { RecordingMetrics } from '../support/recording-metrics';
import { CapturingLogger } from '../support/silent-logger';
import { makeTempDir, removeDir } from '../support/temp-dir';

async function until(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((resolve) => setTimeout(resolve, 5));
}

describe('WriteReplayer under a replay lease', () => {
  let dir: string;
  let queue: DiskBackedQueue;
  let replayer: WriteReplayer;
  let held: boolean;
  const sent: string[][] = [];
  /** Runs during each send, before it resolves. */
  let duringSend: () => void | Promise<void> = () => undefined;

  const client: NodeClient = {
    send: async (_node, batch) => {
      sent.push(batch.map((b) => Buffer.from(b).toString()));
      await duringSend();
    },
  };

  beforeEach(async () => {
    dir = await makeTempDir();
    held = true;
    sent.length = 0;
    duringSend = () => undefined;
    queue = new DiskBackedQueue(dir, { fsync: 'never' });
    replayer = new WriteReplayer(queue, client, new RecordingMetrics(), 'n1', {
      logger: new CapturingLogger(),
      replayBatchEntries: 2,
      mayReplay: () => held,
    });
    await replayer.open();
    for (let i = 0; i < 6; i++) await replayer.write(Buffer.from(`e${i}`));
  });

  afterEach(async () => {
    await replayer.close();
    await removeDir(dir);
  });

  it('reads and sends nothing while the lease is not held', async () => {
    held = false;
    await expect(replayer.drain()).resolves.toBe(0);
    await expect(replayer.sendWrite()).resolves.toBe(0);
    expect(sent).toEqual([]);
    expect(queue.backlog().entries).toBe(6);
  });

  it('stops a drain once the lease is gone: no further batch, no advance past the one in flight', async () => {
    duringSend = () => {
      if (sent.length === 2) held = false;
    };
    await expect(replayer.drain()).rejects.toBeInstanceOf(LeaseNotHeldError);
    expect(sent).toEqual([
      ['e0', 'e1'],
      ['e2', 'e3'],
    ]);
    // The first batch was advanced past; the second was sent as the lease went: it stays.
    expect(queue.backlog().entries).toBe(4);
    expect((await queue.peek(1024, 1)).map(String)).toEqual(['e2']);
  });

  it('does not advance past a batch whose send outlived the lease', async () => {
    duringSend = () => {
      held = false;
    };
    await expect(replayer.sendWrite()).rejects.toBeInstanceOf(LeaseNotHeldError);
    expect(queue.backlog().entries).toBe(6);
    held = true;
    duringSend = () => undefined;
    // Sent again by whoever holds the lease next: at least once, never skipped.
    await replayer.drain();
    expect(sent.flat()).toEqual(['e0', 'e1', 'e0', 'e1', 'e2', 'e3', 'e4', 'e5']);
  });

  /** The node takes e0 e1, then the advance fails: they are owed, to be passed unsent. */
  async function oweTheFirstBatch(): Promise<void> {
    const advance = queue.advance.bind(queue);
    let failAdvance = true;
    jest.spyOn(queue, 'advance').mockImplementation((n) => {
      if (failAdvance) return Promise.reject(new Error('advance failed'));
      return advance(n);
    });
    await expect(replayer.sendWrite()).rejects.toThrow('advance failed');
    failAdvance = false;
  }

  it('never passes entries owed from before a lost lease', async () => {
    await oweTheFirstBatch();
    // The lease is lost and won back: another relay may have moved the head meanwhile, so the
    // owed entries are forgotten and read again from the head as it is.
    replayer.stopReading();
    await replayer.drain();
    expect(sent.flat()).toEqual(['e0', 'e1', 'e0', 'e1', 'e2', 'e3', 'e4', 'e5']);
    expect(queue.backlog().entries).toBe(0);
  });

  it('never passes entries whose advance failed after the lease was lost mid-advance', async () => {
    const advance = queue.advance.bind(queue);
    let failNext: ((err: Error) => void) | null = null;
    jest.spyOn(queue, 'advance').mockImplementation((n) => {
      if (sent.length === 1 && !failNext) {
        return new Promise<void>((_resolve, reject) => (failNext = reject));
      }
      return advance(n);
    });
    const first = replayer.sendWrite();
    await until(() => failNext !== null);
    // The lease goes while the advance is in flight; then the advance fails.
    replayer.stopReading();
    failNext!(new Error('advance failed'));
    await expect(first).rejects.toThrow('advance failed');
    await replayer.drain();
    expect(sent.flat()).toEqual(['e0', 'e1', 'e0', 'e1', 'e2', 'e3', 'e4', 'e5']);
  });

  it('passes owed entries unsent when the lease was kept', async () => {
    await oweTheFirstBatch();
    await replayer.drain();
    expect(sent.flat()).toEqual(['e0', 'e1', 'e2', 'e3', 'e4', 'e5']);
  });
});

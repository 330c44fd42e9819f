import * as path from 'node:path';
import { DiskBackedQueue } from '../../src/modules/queue/disk-backed-queue';
import { QueueFullError } from '../../src/modules/queue/errors';
import { DeadLetterQueue } from '../../src/modules/replay/dead-letter-queue';
import { makeTempDir, removeDir } from './support/temp-dir';

async function contents(queue: DiskBackedQueue): Promise<string[]> {
  return (await queue.peek(Number.MAX_SAFE_INTEGER)).map((b) => b.toString());
}

describe('DeadLetterQueue requeue', () => {
  let dir: string;
  const open: Array<DiskBackedQueue | DeadLetterQueue> = [];

  beforeEach(async () => {
    dir = await makeTempDir();
  });

  afterEach(async () => {
    for (const q of open.splice(0)) await q.close();
    await removeDir(dir);
  });

  async function opened<T extends DiskBackedQueue | DeadLetterQueue>(q: T): Promise<T> {
    await q.open();
    open.push(q);
    return q;
  }

  it('moves each dead letter once when a requeue fails part-way and is retried', async () => {
    const dlq = await opened(new DeadLetterQueue(path.join(dir, 'node'), { fsync: 'never' }));
    for (const p of ['a', 'b', 'c']) await dlq.add(Buffer.from(p), 1, 'HTTP 400');
    // Room for two one-byte records (24 + 1 bytes each), not three.
    const small = await opened(new DiskBackedQueue(path.join(dir, 'small'), { maxSize: 60 }));
    await expect(dlq.requeue(small)).rejects.toBeInstanceOf(QueueFullError);
    expect(await contents(small)).toEqual(['a', 'b']);
    // Only the letter that did not fit is left to move.
    expect(dlq.count()).toBe(1);

    const big = await opened(new DiskBackedQueue(path.join(dir, 'big')));
    await expect(dlq.requeue(big)).resolves.toBe(1);
    expect(await contents(big)).toEqual(['c']);
    expect(dlq.count()).toBe(0);
  });
});

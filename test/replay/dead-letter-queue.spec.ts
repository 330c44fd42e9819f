import { readdir, readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { DiskBackedQueue } from '../../src/modules/queue/disk-backed-queue';
import { QueueFullError } from '../../src/modules/queue/errors';
import { encodeDeadLetter } from '../../src/modules/replay/dead-letter-envelope';
import { DEAD_LETTER_DIR, DeadLetterQueue } from '../../src/modules/replay/dead-letter-queue';
import { makeTempDir, removeDir } from '../support/temp-dir';

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

  it('hands out dead letters from read() that keep their bytes after a requeue and later reads', async () => {
    const dlq = await opened(
      new DeadLetterQueue(path.join(dir, 'node'), { fsync: 'never', maxSegmentSize: 1024 * 1024 }),
    );
    // Letters spanning many read windows, so the queue reads into windows again once passed.
    const letter = (i: number) => Buffer.alloc(200 * 1024, 97 + (i % 26));
    for (let i = 0; i < 12; i++) await dlq.add(letter(i), 1, 'HTTP 400');
    const kept = await dlq.read(2);
    const big = await opened(new DiskBackedQueue(path.join(dir, 'big')));
    await expect(dlq.requeue(big)).resolves.toBe(12);
    for (let i = 12; i < 24; i++) await dlq.add(letter(i), 1, 'HTTP 400');
    expect((await dlq.read(12)).map((d) => d.payload[0])).toEqual(
      Array.from({ length: 12 }, (_, k) => 97 + ((12 + k) % 26)),
    );
    expect(kept.map((d) => d.payload.equals(letter(kept.indexOf(d))))).toEqual([true, true]);
  });

  /** Records the envelope cannot decode, stored between good letters 'a' and 'b'. */
  const DAMAGED = [
    Buffer.from('not an envelope at all'),
    Buffer.concat([Buffer.from([0, 0, 0, 3]), Buffer.from('{x}payload')]),
    encodeDeadLetter(Buffer.from('p'), { appendedAt: 1, at: 2, error: 'e' }).fill(0x20, 4, 6),
  ];

  async function withDamaged(): Promise<DeadLetterQueue> {
    const dlq = await opened(
      new DeadLetterQueue(path.join(dir, 'node'), { fsync: 'never', now: () => 7000 }),
    );
    await dlq.add(Buffer.from('a'), 1, 'HTTP 400', 400);
    for (const record of DAMAGED) await dlq.queue.append(record);
    await dlq.add(Buffer.from('b'), 2, 'HTTP 400', 400);
    return dlq;
  }

  it('lists a dead letter it cannot decode as damaged, with its size, and the letters after it', async () => {
    const dlq = await withDamaged();
    const listed = await dlq.list();
    expect(listed.map((l) => l.index)).toEqual([0, 1, 2, 3, 4]);
    expect(listed[0]).toMatchObject({ size: 1, status: 400, error: 'HTTP 400' });
    expect(listed[0].damaged).toBeUndefined();
    for (const [i, record] of DAMAGED.entries()) {
      expect(listed[i + 1]).toMatchObject({ damaged: true, size: record.length });
      expect(listed[i + 1].error).toMatch(/^damaged dead-letter record: /);
      // When it was dead-lettered is the dead-letter queue's own append time.
      expect(listed[i + 1].at).toBe(new Date(7000).toISOString());
    }
    expect(listed[4]).toMatchObject({ size: 1, error: 'HTTP 400' });
  });

  it('requeues the letters around a damaged one and keeps the damaged records aside under corrupt/, byte for byte', async () => {
    const dlq = await withDamaged();
    const target = await opened(new DiskBackedQueue(path.join(dir, 'target')));
    await expect(dlq.requeue(target)).resolves.toBe(2);
    // Never sent as if it were a payload, never deleted silently.
    expect(await contents(target)).toEqual(['a', 'b']);
    expect(dlq.count()).toBe(0);
    const corrupt = path.join(dir, 'node', DEAD_LETTER_DIR, 'corrupt');
    const kept = (await readdir(corrupt)).sort();
    expect(kept).toHaveLength(DAMAGED.length);
    const bytes = await Promise.all(kept.map((f) => readFile(path.join(corrupt, f))));
    expect(bytes.map((b) => b.toString('base64')).sort()).toEqual(
      DAMAGED.map((b) => b.toString('base64')).sort(),
    );
    // A later requeue finds nothing left to move or keep.
    await dlq.add(Buffer.from('c'), 3, 'HTTP 400');
    await expect(dlq.requeue(target)).resolves.toBe(1);
    expect(await readdir(corrupt)).toHaveLength(DAMAGED.length);
  });
});

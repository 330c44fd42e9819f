import { QueueFullError } from '../../src/modules/queue';
import { HEADER_SIZE, SEAL_SIZE, segmentFileName } from '../../src/modules/queue/segment-format';
import { QueueFixture } from './queue-test-helpers';

describe('DiskBackedQueue filled to maxSize, then drained', () => {
  const fx = new QueueFixture();
  beforeEach(() => fx.setup());
  afterEach(() => fx.teardown());

  it('takes appends again once everything was read, with maxSize equal to maxSegmentSize', async () => {
    // Ten 100-byte records and a seal fill the one segment (and the whole queue).
    const record = 100;
    const segment = 10 * record + SEAL_SIZE;
    const q = await fx.open({ maxSize: segment, maxSegmentSize: segment, fsync: 'never' });
    const payload = () => Buffer.alloc(record - HEADER_SIZE, 1);
    for (let i = 0; i < 9; i++) await q.append(payload());
    await q.advance(9);
    expect(q.backlog().entries).toBe(0);
    // One more fits the tail; the next needs a roll while the full tail is all read.
    await q.append(payload());
    await q.advance(1);
    expect(q.backlog().entries).toBe(0);
    await expect(q.append(payload())).resolves.toBeUndefined();
    expect(q.backlog().entries).toBe(1);
    // The read segment is passed and unlinked with the roll: the disk stays within maxSize.
    expect(await q.peek(Infinity)).toHaveLength(1);
    expect(await fx.segmentFiles()).toEqual([segmentFileName(2)]);
    expect(q.diskUsage()).toBeLessThanOrEqual(segment);
    await q.close();
    const again = await fx.open({ maxSize: segment, maxSegmentSize: segment, fsync: 'never' });
    expect(again.backlog().entries).toBe(1);
  });

  it('still refuses what does not fit beside unread entries', async () => {
    const record = 100;
    const segment = 10 * record + SEAL_SIZE;
    const q = await fx.open({ maxSize: segment, maxSegmentSize: segment, fsync: 'never' });
    for (let i = 0; i < 10; i++) await q.append(Buffer.alloc(record - HEADER_SIZE, 1));
    await q.advance(9);
    await expect(q.append(Buffer.alloc(record - HEADER_SIZE))).rejects.toBeInstanceOf(
      QueueFullError,
    );
  });
});

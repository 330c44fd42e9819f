import { access } from 'node:fs/promises';
import { join } from 'node:path';
import {
  DiskBackedQueue,
  QueueFullError,
  QueueNotOpenError,
  QueueOpenError,
  SegmentFullError,
} from '../../src/modules/queue';
import { HEADER_SIZE, SEAL_SIZE, segmentFileName } from '../../src/modules/queue/segment-format';
import { buf, drain, peekAll, QueueFixture, until } from './queue-test-helpers';

const exists = (p: string) =>
  access(p).then(
    () => true,
    () => false,
  );

describe('DiskBackedQueue (the Go suite)', () => {
  const fx = new QueueFixture();
  beforeEach(() => fx.setup());
  afterEach(() => fx.teardown());

  it('appends one entry and reads it back', async () => {
    const q = await fx.open();
    await q.append(buf('test'));
    expect((await q.current())?.toString()).toBe('test');
    expect(q.backlog()).toEqual({ entries: 1, bytes: 4, oldest: expect.any(Date) });
    await q.advance();
    expect(await q.current()).toBeNull();
    expect(q.backlog()).toEqual({ entries: 0, bytes: 0, oldest: null });
  });

  it('appends several entries and reads them back in order', async () => {
    const q = await fx.open();
    for (let i = 0; i < 5; i++) await q.append(buf(`test ${i}`));
    expect(await drain(q)).toEqual(['test 0', 'test 1', 'test 2', 'test 3', 'test 4']);
  });

  it('advances past the end of a segment: the old file is deleted (at the next tick) and the next one read', async () => {
    // Room for exactly two 4-byte entries per segment.
    const q = await fx.open({
      maxSegmentSize: 2 * (HEADER_SIZE + 4) + SEAL_SIZE,
      fsyncIntervalMs: 20,
    });
    for (const s of ['aaaa', 'bbbb', 'cccc']) await q.append(buf(s));
    expect(await fx.segmentFiles()).toEqual([segmentFileName(1), segmentFileName(2)]);
    await q.advance();
    await q.advance();
    expect((await q.current())?.toString()).toBe('cccc');
    await until(async () => (await fx.segmentFiles()).length === 1, 'segment 1 to go');
    expect(await fx.segmentFiles()).toEqual([segmentFileName(2)]);
    expect(q.position()).toEqual({ segment: 2, offset: 0 });
  });

  it('rejects an append that would pass maxSize with QueueFullError and writes nothing', async () => {
    const q = await fx.open({ maxSize: 3 * (HEADER_SIZE + 10) });
    for (let i = 0; i < 3; i++) await q.append(Buffer.alloc(10, i));
    const usage = q.diskUsage();
    await expect(q.append(Buffer.alloc(10))).rejects.toMatchObject({ code: 'ERR_QUEUE_FULL' });
    await expect(q.append(Buffer.alloc(1))).rejects.toBeInstanceOf(QueueFullError);
    expect(q.diskUsage()).toBe(usage);
    expect(q.backlog().entries).toBe(3);
  });

  it('keeps the head across close and reopen', async () => {
    const q = await fx.open();
    for (const s of ['one', 'two', 'three']) await q.append(buf(s));
    await q.advance();
    const pos = q.position();
    await q.close();
    const again = await fx.open();
    expect(again.position()).toEqual(pos);
    expect(again.backlog()).toMatchObject({ entries: 2, bytes: 8 });
    expect(await drain(again)).toEqual(['two', 'three']);
  });

  it('purges data older than a time, whole segments first', async () => {
    let clock = 1000;
    const q = await fx.open({
      now: () => clock,
      maxSegmentSize: 2 * (HEADER_SIZE + 3) + SEAL_SIZE,
    });
    for (const s of ['old', 'old', 'old']) {
      await q.append(buf(s));
      clock += 10;
    }
    clock = 5000;
    await q.append(buf('new'));
    const result = await q.purgeOlderThan(new Date(2000));
    expect(result).toEqual({ entries: 3, bytes: 9, segments: 1 });
    expect(await peekAll(q)).toEqual(['new']);
    expect(q.backlog()).toEqual({ entries: 1, bytes: 3, oldest: new Date(5000) });
  });

  it('refuses to remove an open queue with QueueOpenError, and removes a closed one', async () => {
    const q = await fx.open();
    await q.append(buf('x'));
    await expect(q.remove()).rejects.toBeInstanceOf(QueueOpenError);
    await expect(q.remove()).rejects.toMatchObject({ code: 'ERR_QUEUE_OPEN' });
    expect(await exists(q.dir)).toBe(true);
    await q.close();
    await q.remove();
    expect(await exists(q.dir)).toBe(false);
  });
});

describe('DiskBackedQueue basics', () => {
  const fx = new QueueFixture();
  beforeEach(() => fx.setup());
  afterEach(() => fx.teardown());

  it('rejects every call on a closed queue with QueueNotOpenError', async () => {
    const q = fx.create();
    await expect(q.append(buf('x'))).rejects.toBeInstanceOf(QueueNotOpenError);
    await expect(q.current()).rejects.toMatchObject({ code: 'ERR_QUEUE_NOT_OPEN' });
    await expect(q.peek(10)).rejects.toBeInstanceOf(QueueNotOpenError);
    await expect(q.peekEntries(10)).rejects.toBeInstanceOf(QueueNotOpenError);
    await expect(q.advance()).rejects.toBeInstanceOf(QueueNotOpenError);
    await expect(q.purgeOlderThan(new Date())).rejects.toBeInstanceOf(QueueNotOpenError);
    expect(() => q.diskUsage()).toThrow(QueueNotOpenError);
    expect(() => q.backlog()).toThrow(QueueNotOpenError);
    expect(() => q.lastModified()).toThrow(QueueNotOpenError);
    expect(() => q.position()).toThrow(QueueNotOpenError);
    expect(() => q.setMaxSegmentSize(1000)).toThrow(QueueNotOpenError);
    expect(() => q.corruptCount()).toThrow(QueueNotOpenError);
    expect(q.isOpen()).toBe(false);
  });

  it('opens idempotently and closes twice safely', async () => {
    const q = fx.create();
    await Promise.all([q.open(), q.open()]);
    await q.open();
    expect(q.isOpen()).toBe(true);
    await q.close();
    await q.close();
    expect(q.isOpen()).toBe(false);
  });

  it('names segments by zero-padded number and rolls when the tail would pass maxSegmentSize', async () => {
    const q = await fx.open({ maxSegmentSize: HEADER_SIZE + 10 + SEAL_SIZE });
    for (let i = 0; i < 3; i++) await q.append(Buffer.alloc(10, i));
    expect(await fx.segmentFiles()).toEqual([
      '00000000000000000001.seg',
      '00000000000000000002.seg',
      '00000000000000000003.seg',
    ]);
    expect(q.diskUsage()).toBe(3 * (HEADER_SIZE + 10) + 2 * SEAL_SIZE);
  });

  it('rejects an entry larger than a segment with SegmentFullError and writes nothing', async () => {
    const q = await fx.open({ maxSegmentSize: 1000 });
    await expect(q.append(Buffer.alloc(1000))).rejects.toBeInstanceOf(SegmentFullError);
    await expect(q.append(Buffer.alloc(1000 - HEADER_SIZE - SEAL_SIZE + 1))).rejects.toMatchObject({
      code: 'ERR_SEGMENT_FULL',
    });
    expect(q.diskUsage()).toBe(0);
    await q.append(Buffer.alloc(1000 - HEADER_SIZE - SEAL_SIZE));
    expect(q.backlog().entries).toBe(1);
  });

  it('peeks at least one entry even when it is larger than maxBytes, without moving the head', async () => {
    const q = await fx.open();
    await q.append(Buffer.alloc(100, 1));
    await q.append(Buffer.alloc(10, 2));
    await q.append(Buffer.alloc(10, 3));
    expect((await q.peek(5)).map((b) => b.length)).toEqual([100]);
    expect((await q.peek(120)).map((b) => b.length)).toEqual([100, 10, 10]);
    expect((await q.peek(1000, 2)).map((b) => b.length)).toEqual([100, 10]);
    expect(q.backlog().entries).toBe(3);
    const entries = await q.peekEntries(1000);
    expect(entries.map((e) => typeof e.appendedAt)).toEqual(['number', 'number', 'number']);
  });

  it('advances n entries at once and clamps at the end; advance on an empty queue does nothing', async () => {
    const q = await fx.open({ maxSegmentSize: 200 });
    for (let i = 0; i < 10; i++) await q.append(buf(`e${i}`));
    await q.advance(3);
    expect((await q.current())?.toString()).toBe('e3');
    await q.advance(100);
    expect(await q.current()).toBeNull();
    expect(q.backlog().entries).toBe(0);
    const pos = q.position();
    await q.advance();
    expect(q.position()).toEqual(pos);
  });

  it('stamps append times from the injected clock and reports the oldest', async () => {
    let clock = 42_000;
    const q = await fx.open({ now: () => clock });
    await q.append(buf('a'));
    clock = 43_000;
    await q.append(buf('b'));
    expect((await q.peekEntries(100)).map((e) => e.appendedAt)).toEqual([42_000, 43_000]);
    expect(q.backlog().oldest).toEqual(new Date(42_000));
    expect(q.lastModified()).toEqual(new Date(43_000));
    await q.advance();
    expect(q.backlog().oldest).toEqual(new Date(43_000));
  });

  it('delivers entries larger than a read window after a reopen, none counted corrupt', async () => {
    // A relay hand-off of 5 000 points is ~370 KB: bigger than one read of the segment reader.
    const big = (i: number) => Buffer.alloc(370_000 + i * 1000, 0x41 + i);
    const q = await fx.open();
    for (let i = 0; i < 5; i++) await q.append(big(i));
    await q.close();
    const reopened = await fx.open();
    const peeked = await reopened.peek(1 << 30);
    expect(peeked.map((p) => p.length)).toEqual([0, 1, 2, 3, 4].map((i) => big(i).length));
    expect(await drain(reopened)).toEqual([0, 1, 2, 3, 4].map((i) => big(i).toString()));
    expect(reopened.corruptCount()).toBe(0);
  });

  it('says the largest entry it takes: that size appends, one byte more is SegmentFullError', async () => {
    const q = await fx.open({ maxSegmentSize: 4096 });
    const max = q.maxEntrySize();
    await q.append(Buffer.alloc(max, 1));
    await expect(q.append(Buffer.alloc(max + 1, 2))).rejects.toBeInstanceOf(SegmentFullError);
    expect((await q.current())?.length).toBe(max);
  });

  it('refuses a fractional advance and moves nothing', async () => {
    const q = await fx.open();
    for (const s of ['a', 'b', 'c']) await q.append(buf(s));
    await expect(q.advance(1.5)).rejects.toThrow(RangeError);
    await expect(q.advance(NaN)).rejects.toThrow(RangeError);
    expect(await drain(q)).toEqual(['a', 'b', 'c']);
  });

  it('batches concurrent appends in order', async () => {
    const q = await fx.open({ fsync: 'always', maxSegmentSize: 4096 });
    await Promise.all(Array.from({ length: 200 }, (_, i) => q.append(buf(`c${i}`))));
    expect(await drain(q)).toEqual(Array.from({ length: 200 }, (_, i) => `c${i}`));
  });

  it('removes a queue directory that was never opened', async () => {
    const q = fx.create();
    await q.open();
    await q.close();
    await q.remove();
    expect(await exists(join(fx.dir, 'q'))).toBe(false);
    await new DiskBackedQueue(join(fx.dir, 'never')).remove();
  });
});

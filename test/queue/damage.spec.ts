import { cp, open, readdir, readFile, stat, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CorruptInfo } from '../../src/modules/queue';
import {
  encodePositionSlot,
  HEADER_SIZE,
  POSITION_SLOT_SIZE,
  SEAL_SIZE,
  segmentFileName,
} from '../../src/modules/queue/segment-format';
import { buf, drain, peekAll, QueueFixture } from './queue-test-helpers';

/** The "known errors" suite: each kind of damage a crash or a disk can do, and what the queue makes of it. */
describe('damaged queue directories', () => {
  const fx = new QueueFixture();
  beforeEach(() => fx.setup());
  afterEach(() => fx.teardown());

  it('truncates a tail cut short by 1..N bytes at the last whole record, keeping the cut bytes', async () => {
    const words = ['alpha', 'beta', 'gamma'];
    const q = await fx.open();
    for (const w of words) await q.append(buf(w));
    await q.close();
    const seg = fx.path('q', segmentFileName(1));
    const full = await readFile(seg);
    const ends = words.reduce<number[]>(
      (acc, w) => [...acc, (acc.at(-1) ?? 0) + HEADER_SIZE + w.length],
      [],
    );
    const lastTwo = full.length - ends[0];
    for (let cut = 1; cut <= lastTwo; cut++) {
      const name = `cut${cut}`;
      await cp(fx.path('q'), fx.path(name), { recursive: true });
      await truncate(fx.path(name, segmentFileName(1)), full.length - cut);
      const damaged = await fx.open({}, name);
      const whole = ends.filter((e) => e <= full.length - cut).length;
      expect(await peekAll(damaged)).toEqual(words.slice(0, whole));
      expect(damaged.backlog().entries).toBe(whole);
      expect(damaged.backlog().bytes).toBe(words.slice(0, whole).join('').length);
      expect(damaged.corruptCount()).toBe(0);
      const validEnd = ends[whole - 1];
      const torn = await readdir(fx.path(name, 'corrupt')).catch(() => []);
      if (validEnd === full.length - cut) {
        // Cut on a record boundary: nothing torn, nothing to keep.
        expect(torn).toEqual([]);
      } else {
        expect(torn).toEqual([`1-${validEnd}.torn`]);
        expect(await readFile(fx.path(name, 'corrupt', torn[0]))).toEqual(
          full.subarray(validEnd, full.length - cut),
        );
      }
      expect((await stat(fx.path(name, segmentFileName(1)))).size).toBe(validEnd);
      await damaged.append(buf('after'));
      await damaged.close();
      await damaged.open();
      expect(await drain(damaged)).toEqual([...words.slice(0, whole), 'after']);
      await damaged.close();
    }
  });

  it('skips bytes overwritten in a middle segment, delivers the records after them, and keeps the bytes under corrupt/', async () => {
    const seen: CorruptInfo[] = [];
    const perSegment = 2 * (HEADER_SIZE + 3) + SEAL_SIZE;
    const q = await fx.open({ maxSegmentSize: perSegment });
    const all = ['a00', 'a01', 'b00', 'b01', 'c00', 'c01', 'd00'];
    for (const s of all) await q.append(buf(s));
    await q.close();
    const path = fx.path('q', segmentFileName(2));
    const original = await readFile(path);
    const fh = await open(path, 'r+');
    await fh.write(Buffer.from('zz'), 0, 2, HEADER_SIZE + 1);
    await fh.close();
    const damaged = fx.create({ onCorrupt: (i) => seen.push(i) });
    await damaged.open();
    expect(await drain(damaged)).toEqual(all.filter((s) => s !== 'b00'));
    expect(damaged.corruptCount()).toBe(1);
    expect(seen).toEqual([
      { segment: 2, offset: 0, bytes: HEADER_SIZE + 3, reason: 'checksum mismatch' },
    ]);
    const kept = await readFile(fx.path('q', 'corrupt', '2-0.bin'));
    expect(kept.subarray(0, HEADER_SIZE)).toEqual(original.subarray(0, HEADER_SIZE));
    expect(kept.length).toBe(HEADER_SIZE + 3);
    expect(damaged.backlog()).toEqual({ entries: 0, bytes: 0, oldest: null });
  });

  it('resynchronises on the next valid record when a header is overwritten', async () => {
    const q = await fx.open({ maxSegmentSize: 4 * (HEADER_SIZE + 3) + SEAL_SIZE });
    const all = ['a00', 'a01', 'a02', 'a03', 'b00'];
    for (const s of all) await q.append(buf(s));
    await q.close();
    const fh = await open(fx.path('q', segmentFileName(1)), 'r+');
    // Garbage over the magic and the length of the second record.
    await fh.write(Buffer.alloc(10, 0xee), 0, 10, HEADER_SIZE + 3);
    await fh.close();
    await q.open();
    expect(await drain(q)).toEqual(['a00', 'a02', 'a03', 'b00']);
    expect(q.corruptCount()).toBe(1);
    expect((await readdir(fx.path('q', 'corrupt'))).sort()).toEqual([`1-${HEADER_SIZE + 3}.bin`]);
  });

  it('opens with a zero-length tail segment and appends to it', async () => {
    const q = await fx.open({ maxSegmentSize: HEADER_SIZE + 3 + SEAL_SIZE });
    for (const s of ['one', 'two']) await q.append(buf(s));
    await q.close();
    await writeFile(fx.path('q', segmentFileName(3)), Buffer.alloc(0));
    await q.open();
    expect(await peekAll(q)).toEqual(['one', 'two']);
    await q.append(buf('new'));
    expect(await drain(q)).toEqual(['one', 'two', 'new']);
  });

  it('passes over a zero-length segment in the middle', async () => {
    const q = await fx.open({ maxSegmentSize: HEADER_SIZE + 3 + SEAL_SIZE });
    for (const s of ['one', 'two', 'six']) await q.append(buf(s));
    await q.close();
    await truncate(fx.path('q', segmentFileName(2)), 0);
    await q.open();
    expect(q.backlog().entries).toBe(2);
    expect(await drain(q)).toEqual(['one', 'six']);
  });

  it('recovers from a garbage position file at the oldest segment and keeps the bad file', async () => {
    const seen: CorruptInfo[] = [];
    const q = await fx.open();
    for (const s of ['one', 'two', 'three']) await q.append(buf(s));
    await q.advance(2);
    await q.close();
    const garbage = Buffer.from(
      'this is not a position file, not at all; 0123456789 and more bytes here!',
    );
    await writeFile(fx.path('q', 'position'), garbage);
    const again = fx.create({ onCorrupt: (i) => seen.push(i) });
    await again.open();
    // At-least-once: everything still on disk is delivered again, nothing skipped.
    expect(await peekAll(again)).toEqual(['one', 'two', 'three']);
    const kept = (await readdir(fx.path('q', 'corrupt'))).filter((f) =>
      /^position-\d+\.bad$/.test(f),
    );
    expect(kept).toHaveLength(1);
    expect(await readFile(fx.path('q', 'corrupt', kept[0]))).toEqual(garbage);
    expect(seen).toHaveLength(1);
    expect(seen[0].reason).toMatch(/garbage position file/);
    await again.advance();
    await again.close();
    await again.open();
    expect(await peekAll(again)).toEqual(['two', 'three']);
  });

  it('falls back to the previous slot when the last position write was torn', async () => {
    const q = await fx.open();
    for (const s of ['one', 'two', 'three']) await q.append(buf(s));
    await q.close();
    const afterOne = { segment: 1, offset: HEADER_SIZE + 3, consumedEntries: 1, consumedBytes: 3 };
    const afterTwo = {
      segment: 1,
      offset: 2 * HEADER_SIZE + 6,
      consumedEntries: 2,
      consumedBytes: 6,
    };
    const older = encodePositionSlot({ seq: 10, ...afterOne });
    const newer = encodePositionSlot({ seq: 11, ...afterTwo });
    newer[30] ^= 0xff; // torn: its checksum no longer matches
    await writeFile(fx.path('q', 'position'), Buffer.concat([older, newer]));
    await q.open();
    expect(await peekAll(q)).toEqual(['two', 'three']);
    expect(q.backlog()).toMatchObject({ entries: 2, bytes: 8 });
  });

  it('falls back to the oldest segment when the position names a segment that is not there', async () => {
    const q = await fx.open();
    for (const s of ['one', 'two']) await q.append(buf(s));
    await q.close();
    const slot = encodePositionSlot({
      seq: 99,
      segment: 7,
      offset: 0,
      consumedEntries: 0,
      consumedBytes: 0,
    });
    await writeFile(
      fx.path('q', 'position'),
      Buffer.concat([Buffer.alloc(POSITION_SLOT_SIZE), slot]),
    );
    await q.open();
    expect(await drain(q)).toEqual(['one', 'two']);
  });

  it('starts a new tail when the last segment is sealed (a crash between the seal and the next file)', async () => {
    const q = await fx.open({ maxSegmentSize: 2 * (HEADER_SIZE + 3) + SEAL_SIZE });
    for (const s of ['a00', 'a01', 'b00']) await q.append(buf(s));
    await q.close();
    const { unlink } = await import('node:fs/promises');
    // Segment 2 never got created; only the sealed segment 1 is left.
    await unlink(fx.path('q', segmentFileName(2)));
    await q.open();
    expect(await fx.segmentFiles()).toEqual([segmentFileName(1), segmentFileName(2)]);
    await q.append(buf('c00'));
    expect(await drain(q)).toEqual(['a00', 'a01', 'c00']);
  });

  it('scans once and seals a non-tail segment whose seal is missing (a crash right after a roll)', async () => {
    const q = await fx.open({ maxSegmentSize: 2 * (HEADER_SIZE + 3) + SEAL_SIZE });
    for (const s of ['a00', 'a01', 'b00']) await q.append(buf(s));
    await q.close();
    const first = fx.path('q', segmentFileName(1));
    const size = (await stat(first)).size;
    // Lose the seal and half of the last record, as a power cut mid-roll could.
    await truncate(first, size - SEAL_SIZE - 5);
    await q.open();
    expect(q.backlog().entries).toBe(2);
    expect(await peekAll(q)).toEqual(['a00', 'b00']);
    await q.close();
    expect((await stat(first)).size).toBe(HEADER_SIZE + 3 + SEAL_SIZE);
    expect(await readdir(join(fx.dir, 'q', 'corrupt'))).toEqual([`1-${HEADER_SIZE + 3}.torn`]);
    await q.open();
    expect(await drain(q)).toEqual(['a00', 'b00']);
  });
});

import { readdir, readFile, stat, truncate, writeFile } from 'node:fs/promises';
import { crc32 } from 'node:zlib';
import type { CorruptInfo } from '../../src/modules/queue';
import {
  GROUP_BYTES,
  HEADER_SIZE,
  KIND_ENTRY,
  KIND_SEAL,
  RECORD_MAGIC,
  RECORD_MAGIC_V2,
  SEAL_PAYLOAD_SIZE,
  segmentFileName,
} from '../../src/modules/queue/segment-format';
import { buf, drain, peekAll, QueueFixture } from './queue-test-helpers';

/** The record headers of a segment file, in order: where each starts and what it says. */
function headers(bytes: Buffer) {
  const out: { at: number; magic: number; word: number; count: number; length: number }[] = [];
  for (let at = 0; at + HEADER_SIZE <= bytes.length;) {
    const length = bytes.readUInt32BE(at + 8);
    out.push({
      at,
      magic: bytes.readUInt32BE(at),
      word: bytes.readUInt32BE(at + 4),
      count: bytes.readUIntBE(at + 21, 3),
      length,
    });
    at += HEADER_SIZE + length;
  }
  return out;
}

/** A record in the layout before groups ("HHR2": one checksum per record), as an older version wrote it. */
function v2Record(kind: number, payload: Buffer, time: number): Buffer {
  const b = Buffer.alloc(HEADER_SIZE + payload.length);
  b.writeUInt32BE(RECORD_MAGIC_V2, 0);
  b.writeUInt32BE(payload.length, 8);
  b.writeUInt32BE(0, 12);
  b.writeUInt32BE(time, 16);
  b[20] = kind;
  payload.copy(b, HEADER_SIZE);
  b.writeUInt32BE(crc32(b.subarray(8)), 4);
  return b;
}

/** An "HHR2" seal: the segment's summary, its own offset inside the checksum. */
function v2Seal(segment: number, dataBytes: number, entries: number, payloadBytes: number) {
  const p = Buffer.alloc(SEAL_PAYLOAD_SIZE);
  const u64 = (v: number, at: number) => p.writeUInt32BE(v, at + 4);
  u64(segment, 0);
  u64(dataBytes, 8);
  u64(entries, 16);
  u64(payloadBytes, 24);
  u64(1000, 32);
  u64(1001, 40);
  return v2Record(KIND_SEAL, p, 1002);
}

const words = (n: number, prefix: string) =>
  Array.from({ length: n }, (_, i) => `${prefix}${String(i).padStart(3, '0')}`);

describe('records checksummed in groups (format "HHR3")', () => {
  const fx = new QueueFixture();
  beforeEach(() => fx.setup());
  afterEach(() => fx.teardown());

  it('writes the appends of one batch as groups: a leader with the count and checksum, followers pointing back to it', async () => {
    const q = await fx.open();
    // 1 KiB entries appended together: one batch, more than one group of GROUP_BYTES.
    const payloads = Array.from({ length: 40 }, (_, i) => Buffer.alloc(1000, i));
    await Promise.all(payloads.map((p) => q.append(p)));
    await q.close();
    const h = headers(await readFile(fx.path('q', segmentFileName(1))));
    expect(h).toHaveLength(40);
    expect(h.every((r) => r.magic === RECORD_MAGIC)).toBe(true);
    const leaders = h.filter((r) => r.count > 0);
    expect(leaders.length).toBeGreaterThan(1);
    expect(leaders.length).toBeLessThan(40);
    expect(leaders.reduce((n, r) => n + r.count, 0)).toBe(40);
    let leader = h[0];
    for (const r of h) {
      if (r.count > 0) leader = r;
      else expect(r.word).toBe(r.at - leader.at);
    }
    for (const l of leaders) {
      const i = h.indexOf(l);
      const last = h[i + l.count - 1];
      expect(last.at + HEADER_SIZE + last.length - l.at).toBeLessThanOrEqual(GROUP_BYTES);
    }
    await q.open();
    expect((await q.peek(Infinity)).map((b) => b[0])).toEqual(payloads.map((p) => p[0]));
  });

  it('resumes a head left in the middle of a group: the group is checked from its leader', async () => {
    const q = await fx.open();
    const all = words(20, 'e');
    await Promise.all(all.map((w) => q.append(buf(w))));
    await q.advance(7);
    await q.close();
    const h = headers(await readFile(fx.path('q', segmentFileName(1))));
    expect(h[7].count).toBe(0); // the head is a follower
    await q.open();
    expect(q.backlog().entries).toBe(13);
    expect(await drain(q)).toEqual(all.slice(7));
    expect(q.corruptCount()).toBe(0);
  });

  it('cuts a torn group at its start: a crash after part of a batch reached the disk loses no earlier group and raises no alarm', async () => {
    const seen: CorruptInfo[] = [];
    const q = await fx.open();
    await q.append(buf('before'));
    const batch = words(10, 'b');
    await Promise.all(batch.map((w) => q.append(buf(w))));
    await q.close();
    const path = fx.path('q', segmentFileName(1));
    const h = headers(await readFile(path));
    expect(h[1].count).toBe(10);
    // The leader and three followers whole, the fifth record half there.
    const cutAt = h[5].at + HEADER_SIZE + 2;
    await truncate(path, cutAt);
    const torn = fx.create({ onCorrupt: (i) => seen.push(i) });
    await torn.open();
    expect(await peekAll(torn)).toEqual(['before']);
    expect(torn.corruptCount()).toBe(0);
    expect(seen).toEqual([]);
    expect((await stat(path)).size).toBe(h[1].at);
    expect(await readdir(fx.path('q', 'corrupt'))).toEqual([`1-${h[1].at}.torn`]);
    await torn.append(buf('after'));
    expect(await drain(torn)).toEqual(['before', 'after']);
  });

  it('skips a damaged group whole, keeps its bytes under corrupt/, and delivers the groups after it', async () => {
    const seen: CorruptInfo[] = [];
    const q = await fx.open();
    await q.append(buf('first'));
    const damaged = words(6, 'd');
    await Promise.all(damaged.map((w) => q.append(buf(w))));
    await q.append(buf('last'));
    await q.close();
    const path = fx.path('q', segmentFileName(1));
    const bytes = await readFile(path);
    const h = headers(bytes);
    const group = { from: h[1].at, to: h[7].at };
    expect(h[1].count).toBe(6);
    const original = Buffer.from(bytes.subarray(group.from, group.to));
    // One payload byte of a follower: the group's checksum no longer matches.
    bytes[h[4].at + HEADER_SIZE] ^= 0xff;
    await writeFile(path, bytes);
    const again = fx.create({ onCorrupt: (i) => seen.push(i) });
    await again.open();
    expect(await drain(again)).toEqual(['first', 'last']);
    expect(seen).toEqual([
      { segment: 1, offset: group.from, bytes: group.to - group.from, reason: 'checksum mismatch' },
    ]);
    const kept = await readFile(fx.path('q', 'corrupt', `1-${group.from}.bin`));
    expect(kept.length).toBe(original.length);
    expect(kept.subarray(0, HEADER_SIZE)).toEqual(original.subarray(0, HEADER_SIZE));
  });
});

describe('segments written before groups (format "HHR2")', () => {
  const fx = new QueueFixture();
  beforeEach(() => fx.setup());
  afterEach(() => fx.teardown());

  it('reads a sealed and an unsealed old segment, then appends new records after the old ones', async () => {
    const { mkdir } = await import('node:fs/promises');
    await mkdir(fx.path('q'));
    const a = [v2Record(KIND_ENTRY, buf('old 1'), 1000), v2Record(KIND_ENTRY, buf('old 2'), 1001)];
    const dataBytes = a.reduce((n, r) => n + r.length, 0);
    await writeFile(
      fx.path('q', segmentFileName(1)),
      Buffer.concat([...a, v2Seal(1, dataBytes, 2, 10)]),
    );
    await writeFile(fx.path('q', segmentFileName(2)), v2Record(KIND_ENTRY, buf('old 3'), 1003));
    const q = await fx.open();
    expect(q.backlog()).toMatchObject({ entries: 3, bytes: 15 });
    expect(await peekAll(q)).toEqual(['old 1', 'old 2', 'old 3']);
    await q.advance();
    await Promise.all(['new 1', 'new 2'].map((w) => q.append(buf(w))));
    await q.close();
    const tail = headers(await readFile(fx.path('q', segmentFileName(2))));
    expect(tail.map((r) => r.magic)).toEqual([RECORD_MAGIC_V2, RECORD_MAGIC, RECORD_MAGIC]);
    await q.open();
    expect(q.corruptCount()).toBe(0);
    expect(await drain(q)).toEqual(['old 2', 'old 3', 'new 1', 'new 2']);
  });

  it('still checks each old record on its own: a damaged one is skipped alone', async () => {
    const { mkdir } = await import('node:fs/promises');
    await mkdir(fx.path('q'));
    const records = ['one', 'two', 'six'].map((w, i) => v2Record(KIND_ENTRY, buf(w), 1000 + i));
    records[1][HEADER_SIZE] ^= 0xff;
    await writeFile(fx.path('q', segmentFileName(1)), Buffer.concat(records));
    const seen: CorruptInfo[] = [];
    const q = fx.create({ onCorrupt: (i) => seen.push(i) });
    await q.open();
    expect(await drain(q)).toEqual(['one', 'six']);
    expect(seen).toEqual([
      {
        segment: 1,
        offset: records[0].length,
        bytes: records[1].length,
        reason: 'checksum mismatch',
      },
    ]);
  });
});

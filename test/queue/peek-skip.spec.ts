import { HEADER_SIZE, SEAL_SIZE } from '../../src/modules/queue/segment-format';
import { FaultyFs } from '../support/faulty-fs';
import { buf, peekAll, QueueFixture } from './queue-test-helpers';

/** What peek(maxBytes, maxEntries, skip) must answer for a backlog held in a plain array. */
function expectedPeek(model: string[], maxBytes: number, maxEntries: number, skip: number) {
  const out: string[] = [];
  let bytes = 0;
  for (const e of model.slice(skip)) {
    if (out.length >= maxEntries) break;
    if (out.length > 0 && bytes + e.length > maxBytes) break;
    out.push(e);
    bytes += e.length;
  }
  return out;
}

describe('DiskBackedQueue peek with skip', () => {
  const fx = new QueueFixture();
  beforeEach(() => fx.setup());
  afterEach(() => fx.teardown());

  // Three 2-byte entries per segment, so every skip of a few entries crosses segments.
  const options = { maxSegmentSize: 3 * (HEADER_SIZE + 2) + SEAL_SIZE };
  let clock = 1000;
  const now = () => clock++;

  async function filled(n: number) {
    const q = await fx.open({ ...options, now });
    const model: string[] = [];
    for (let i = 0; i < n; i++) {
      const e = String(i).padStart(2, '0');
      await q.append(buf(e));
      model.push(e);
    }
    return { q, model };
  }

  it('returns the entries starting skip entries after the head, across segment boundaries', async () => {
    const { q, model } = await filled(14);
    for (let skip = 0; skip <= 15; skip++) {
      for (const [maxBytes, maxEntries] of [
        [0, Infinity],
        [4, Infinity],
        [7, 3],
        [Infinity, 5],
        [Infinity, Infinity],
      ]) {
        const got = (await q.peek(maxBytes, maxEntries, skip)).map(String);
        expect(got).toEqual(expectedPeek(model, maxBytes, maxEntries, skip));
      }
    }
    expect(q.backlog().entries).toBe(14);
    expect((await q.current())?.toString()).toBe('00');
  });

  it('gives each entry its own append time with peekEntries', async () => {
    const { q } = await filled(7);
    const all = await q.peekEntries(Infinity);
    const later = await q.peekEntries(Infinity, 2, 4);
    expect(later).toEqual(all.slice(4, 6));
  });

  it('gives a batch of more tiny entries than a call takes arguments, with their append times', async () => {
    // A replay batch of 4 MiB of 2-byte lines: 250 000 entries in one peekEntries.
    const q = await fx.open({ fsync: 'never', maxSegmentSize: 64 * 1024 * 1024 });
    const n = 250_000;
    for (let i = 0; i < n; i += 5000) {
      await Promise.all(Array.from({ length: 5000 }, () => q.append(buf('x\n'))));
    }
    const batch = await q.peekEntries(4 * 1024 * 1024);
    expect(batch.length).toBe(n);
    expect(batch.every((e) => e.appendedAt > 0 && e.payload.length === 2)).toBe(true);
  });

  it('returns [] with skip at or past the backlog, and moves nothing', async () => {
    const { q } = await filled(5);
    const before = { backlog: q.backlog(), position: q.position() };
    expect(await q.peek(Infinity, Infinity, 5)).toEqual([]);
    expect(await q.peek(Infinity, Infinity, 6)).toEqual([]);
    expect(await q.peek(Infinity, Infinity, Infinity)).toEqual([]);
    expect({ backlog: q.backlog(), position: q.position() }).toEqual(before);
    expect(await peekAll(q)).toEqual(['00', '01', '02', '03', '04']);
  });

  it('returns [] on an empty queue whatever the skip', async () => {
    const q = await fx.open({ ...options, now });
    expect(await q.peek(Infinity, Infinity, 0)).toEqual([]);
    expect(await q.peek(Infinity, Infinity, 3)).toEqual([]);
  });

  it('rejects a negative or fractional skip with a RangeError', async () => {
    const { q } = await filled(2);
    await expect(q.peek(Infinity, Infinity, -1)).rejects.toThrow(RangeError);
    await expect(q.peek(Infinity, Infinity, 1.5)).rejects.toThrow(RangeError);
    await expect(q.peek(Infinity, Infinity, Number.NaN)).rejects.toThrow(RangeError);
  });

  it('sees entries appended after a skipping peek found nothing more', async () => {
    const { q } = await filled(4);
    expect(await q.peek(Infinity, Infinity, 4)).toEqual([]);
    await q.append(buf('04'));
    await q.append(buf('05'));
    expect((await q.peek(Infinity, Infinity, 4)).map(String)).toEqual(['04', '05']);
    await q.advance(5);
    expect(await peekAll(q)).toEqual(['05']);
    expect(q.backlog()).toMatchObject({ entries: 1, bytes: 2 });
  });

  it('drains in order when batch k+1 is peeked while batch k is in flight (pipelined replay)', async () => {
    const { q, model } = await filled(40);
    const delivered: string[] = [];
    let inFlight = (await q.peek(5)).map(String);
    while (inFlight.length > 0) {
      const next = (await q.peek(5, Infinity, inFlight.length)).map(String);
      delivered.push(...inFlight);
      await q.advance(inFlight.length);
      expect(q.backlog().entries).toBe(model.length - delivered.length);
      inFlight = next;
    }
    expect(delivered).toEqual(model);
    expect(q.backlog()).toEqual({ entries: 0, bytes: 0, oldest: null });
    // The passed segments go once a position past them is durable: at close at the latest.
    await q.close();
    expect(await fx.segmentFiles()).toHaveLength(1);
  });

  it('keeps backlog().oldest exact when advancing by a batch peeked before a skipping peek', async () => {
    const { q } = await filled(9);
    const times = (await q.peekEntries(Infinity)).map((e) => e.appendedAt);
    await q.peek(4);
    await q.peek(4, Infinity, 2);
    await q.advance(2);
    expect(q.backlog()).toEqual({ entries: 7, bytes: 14, oldest: new Date(times[2]) });
    await q.advance(2);
    expect(q.backlog()).toEqual({ entries: 5, bytes: 10, oldest: new Date(times[4]) });
    expect(await peekAll(q)).toEqual(['04', '05', '06', '07', '08']);
  });

  it('advances by fewer entries than the skipping peeks walked, then peeks on from the new head', async () => {
    const { q } = await filled(12);
    await q.peek(Infinity, 3);
    await q.peek(Infinity, 3, 3);
    await q.peek(Infinity, 3, 6);
    await q.advance(1);
    expect((await q.peek(Infinity, 3, 4)).map(String)).toEqual(['05', '06', '07']);
    await q.advance(7);
    expect((await q.peek(Infinity, Infinity, 1)).map(String)).toEqual(['09', '10', '11']);
    expect(q.backlog().entries).toBe(4);
  });

  it('forgets the walks when the head moves another way (purge)', async () => {
    const { q } = await filled(8);
    const times = (await q.peekEntries(Infinity)).map((e) => e.appendedAt);
    await q.peek(Infinity, 2);
    await q.peek(Infinity, 2, 2);
    await q.purgeOlderThan(new Date(times[3]));
    expect((await q.peek(Infinity, 2, 1)).map(String)).toEqual(['04', '05']);
    await q.advance(2);
    expect(await peekAll(q)).toEqual(['05', '06', '07']);
  });

  it('never reads a walked batch again in a pipelined drain: advance and the next peek go on from the walks already made', async () => {
    const entry = 40 * 1024;
    const record = HEADER_SIZE + entry;
    const seed = await fx.open({ maxSegmentSize: 1024 * 1024, fsync: 'never' });
    for (let i = 0; i < 100; i++) await seed.append(Buffer.alloc(entry, i));
    await seed.close();
    const fs = new FaultyFs();
    const q = await fx.open({ fs });
    fs.logReads = true;
    let drained = 0;
    let inFlight = await q.peek(512 * 1024);
    while (inFlight.length > 0) {
      const next = await q.peek(512 * 1024, Infinity, inFlight.length);
      for (const [i, p] of inFlight.entries()) expect(p[0]).toBe((drained + i) & 0xff);
      drained += inFlight.length;
      await q.advance(inFlight.length);
      inFlight = next;
    }
    expect(drained).toBe(100);
    // Per segment file, reads only go forward: at most the record cut by the end of the window
    // before is read again from its start (a walk from the head would go back a whole batch).
    const lastEnd = new Map<string, number>();
    for (const r of fs.reads) {
      expect(r.position).toBeGreaterThan((lastEnd.get(r.file) ?? 0) - record);
      lastEnd.set(r.file, r.position + r.length);
    }
    expect(lastEnd.size).toBeGreaterThan(2);
  });
});

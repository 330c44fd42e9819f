import { HEADER_SIZE, SEAL_SIZE } from '../../src/modules/queue/segment-format';
import { buf, peekAll, QueueFixture } from './queue-test-helpers';

describe('DiskBackedQueue peek then advance', () => {
  const fx = new QueueFixture();
  beforeEach(() => fx.setup());
  afterEach(() => fx.teardown());

  // Three 2-byte entries per segment, so walks cross segments.
  const options = { maxSegmentSize: 3 * (HEADER_SIZE + 2) + SEAL_SIZE };
  let clock = 1000;
  const now = () => clock++;

  async function filled(n: number) {
    const q = await fx.open({ ...options, now });
    for (let i = 0; i < n; i++) await q.append(buf(String(i).padStart(2, '0')));
    return q;
  }

  it('advances by exactly the peeked batch and reports the next entry as the oldest', async () => {
    const q = await filled(10);
    const times = (await q.peekEntries(Infinity)).map((e) => e.appendedAt);
    const batch = await q.peek(2 * 4);
    expect(batch.map(String)).toEqual(['00', '01', '02', '03']);
    await q.advance(batch.length);
    expect(q.backlog()).toEqual({ entries: 6, bytes: 12, oldest: new Date(times[4]) });
    expect(times[4]).not.toBe(times[0]);
    expect(await peekAll(q)).toEqual(['04', '05', '06', '07', '08', '09']);
  });

  it('advances by fewer entries than peeked (a part-way delivery)', async () => {
    const q = await filled(8);
    expect(await q.peek(Infinity, 6)).toHaveLength(6);
    await q.advance(2);
    expect((await q.current())?.toString()).toBe('02');
    expect(q.backlog().entries).toBe(6);
  });

  it('advances by more entries than peeked, and past appends made since', async () => {
    const q = await filled(5);
    expect(await q.peek(Infinity, 2)).toHaveLength(2);
    await q.append(buf('05'));
    await q.advance(5);
    expect(await peekAll(q)).toEqual(['05']);
    expect(q.backlog().entries).toBe(1);
  });

  it('does not reuse a peek after the head moved another way', async () => {
    const q = await filled(6);
    await q.peek(Infinity, 4);
    await q.advance(1);
    await q.advance(1);
    expect((await q.current())?.toString()).toBe('02');
    await q.purgeOlderThan(new Date(0));
    await q.advance(2);
    expect(await peekAll(q)).toEqual(['04', '05']);
  });

  it('sees an entry appended after a peek that found the queue drained', async () => {
    const q = await filled(2);
    expect(await q.peek(Infinity)).toHaveLength(2);
    await q.append(buf('02'));
    await q.advance(2);
    expect(q.backlog()).toMatchObject({ entries: 1, bytes: 2 });
    expect(q.backlog().oldest).not.toBeNull();
    expect((await q.current())?.toString()).toBe('02');
  });
});

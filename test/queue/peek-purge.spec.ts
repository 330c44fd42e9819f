import { buf, QueueFixture } from './queue-test-helpers';

/**
 * Walks remembered by peeks are relative to the head they started from. A purge moves the head
 * without an advance: a later advance must not take those walks as its own.
 */
describe('DiskBackedQueue: peeks, then a purge, then an advance', () => {
  const fx = new QueueFixture();
  beforeEach(() => fx.setup());
  afterEach(() => fx.teardown());

  /** Entry i is appended at time i + 1. */
  async function queueOf(entries: string[]) {
    let clock = 0;
    const q = await fx.open({ now: () => clock });
    for (const e of entries) {
      clock++;
      await q.append(buf(e));
    }
    return q;
  }

  const text = (bs: Buffer[]) => bs.map((b) => b.toString());

  it('skips from the head the purge left, not from the one the peeks saw', async () => {
    const q = await queueOf(['a', 'b', 'c', 'd']); // appended at t = 1, 2, 3, 4
    expect(text(await q.peek(1 << 20, 1))).toEqual(['a']);
    expect(text(await q.peek(1 << 20, 1, 1))).toEqual(['b']);
    expect(await q.purgeOlderThan(new Date(2))).toMatchObject({ entries: 1 }); // drops a
    await q.advance(1); // past b
    expect(text(await q.peek(1 << 20, Infinity, 1))).toEqual(['d']);
    expect(text(await q.peek(1 << 20))).toEqual(['c', 'd']);
    expect(q.backlog().entries).toBe(2);
    await q.advance(2);
    expect(q.backlog().entries).toBe(0);
    expect(await q.current()).toBeNull();
  });
});

import { errno, FaultyFs } from '../support/faulty-fs';
import { buf, QueueFixture } from './queue-test-helpers';

/**
 * While an advance's position write is in flight, the queue begins the next peek from the new
 * head (same budget as the last one). What a peek returns must not depend on it.
 */
describe('DiskBackedQueue: the next peek begun during a position write', () => {
  const fx = new QueueFixture();
  beforeEach(() => fx.setup());
  afterEach(() => fx.teardown());

  const strings = (bs: Buffer[]) => bs.map((b) => b.toString());

  async function filled(n: number, fs?: FaultyFs) {
    let clock = 1_000;
    // A position write at every advance of two entries or more.
    const q = await fx.open({ fs, fsync: 'interval', positionSyncEntries: 2, now: () => clock++ });
    for (let i = 0; i < n; i++) await q.append(buf(`e${i}`));
    return q;
  }

  it('is dropped when the write fails: the advance rejects and the next peek starts at the head that stayed', async () => {
    const fs = new FaultyFs();
    const q = await filled(10, fs);
    expect(strings(await q.peek(Infinity, 2))).toEqual(['e0', 'e1']);
    fs.fault = (op, file) => (op === 'writev' && file === 'position' ? errno('EIO') : undefined);
    await expect(q.advance(2)).rejects.toMatchObject({ code: 'EIO' });
    fs.fault = () => undefined;
    expect(strings(await q.peek(Infinity, 2))).toEqual(['e0', 'e1']);
    expect(q.backlog().entries).toBe(10);
    await q.advance(2);
    expect(strings(await q.peek(Infinity, 2))).toEqual(['e2', 'e3']);
  });

  it('goes on past the end it reached: entries appended before the peek are in it', async () => {
    const q = await filled(3);
    expect(strings(await q.peek(Infinity))).toEqual(['e0', 'e1', 'e2']);
    await q.advance(2);
    await q.append(buf('e3'));
    await q.append(buf('e4'));
    expect(strings(await q.peek(Infinity))).toEqual(['e2', 'e3', 'e4']);
  });

  it('gives the same entries, append times and next advance as a walk from the head', async () => {
    const q = await filled(40);
    const reference = await q.peekEntries(Infinity);
    const seen: { payload: string; appendedAt: number }[] = [];
    // Batches of 3 (a budget of 3 entries): every advance writes the position and begins the
    // next batch; peekEntries with the same budget takes it up.
    for (;;) {
      const batch = await q.peekEntries(Infinity, 3);
      if (batch.length === 0) break;
      seen.push(...batch.map((e) => ({ payload: e.payload.toString(), appendedAt: e.appendedAt })));
      await q.advance(batch.length);
      expect(q.backlog().entries).toBe(40 - seen.length);
    }
    expect(seen).toEqual(
      reference.map((e) => ({ payload: e.payload.toString(), appendedAt: e.appendedAt })),
    );
  });
});

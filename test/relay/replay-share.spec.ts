import { ReplayShare } from '../../src/modules/relay/replay-share';

describe('ReplayShare: lanes a catch-up may take while live writes flow', () => {
  let now = 1_000_000;
  const clock = () => now;
  const lanes = (share: ReplayShare, n: number) =>
    Array.from({ length: n }, () => share.next().lanes);

  it('takes every lane while no live write was answered in the last second', () => {
    const share = new ReplayShare(8, { now: clock });
    expect(share.next()).toEqual({ lanes: 8, pauseMs: 0 });
    share.recordLive(10);
    now += 1500;
    expect(share.next()).toEqual({ lanes: 8, pauseMs: 0 });
  });

  it('starts from one lane while live writes flow and adds one per batch while their latency holds', () => {
    const share = new ReplayShare(4, { now: clock });
    for (let i = 0; i < 10; i++) share.recordLive(10);
    expect(lanes(share, 5)).toEqual([2, 3, 4, 4, 4]);
  });

  it('halves the lanes while live latency is above its floor, then pauses between batches, and recovers', () => {
    const share = new ReplayShare(8, { now: clock });
    for (let i = 0; i < 10; i++) share.recordLive(10); // the floor: 10 ms
    expect(lanes(share, 7)).toEqual([2, 3, 4, 5, 6, 7, 8]);
    for (let i = 0; i < 10; i++) share.recordLive(40); // a catch-up slows the live writes
    const turns = Array.from({ length: 7 }, () => share.next());
    expect(turns.map((t) => t.lanes)).toEqual([4, 2, 1, 1, 1, 1, 1]);
    expect(turns.map((t) => t.pauseMs)).toEqual([0, 0, 0, 50, 100, 200, 400]);
    for (let i = 0; i < 30; i++) share.recordLive(10); // back near the floor
    const back = Array.from({ length: 7 }, () => share.next());
    expect(back.map((t) => t.pauseMs)).toEqual([200, 100, 50, 0, 0, 0, 0]);
    expect(back.map((t) => t.lanes)).toEqual([1, 1, 1, 1, 2, 3, 4]);
  });

  it('never pauses longer than 2 s: a catch-up slows down, it never stops', () => {
    const share = new ReplayShare(2, { now: clock });
    share.recordLive(10);
    for (let i = 0; i < 10; i++) share.recordLive(100);
    const pauses = Array.from({ length: 12 }, () => share.next().pauseMs);
    expect(Math.max(...pauses)).toBe(2000);
  });

  it('forgets a floor older than half a minute, so a slower steady state is the new normal', () => {
    const share = new ReplayShare(4, { now: clock });
    for (let i = 0; i < 10; i++) share.recordLive(10);
    // Live writes settle at 50 ms and stay there: within 35 s that is the floor.
    for (let i = 0; i < 40; i++) {
      share.recordLive(50);
      now += 1000;
    }
    share.recordLive(50);
    expect(share.next()).toEqual({ lanes: 2, pauseMs: 0 });
  });
});

import { ReplayShare } from '../../src/modules/relay/replay-share';

describe('ReplayShare: lanes a catch-up may take while live writes flow', () => {
  let now = 1_000_000;
  const clock = () => now;
  const lanes = (share: ReplayShare, n: number) =>
    Array.from({ length: n }, () => share.nextLanes());

  it('takes every lane while no live write was answered in the last second', () => {
    const share = new ReplayShare(8, { now: clock });
    expect(share.nextLanes()).toBe(8);
    share.recordLive(10);
    now += 1500;
    expect(share.nextLanes()).toBe(8);
  });

  it('starts from one lane while live writes flow and adds one per batch while their latency holds', () => {
    const share = new ReplayShare(4, { now: clock });
    for (let i = 0; i < 10; i++) share.recordLive(10);
    expect(lanes(share, 5)).toEqual([2, 3, 4, 4, 4]);
  });

  it('halves the lanes while live latency is above its floor, never below one, and grows them back', () => {
    const share = new ReplayShare(8, { now: clock });
    for (let i = 0; i < 10; i++) share.recordLive(10); // the floor: 10 ms
    expect(lanes(share, 7)).toEqual([2, 3, 4, 5, 6, 7, 8]);
    for (let i = 0; i < 10; i++) share.recordLive(40); // a catch-up slows the live writes
    expect(lanes(share, 5)).toEqual([4, 2, 1, 1, 1]);
    for (let i = 0; i < 30; i++) share.recordLive(10); // back near the floor
    expect(lanes(share, 3)).toEqual([2, 3, 4]);
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
    expect(share.nextLanes()).toBe(2);
  });
});

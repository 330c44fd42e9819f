import { RateLimiter } from '../../src/modules/replay/rate-limiter';
import { ReplayClosedError } from '../../src/modules/replay/errors';
import { ManualClock, flushPromises } from '../support/manual-clock';

describe('RateLimiter', () => {
  it('does not limit when the limit is 0 or negative', async () => {
    for (const limit of [0, -5]) {
      const clock = new ManualClock();
      const limiter = new RateLimiter(limit, clock);
      for (let i = 0; i < 100; i++) await limiter.take(1_000_000);
      expect(clock.pending()).toBe(0);
    }
  });

  it('lets a full burst (one second of budget) go at once, then waits for refill', async () => {
    const clock = new ManualClock();
    const limiter = new RateLimiter(1000, clock);
    await limiter.take(1000);
    let done = false;
    void limiter.take(500).then(() => (done = true));
    await flushPromises();
    expect(done).toBe(false);
    await clock.advance(499);
    expect(done).toBe(false);
    await clock.advance(1);
    expect(done).toBe(true);
  });

  it('keeps the bytes granted in any window within limit × seconds + one burst', async () => {
    const limit = 10_000;
    const clock = new ManualClock();
    const limiter = new RateLimiter(limit, clock);
    const grants: Array<{ at: number; bytes: number }> = [];
    // Deterministic pseudo-random sizes, some larger than the burst.
    let seed = 42;
    const rnd = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const sizes = Array.from({ length: 300 }, () =>
      rnd() < 0.05 ? 15_000 : 100 + Math.floor(rnd() * 3000),
    );
    const all = sizes.map((bytes) =>
      limiter.take(bytes).then(() => grants.push({ at: clock.now(), bytes })),
    );
    while (grants.length < sizes.length) {
      await flushPromises();
      await clock.runNext();
    }
    await Promise.all(all);
    expect(grants.map((g) => g.bytes)).toEqual(sizes); // FIFO
    const total = sizes.reduce((a, b) => a + b, 0);
    const span = grants[grants.length - 1].at - grants[0].at;
    // Long run: never faster than the limit (the first burst is the only head start).
    expect(total).toBeLessThanOrEqual(limit + (span * limit) / 1000 + 15_000);
    for (const windowMs of [100, 1000, 5000]) {
      for (const start of grants) {
        const inWindow = grants
          .filter((g) => g.at >= start.at && g.at < start.at + windowMs)
          .reduce((a, g) => a + g.bytes, 0);
        // A window can hold one burst plus the refill during it, plus one oversized entry's debt.
        expect(inWindow).toBeLessThanOrEqual(limit + (windowMs * limit) / 1000 + 15_000);
      }
    }
  });

  it('lets an entry larger than the burst go once the bucket is full, then repays the debt', async () => {
    const clock = new ManualClock();
    const limiter = new RateLimiter(1000, clock);
    await limiter.take(3000); // bucket starts full: goes at once, 2000 in debt
    expect(limiter.available()).toBe(-2000);
    let done = false;
    void limiter.take(1).then(() => (done = true));
    await clock.advance(2000);
    expect(done).toBe(false);
    await clock.advance(1);
    expect(done).toBe(true);
  });

  it('serves waiting callers in order, a small one never overtaking a big one', async () => {
    const clock = new ManualClock();
    const limiter = new RateLimiter(100, clock);
    await limiter.take(100);
    const order: string[] = [];
    const big = limiter.take(100).then(() => order.push('big'));
    const small = limiter.take(1).then(() => order.push('small'));
    while (order.length < 2) await clock.runNext();
    await Promise.all([big, small]);
    expect(order).toEqual(['big', 'small']);
  });

  it('rejects waiting callers on close and clears its timers', async () => {
    const clock = new ManualClock();
    const limiter = new RateLimiter(10, clock);
    await limiter.take(10);
    const waiting = limiter.take(10);
    await flushPromises();
    expect(clock.pending()).toBe(1);
    limiter.close();
    await expect(waiting).rejects.toBeInstanceOf(ReplayClosedError);
    expect(clock.pending()).toBe(0);
    await expect(limiter.take(1)).rejects.toBeInstanceOf(ReplayClosedError);
  });
});

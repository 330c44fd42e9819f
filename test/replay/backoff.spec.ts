import { Backoff } from '../../src/modules/replay/backoff';

describe('Backoff', () => {
  it('doubles the delay per failure up to the maximum, without jitter', () => {
    const b = new Backoff({ initialMs: 10, maxMs: 10_000, jitter: 0 });
    const delays = Array.from({ length: 13 }, () => b.next());
    expect(delays).toEqual([
      10, 20, 40, 80, 160, 320, 640, 1280, 2560, 5120, 10_000, 10_000, 10_000,
    ]);
    expect(b.current()).toBe(10_000);
    expect(b.failures()).toBe(13);
  });

  it('resets to the initial delay after a success', () => {
    const b = new Backoff({ initialMs: 10, maxMs: 10_000, jitter: 0 });
    b.next();
    b.next();
    b.next();
    b.reset();
    expect(b.current()).toBe(0);
    expect(b.failures()).toBe(0);
    expect(b.next()).toBe(10);
  });

  it('draws jittered delays from [base × (1 − jitter), base]', () => {
    const lowest = new Backoff({
      initialMs: 100,
      maxMs: 1000,
      jitter: 0.5,
      random: () => 0.999999,
    });
    const highest = new Backoff({ initialMs: 100, maxMs: 1000, jitter: 0.5, random: () => 0 });
    expect([lowest.next(), lowest.next(), lowest.next()]).toEqual([50, 100, 200]);
    expect([highest.next(), highest.next(), highest.next()]).toEqual([100, 200, 400]);
    const full = new Backoff({ initialMs: 100, maxMs: 1000, jitter: 1, random: () => 0.75 });
    expect(full.next()).toBe(25);
  });

  it('grows on average even with jitter, and never exceeds the maximum', () => {
    let seed = 7;
    const random = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
    const b = new Backoff({ initialMs: 10, maxMs: 10_000, random });
    const delays = Array.from({ length: 40 }, () => b.next());
    for (const d of delays) expect(d).toBeLessThanOrEqual(10_000);
    for (let i = 1; i < 10; i++) expect(delays[i]).toBeGreaterThanOrEqual(delays[i - 1] * 0.99 - 1);
    expect(Math.min(...delays.slice(11))).toBeGreaterThanOrEqual(5000);
  });
});

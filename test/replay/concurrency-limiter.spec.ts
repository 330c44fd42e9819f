import { ConcurrencyLimiter } from '../../src/modules/replay/concurrency-limiter';

describe('ConcurrencyLimiter', () => {
  it('runs at most `limit` sections at once, the rest in arrival order', async () => {
    const limiter = new ConcurrencyLimiter(2);
    const gates: Array<() => void> = [];
    const started: number[] = [];
    let peak = 0;
    const runs = [0, 1, 2, 3, 4].map((i) =>
      limiter.run(async () => {
        started.push(i);
        peak = Math.max(peak, limiter.running());
        await new Promise<void>((resolve) => gates.push(resolve));
      }),
    );
    await Promise.resolve();
    expect(started).toEqual([0, 1]);
    while (gates.length > 0 || started.length < 5) {
      gates.shift()?.();
      await new Promise((r) => setImmediate(r));
    }
    await Promise.all(runs);
    expect(started).toEqual([0, 1, 2, 3, 4]);
    expect(peak).toBe(2);
    expect(limiter.running()).toBe(0);
  });

  it('frees the slot when a section fails', async () => {
    const limiter = new ConcurrencyLimiter(1);
    await expect(limiter.run(() => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await expect(limiter.run(async () => 'ok')).resolves.toBe('ok');
    expect(limiter.running()).toBe(0);
  });
});

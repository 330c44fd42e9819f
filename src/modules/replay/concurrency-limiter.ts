/**
 * At most `limit` sections at once; the rest wait in FIFO order. Bounds how many nodes replay
 * at the same time (HH_RETRY_CONCURRENCY), so a recovering cluster is not hit by every queue.
 */
export class ConcurrencyLimiter {
  private active = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(readonly limit: number) {}

  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.limit > 0 && this.active >= this.limit) {
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.active++;
    }
    try {
      return await fn();
    } finally {
      const next = this.waiting.shift();
      // The slot passes straight to the next waiter, so `active` never dips below the limit.
      if (next) next();
      else this.active--;
    }
  }

  running(): number {
    return this.active;
  }
}

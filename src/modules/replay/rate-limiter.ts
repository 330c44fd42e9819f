import { SYSTEM_CLOCK, type Clock } from './clock';
import { ReplayClosedError } from './errors';

/**
 * Token bucket over bytes. The bucket holds at most one second of budget (the burst) and
 * refills continuously at `limitPerSecond`. A request larger than the burst may go once the
 * bucket is full and leaves the bucket in debt, so one big entry can never deadlock the queue
 * and the long-run rate still holds. `limitPerSecond <= 0` does not limit.
 *
 * Callers are served in FIFO order: a small request never overtakes a big one that waits.
 */
export class RateLimiter {
  private tokens: number;
  private last: number;
  private tail: Promise<void> = Promise.resolve();
  private readonly waiting = new Set<{ handle: unknown; reject: (err: Error) => void }>();
  private closed = false;

  constructor(
    readonly limitPerSecond: number,
    private readonly clock: Clock = SYSTEM_CLOCK,
  ) {
    this.tokens = Math.max(0, limitPerSecond);
    this.last = clock.now();
  }

  get unlimited(): boolean {
    return !(this.limitPerSecond > 0);
  }

  /** Resolves once `bytes` may be sent; waits with timers, never by blocking. */
  take(bytes: number): Promise<void> {
    if (this.closed) return Promise.reject(new ReplayClosedError('rate limiter closed'));
    if (this.unlimited || bytes <= 0) return Promise.resolve();
    const turn = this.tail.then(() => this.acquire(bytes));
    // The chain must survive a rejected turn (close), or every later caller would reject too.
    this.tail = turn.catch(() => undefined);
    return turn;
  }

  /** Tokens available now (negative while in debt); for tests and status. */
  available(): number {
    this.refill();
    return this.tokens;
  }

  /** Rejects every waiting caller and refuses new ones; clears the timers it holds. */
  close(): void {
    this.closed = true;
    for (const w of this.waiting) {
      this.clock.clearTimeout(w.handle);
      w.reject(new ReplayClosedError('rate limiter closed'));
    }
    this.waiting.clear();
  }

  private async acquire(bytes: number): Promise<void> {
    // Oversized requests wait for a full bucket, then go into debt.
    const need = Math.min(bytes, this.limitPerSecond);
    for (;;) {
      if (this.closed) throw new ReplayClosedError('rate limiter closed');
      this.refill();
      if (this.tokens >= need) {
        this.tokens -= bytes;
        return;
      }
      const waitMs = Math.ceil(((need - this.tokens) * 1000) / this.limitPerSecond);
      await this.wait(Math.max(1, waitMs));
    }
  }

  private refill(): void {
    const now = this.clock.now();
    const elapsed = now - this.last;
    if (elapsed > 0) {
      this.tokens = Math.min(
        this.limitPerSecond,
        this.tokens + (elapsed * this.limitPerSecond) / 1000,
      );
      this.last = now;
    }
  }

  private wait(ms: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const entry = { handle: undefined as unknown, reject };
      entry.handle = this.clock.setTimeout(() => {
        this.waiting.delete(entry);
        resolve();
      }, ms);
      this.waiting.add(entry);
    });
  }
}

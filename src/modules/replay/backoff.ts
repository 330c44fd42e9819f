export interface BackoffOptions {
  /** Delay after the first failure (HH_RETRY_INTERVAL). */
  initialMs: number;
  /** Ceiling of the doubling (HH_RETRY_MAX_INTERVAL). */
  maxMs: number;
  /**
   * Share of the delay that is randomised, 0..1. The delay is drawn uniformly from
   * `[base * (1 - jitter), base]`: 0.5 is "equal jitter" (never less than half the base, so
   * a down node is not hammered), 1 is "full jitter", 0 is none. Default 0.5.
   */
  jitter?: number;
  /** Random source in [0, 1); injected by tests. */
  random?: () => number;
}

/**
 * Exponential back-off: the base delay doubles with each consecutive failure up to `maxMs`,
 * randomised by `jitter` so that many nodes failing together do not retry in lockstep;
 * `reset()` on success.
 */
export class Backoff {
  private failureCount = 0;
  private delay = 0;
  private readonly jitter: number;
  private readonly random: () => number;

  constructor(private readonly options: BackoffOptions) {
    this.jitter = Math.min(1, Math.max(0, options.jitter ?? 0.5));
    this.random = options.random ?? Math.random;
  }

  /** Records a failure; returns the delay to wait before the next attempt. */
  next(): number {
    this.failureCount++;
    const base = this.base(this.failureCount);
    this.delay = Math.max(1, Math.round(base - this.jitter * base * this.random()));
    return this.delay;
  }

  /** Back to the first step after a success. */
  reset(): void {
    this.failureCount = 0;
    this.delay = 0;
  }

  /** The delay last handed out; 0 when not backing off. */
  current(): number {
    return this.delay;
  }

  /** Consecutive failures since the last reset. */
  failures(): number {
    return this.failureCount;
  }

  private base(failures: number): number {
    const { initialMs, maxMs } = this.options;
    // 2 ** 40 already dwarfs any sane maximum; capping the exponent avoids Infinity.
    return Math.min(maxMs, initialMs * 2 ** Math.min(failures - 1, 40));
  }
}

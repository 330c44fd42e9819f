/**
 * Time as the replay side sees it. Injected so tests can drive the rate limiter and back-off
 * with a manual clock instead of sleeping.
 */
export interface Clock {
  /** Milliseconds, monotonic enough for rate limiting (Date.now by default). */
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const SYSTEM_CLOCK: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

import { ConfigValueError } from './errors';
import { parseDuration } from './parse-duration';

/**
 * The longest delay a Node timer keeps: past 2^31-1 ms (about 24.8 days) setTimeout and
 * setInterval fire after 1 ms instead, so a long back-off, fsync interval or timeout would
 * turn into a hot loop.
 */
export const MAX_TIMER_MS = 0x7fffffff;

/** Parses a duration that becomes a timer's delay: more than 0 and at most MAX_TIMER_MS. */
export function parseTimerDuration(text: string): number {
  const value = parseDuration(text);
  if (value <= 0 || value > MAX_TIMER_MS) {
    const problem = `must be greater than 0 and at most ${MAX_TIMER_MS} ms (24.8 days): it is a timer's delay`;
    throw new ConfigValueError(`Invalid value ${JSON.stringify(text)}: ${problem}`, problem);
  }
  return value;
}

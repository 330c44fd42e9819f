import { MAX_TIMER_MS } from './defaults';
import { ConfigValueError } from './errors';
import { parseDuration } from './parse-duration';

/** Parses a duration that becomes a timer's delay: more than 0 and at most MAX_TIMER_MS. */
export function parseTimerDuration(text: string): number {
  const value = parseDuration(text);
  if (value <= 0 || value > MAX_TIMER_MS) {
    const problem = `must be greater than 0 and at most ${MAX_TIMER_MS} ms (24.8 days): it is a timer's delay`;
    throw new ConfigValueError(`Invalid value ${JSON.stringify(text)}: ${problem}`, problem);
  }
  return value;
}

/** Durations (`10ms`, `5m`, `1h30m`, `7d`), timer delays and cron schedules. */
import { CronTime } from 'cron';
import { bounded } from './bounds';
import { MAX_TIMER_MS } from './defaults';
import { ConfigValueError } from './errors';
import { exactProduct } from './parse-scalars';

const DURATION_UNITS: Readonly<Record<string, bigint>> = {
  ms: 1n,
  s: 1000n,
  m: 60_000n,
  h: 3_600_000n,
  d: 86_400_000n,
};

const DURATION_EXPECTED =
  'expected a non-negative duration: a whole number of milliseconds, or amounts with units ' +
  'ms, s, m, h, d (lower case), e.g. 10ms, 10s, 5m, 1h30m, 7d';

/** One `<amount><unit>` part; sticky so the parts must cover the whole text with nothing between. */
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/y;

/**
 * Parses a duration such as `10ms`, `10s`, `5m`, `1h30m` or `7d` into milliseconds; a plain
 * integer is milliseconds. Units are lower case only, as in Go's `time.ParseDuration`, so `M`
 * is never mistaken for months. A result with a fraction of a millisecond is refused.
 */
export function parseDuration(text: string): number {
  const fail = (problem: string): never => {
    throw new ConfigValueError(`Invalid duration ${JSON.stringify(text)}: ${problem}`, problem);
  };
  if (typeof text !== 'string') fail(DURATION_EXPECTED);
  const trimmed = text.trim();
  if (trimmed === '') fail(`empty; ${DURATION_EXPECTED}`);
  if (trimmed.startsWith('-')) fail(`negative durations are not allowed; ${DURATION_EXPECTED}`);
  let total = 0n;
  if (/^\d+$/.test(trimmed)) {
    total = BigInt(trimmed);
  } else {
    PART.lastIndex = 0;
    let consumed = 0;
    let match: RegExpExecArray | null;
    while ((match = PART.exec(trimmed)) !== null) {
      const ms = exactProduct(match[1], DURATION_UNITS[match[2]]);
      if (ms === undefined) fail(`not a whole number of milliseconds; ${DURATION_EXPECTED}`);
      total += ms as bigint;
      consumed = PART.lastIndex;
    }
    if (consumed !== trimmed.length) fail(DURATION_EXPECTED);
  }
  if (total > BigInt(Number.MAX_SAFE_INTEGER)) {
    fail(`too long (at most ${Number.MAX_SAFE_INTEGER} ms)`);
  }
  return Number(total);
}

/** Parses a duration that becomes a timer's delay: more than 0 and at most MAX_TIMER_MS. */
export const parseTimerDuration = bounded(
  parseDuration,
  { above: 0, atMost: MAX_TIMER_MS },
  `must be greater than 0 and at most ${MAX_TIMER_MS} ms (24.8 days): it is a timer's delay`,
);

const CRON_EXPECTED =
  'expected a cron expression with 5 or 6 fields (or @hourly, @daily, …), e.g. "0 * * * *"';

/**
 * Checks a cron expression with the `cron` package that @nestjs/schedule runs jobs with, so
 * what passes here is exactly what the scheduler accepts.
 */
export function parseCron(text: string): string {
  const trimmed = typeof text === 'string' ? text.trim() : '';
  try {
    if (trimmed === '') throw new Error('empty');
    new CronTime(trimmed);
  } catch (err) {
    const problem = `${(err as Error).message}; ${CRON_EXPECTED}`;
    throw new ConfigValueError(
      `Invalid cron expression ${JSON.stringify(text)}: ${problem}`,
      problem,
    );
  }
  return trimmed;
}

import { CronTime } from 'cron';
import { ConfigValueError } from './errors';

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

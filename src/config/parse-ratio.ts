import { ConfigValueError } from './errors';

const RATIO_EXPECTED = 'expected a fraction greater than 0 and at most 1, e.g. 0.9';

/** Parses a share such as a disk-usage threshold: a decimal in (0, 1]. */
export function parseRatio(text: string): number {
  const trimmed = typeof text === 'string' ? text.trim() : '';
  const value = /^(\d+(\.\d+)?|\.\d+)$/.test(trimmed) ? Number(trimmed) : NaN;
  if (!(value > 0 && value <= 1)) {
    throw new ConfigValueError(
      `Invalid fraction ${JSON.stringify(text)}: ${RATIO_EXPECTED}`,
      RATIO_EXPECTED,
    );
  }
  return value;
}

/** Scalars: whole numbers, fractions, choices, text; and exact decimal arithmetic. */
import { ConfigValueError } from './errors';

/**
 * `amount × multiplier` for a decimal `amount` string such as `1.5`, computed exactly in
 * integers; undefined when the product has a fractional part. Floating point would make
 * `1.1KB` 1100.0000000000002 bytes and refuse it, or round values a user did not ask to round.
 */
export function exactProduct(amount: string, multiplier: bigint): bigint | undefined {
  const [whole, fraction = ''] = amount.split('.');
  const scale = 10n ** BigInt(fraction.length);
  const scaled = BigInt(`${whole || '0'}${fraction}`) * multiplier;
  return scaled % scale === 0n ? scaled / scale : undefined;
}

/**
 * Parses a whole number written in decimal digits within `[min, max]`. Nothing else is
 * accepted (`1e3`, `0x10`, `12abc`, `1.0`): `Number()` and `parseInt()` both let some through.
 */
export function parseInteger(text: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const expected = `expected a whole number from ${min} to ${max}`;
  const trimmed = typeof text === 'string' ? text.trim() : '';
  const value = /^-?\d+$/.test(trimmed) ? Number(trimmed) : NaN;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new ConfigValueError(`Invalid number ${JSON.stringify(text)}: ${expected}`, expected);
  }
  return value;
}

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

/** Returns a parser that accepts exactly one of `choices` (case-sensitive, as documented). */
export function parseChoice<T extends string>(choices: readonly T[]): (text: string) => T {
  const expected = `expected one of ${choices.join(', ')}`;
  return (text: string): T => {
    const trimmed = typeof text === 'string' ? text.trim() : '';
    if (!(choices as readonly string[]).includes(trimmed)) {
      throw new ConfigValueError(`Invalid choice ${JSON.stringify(text)}: ${expected}`, expected);
    }
    return trimmed as T;
  };
}

/**
 * Returns a parser for free text that must not be blank (a directory, a token). The message
 * never repeats the value: this parser also reads secrets.
 */
export function parseText(what: string): (text: string) => string {
  const expected = `expected a non-empty ${what}`;
  return (text: string): string => {
    if (typeof text !== 'string' || text.trim() === '' || text.includes('\0')) {
      throw new ConfigValueError(`Invalid ${what}: ${expected}`, expected);
    }
    return text;
  };
}

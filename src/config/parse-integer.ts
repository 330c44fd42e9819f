import { ConfigValueError } from './errors';

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

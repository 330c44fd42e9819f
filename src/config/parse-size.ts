import { ConfigValueError } from './errors';
import { exactProduct } from './exact-product';

/** Multipliers by lower-cased unit: SI units are 1000-based, IEC units and K/M/G/T 1024-based. */
const SIZE_UNITS: Readonly<Record<string, bigint>> = {
  '': 1n,
  b: 1n,
  kb: 1000n,
  mb: 1000n ** 2n,
  gb: 1000n ** 3n,
  tb: 1000n ** 4n,
  k: 1024n,
  m: 1024n ** 2n,
  g: 1024n ** 3n,
  t: 1024n ** 4n,
  kib: 1024n,
  mib: 1024n ** 2n,
  gib: 1024n ** 3n,
  tib: 1024n ** 4n,
};

const SIZE_EXPECTED =
  'expected a non-negative whole number of bytes, optionally with a unit ' +
  '(B, KB, MB, GB, TB = 1000-based; KiB, MiB, GiB, TiB or K, M, G, T = 1024-based), ' +
  'e.g. 10GiB, 512MB, 1.5KiB, 1048576';

const SIZE_PATTERN = /^(\d+(?:\.\d+)?|\.\d+)\s*([a-z]*)$/i;

/**
 * Parses a size such as `10GiB`, `512MB`, `1.5KiB` or `1048576` into bytes. Decimal fractions
 * are computed exactly (not in floating point), so `1.1KB` is 1100 bytes, and a result that is
 * not a whole number of bytes (`1.5B`) is refused rather than rounded.
 */
export function parseSize(text: string): number {
  const fail = (problem: string): never => {
    throw new ConfigValueError(`Invalid size ${JSON.stringify(text)}: ${problem}`, problem);
  };
  if (typeof text !== 'string') fail(SIZE_EXPECTED);
  const trimmed = text.trim();
  if (trimmed === '') fail(`empty; ${SIZE_EXPECTED}`);
  if (trimmed.startsWith('-')) fail(`negative sizes are not allowed; ${SIZE_EXPECTED}`);
  const match = SIZE_PATTERN.exec(trimmed);
  if (!match) fail(SIZE_EXPECTED);
  const [, amount, unit] = match as RegExpExecArray;
  const multiplier = SIZE_UNITS[unit.toLowerCase()];
  if (multiplier === undefined) fail(`unknown unit "${unit}"; ${SIZE_EXPECTED}`);
  const bytes = exactProduct(amount, multiplier);
  if (bytes === undefined) fail(`not a whole number of bytes; ${SIZE_EXPECTED}`);
  if ((bytes as bigint) > BigInt(Number.MAX_SAFE_INTEGER)) {
    fail(`too large (at most ${Number.MAX_SAFE_INTEGER} bytes)`);
  }
  return Number(bytes);
}

/** Sizes and byte rates: `10GiB`, `512MB`, `1.5KiB`, `1048576`, `1MiB/s`. */
import { bounded } from './bounds';
import { ConfigValueError } from './errors';
import { exactProduct } from './parse-scalars';

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

/** Parses a byte rate: a size per second, `1MiB`, `1MiB/s` or `1048576`; 0 means unlimited. */
export function parseRate(text: string): number {
  const size = typeof text === 'string' ? text.trim().replace(/\/s$/i, '') : text;
  try {
    return parseSize(size);
  } catch (err) {
    const problem = `${(err as ConfigValueError).detail} per second (optionally with "/s"); 0 means unlimited`;
    throw new ConfigValueError(`Invalid rate ${JSON.stringify(text)}: ${problem}`, problem);
  }
}

/**
 * The largest replay batch accepted. A batch is read whole into memory, the next one is read
 * while it is in flight, and the request body joins it once more: a batch of many GiB reads a
 * whole backlog at once and runs the process out of memory on every start. 256 MiB is far above
 * any useful request (InfluxDB refuses bodies over 25 MB by default).
 */
export const MAX_REPLAY_BATCH_BYTES = 256 * 1024 * 1024;

/** Parses `HH_REPLAY_BATCH_BYTES`: more than 0 and at most MAX_REPLAY_BATCH_BYTES bytes. */
export const parseBatchSize = bounded(
  parseSize,
  { above: 0, atMost: MAX_REPLAY_BATCH_BYTES },
  `must be greater than 0 and at most ${MAX_REPLAY_BATCH_BYTES} bytes (256MiB): a batch is held in memory`,
);

/**
 * The smallest segment accepted. A segment holds its entries' framing (a 24-byte header each)
 * and a 72-byte seal: below about 100 bytes no entry fits at all, and the queue would refuse
 * every hand-off at run time. 1 KiB is a round floor well above that overhead.
 */
export const MIN_SEGMENT_SIZE = 1024;

/** Parses `HH_MAX_SEGMENT_SIZE`: a size of at least MIN_SEGMENT_SIZE bytes. */
export const parseSegmentSize = bounded(
  parseSize,
  { atLeast: MIN_SEGMENT_SIZE },
  `must be at least ${MIN_SEGMENT_SIZE} bytes (a segment holds whole entries with their framing)`,
);

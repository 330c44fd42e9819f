import { crc32 as zlibCrc32 } from 'node:zlib';

/** CRC-32 (the zlib / IEEE 802.3 polynomial) of `data`, unsigned. */
export type Crc32 = (data: Uint8Array) => number;

export interface Crc32Choice {
  /** Which implementation checks the records: 'node-rs' (@node-rs/crc32) or 'zlib'. */
  name: 'node-rs' | 'zlib';
  crc32: Crc32;
}

/**
 * Picks the implementation: `auto` (unset) takes @node-rs/crc32 when it is installed and loads
 * (an optional dependency with prebuilt binaries; ~2× zlib's speed here, which was a quarter of
 * a drain), else zlib's; `zlib` takes zlib's. Both compute the same CRC-32, so segments written
 * with one are read with the other: the choice is never part of the format.
 */
export const CRC32_ENV = 'HH_QUEUE_CRC32';

export function chooseCrc32(
  setting: string | undefined,
  load: () => unknown = loadNodeRs,
): Crc32Choice {
  const want = setting === undefined || setting === '' ? 'auto' : setting.trim().toLowerCase();
  if (want === 'zlib') return zlibChoice();
  if (want !== 'auto') {
    throw new Error(`${CRC32_ENV}=${JSON.stringify(setting)}: expected one of auto, zlib`);
  }
  let mod: unknown;
  try {
    mod = load();
  } catch {
    // Not installed (optional dependencies may be skipped) or no binary for this platform.
    return zlibChoice();
  }
  const fn = (mod as { crc32?: unknown } | null)?.crc32;
  if (typeof fn !== 'function') return zlibChoice();
  // The function itself, not a wrapper: it runs once per record group on the drain's path.
  return { name: 'node-rs', crc32: fn as Crc32 };
}

function zlibChoice(): Crc32Choice {
  return { name: 'zlib', crc32: zlibCrc32 };
}

function loadNodeRs(): unknown {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('@node-rs/crc32');
}

/**
 * The implementation of this process, chosen once when the queue is loaded. A bad value must not
 * crash the load with a stack trace: the configuration check reports it (HH_QUEUE_CRC32) with the
 * other variables before anything opens, and meanwhile `auto` is taken (both compute the same
 * checksums, so nothing written depends on the choice).
 */
export const selectedCrc32: Crc32Choice = chooseAtLoad(process.env[CRC32_ENV]);

function chooseAtLoad(setting: string | undefined): Crc32Choice {
  try {
    return chooseCrc32(setting);
  } catch {
    return chooseCrc32('auto');
  }
}

/** The CRC-32 every record, group and position slot is checked with. */
export const crc32: Crc32 = selectedCrc32.crc32;

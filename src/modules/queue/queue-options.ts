import { DEFAULTS, FSYNC_POLICIES, MAX_TIMER_MS, type FsyncPolicy } from '../../config/defaults';
import { SEAL_SIZE } from './segment-format';

const DEFAULT_POSITION_SYNC_ENTRIES = 1000;

export interface ResolvedQueueOptions {
  maxSize: number;
  maxSegmentSize: number;
  fsync: FsyncPolicy;
  fsyncIntervalMs: number;
  positionSyncEntries: number;
}

export interface QueueOptionValues {
  maxSize?: number;
  maxSegmentSize?: number;
  fsync?: FsyncPolicy;
  fsyncIntervalMs?: number;
  positionSyncEntries?: number;
}

/** An integer a byte count or counter can be: no fraction, no NaN, exact in a double. */
function isCount(n: unknown): n is number {
  return typeof n === 'number' && Number.isSafeInteger(n);
}

/** The smallest segment that holds a seal and an empty entry (24 + 0 + 72 bytes). */
export function checkMaxSegmentSize(n: unknown): number {
  if (!isCount(n) || n <= SEAL_SIZE) {
    throw new RangeError(
      `maxSegmentSize must be an integer above ${SEAL_SIZE} bytes, got ${String(n)}`,
    );
  }
  return n;
}

/**
 * Options with their defaults, each checked: a wrong value (0, a fraction, an overflowed size, an
 * unknown fsync mode) would otherwise surface much later as every append failing with
 * QueueFullError, or a timer firing in a busy loop.
 */
export function resolveQueueOptions(o: QueueOptionValues): ResolvedQueueOptions {
  const maxSize = o.maxSize ?? DEFAULTS.maxSize;
  if (!isCount(maxSize) || maxSize <= 0) {
    throw new RangeError(`maxSize must be a positive integer of bytes, got ${String(maxSize)}`);
  }
  const maxSegmentSize = checkMaxSegmentSize(o.maxSegmentSize ?? DEFAULTS.maxSegmentSize);
  const fsync = o.fsync ?? DEFAULTS.fsync;
  if (!FSYNC_POLICIES.includes(fsync)) {
    throw new RangeError(`fsync must be one of ${FSYNC_POLICIES.join(', ')}, got ${String(fsync)}`);
  }
  const fsyncIntervalMs = o.fsyncIntervalMs ?? DEFAULTS.fsyncIntervalMs;
  if (
    typeof fsyncIntervalMs !== 'number' ||
    !(fsyncIntervalMs >= 1 && fsyncIntervalMs <= MAX_TIMER_MS)
  ) {
    throw new RangeError(
      `fsyncIntervalMs must be a number of ms from 1 to ${MAX_TIMER_MS}, got ${String(fsyncIntervalMs)}`,
    );
  }
  const positionSyncEntries = o.positionSyncEntries ?? DEFAULT_POSITION_SYNC_ENTRIES;
  if (!isCount(positionSyncEntries) || positionSyncEntries < 1) {
    throw new RangeError(
      `positionSyncEntries must be a positive integer, got ${String(positionSyncEntries)}`,
    );
  }
  return { maxSize, maxSegmentSize, fsync, fsyncIntervalMs, positionSyncEntries };
}

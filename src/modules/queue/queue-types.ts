import { type FsyncPolicy } from '../../config/defaults';
import { type QueueFileSystem } from './queue-fs';
import { type SegmentRange } from './segment-gaps';

export interface CorruptInfo {
  segment: number;
  offset: number;
  bytes: number;
  reason: string;
}

export interface DiskBackedQueueOptions {
  /** Bytes on disk over all segments; default DEFAULTS.maxSize (10 GiB). */
  maxSize?: number;
  /** Default DEFAULTS.maxSegmentSize (10 MiB); a segment never passes it (seal included). */
  maxSegmentSize?: number;
  /** Default 'interval'. */
  fsync?: FsyncPolicy;
  /** Default 100. */
  fsyncIntervalMs?: number;
  /**
   * In 'interval' and 'never' mode the head position is written every this many advanced entries
   * (default 1000) and on every fsyncIntervalMs tick, whichever comes first. After a process crash
   * at most this many entries (fewer if fewer were advanced in the last tick) are delivered
   * again; after a power loss in 'interval' mode, the entries advanced in the last tick. 'always'
   * makes the position durable before advance() resolves: at most the entries of the advance in
   * flight are delivered again.
   */
  positionSyncEntries?: number;
  /** Clock (ms) stamped into each record; default Date.now. */
  now?: () => number;
  /** Injectable fs layer (defaults to node:fs/promises) so tests can inject ENOSPC / EIO. */
  fs?: QueueFileSystem;
  /** Called for each corrupt region skipped (and for a garbage position file), for metrics/logs. */
  onCorrupt?: (info: CorruptInfo) => void;
  /**
   * Segment files found missing at open, from the head on (a hole in the numbering, or no
   * successor to a sealed last segment): their entries are lost, the queue goes on past them.
   */
  onMissingSegments?: (missing: SegmentRange[]) => void;
}

export interface QueuePosition {
  segment: number;
  offset: number;
}

/** `bytes` counts unread payload bytes; `oldest` is the append time of the head entry. */
export interface QueueBacklog {
  entries: number;
  bytes: number;
  oldest: Date | null;
}

export interface QueueEntry {
  payload: Buffer;
  /** Append time, ms. */
  appendedAt: number;
}

export interface PurgeResult {
  entries: number;
  bytes: number;
  segments: number;
}

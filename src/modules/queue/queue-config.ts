import { join, resolve } from 'node:path';
import { type FsyncPolicy } from '../../config/defaults';
import { nodeQueueFileSystem, type QueueFileSystem } from './queue-fs';
import { resolveQueueOptions } from './queue-options';
import { type CorruptInfo, type DiskBackedQueueOptions } from './queue-types';
import { type SegmentRange } from './segment-gaps';
import { segmentFileName } from './segment-format';

/**
 * What every part of one queue shares: its directory, its file system and its resolved options.
 * One object per queue, kept across reopens (setMaxSegmentSize changes it in place).
 */
export class QueueConfig {
  readonly dir: string;
  readonly fs: QueueFileSystem;
  readonly maxSize: number;
  maxSegmentSize: number;
  readonly fsync: FsyncPolicy;
  readonly fsyncIntervalMs: number;
  readonly positionSyncEntries: number;
  readonly now: () => number;
  readonly onCorrupt?: (info: CorruptInfo) => void;
  readonly onMissingSegments?: (missing: SegmentRange[]) => void;

  constructor(dir: string, options: DiskBackedQueueOptions) {
    this.dir = resolve(dir);
    this.fs = options.fs ?? nodeQueueFileSystem;
    const resolved = resolveQueueOptions(options);
    this.maxSize = resolved.maxSize;
    this.maxSegmentSize = resolved.maxSegmentSize;
    this.fsync = resolved.fsync;
    this.fsyncIntervalMs = resolved.fsyncIntervalMs;
    this.positionSyncEntries = resolved.positionSyncEntries;
    this.now = options.now ?? Date.now;
    this.onCorrupt = options.onCorrupt;
    this.onMissingSegments = options.onMissingSegments;
  }

  segmentPath(id: number): string {
    return join(this.dir, segmentFileName(id));
  }
}

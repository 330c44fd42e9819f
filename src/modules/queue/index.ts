/** The queue core: plain TypeScript, no NestJS. The Nest wrapper lives beside it, not here. */
export {
  DiskBackedQueue,
  type CorruptInfo,
  type DiskBackedQueueOptions,
  type PurgeResult,
  type QueueBacklog,
  type QueueEntry,
  type QueuePosition,
} from './disk-backed-queue';
export {
  QueueFailedError,
  QueueFullError,
  QueueLockedError,
  QueueNotOpenError,
  QueueOpenError,
  SegmentFullError,
} from './errors';
export { nodeQueueFileSystem, type QueueFileHandle, type QueueFileSystem } from './queue-fs';
export {
  countSegments,
  formatSegmentRanges,
  missingSegments,
  type SegmentRange,
} from './segment-gaps';

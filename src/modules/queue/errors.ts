/** Errors of the queue core. Each has a stable `code` for callers, logs and metrics. */

import { HandoffError } from '../../handoff-error';

export class QueueNotOpenError extends HandoffError {
  readonly code = 'ERR_QUEUE_NOT_OPEN';
  constructor(readonly dir: string) {
    super(`queue ${dir} is not open`);
  }
}

export class QueueFullError extends HandoffError {
  readonly code = 'ERR_QUEUE_FULL';
  constructor(
    readonly dir: string,
    readonly maxSize: number,
  ) {
    super(`queue ${dir} is full (max ${maxSize} bytes on disk)`);
  }
}

export class SegmentFullError extends HandoffError {
  readonly code = 'ERR_SEGMENT_FULL';
  constructor(
    readonly recordBytes: number,
    readonly maxSegmentSize: number,
  ) {
    super(
      `an entry of ${recordBytes} framed bytes does not fit a segment of ${maxSegmentSize} bytes`,
    );
  }
}

export class QueueLockedError extends HandoffError {
  readonly code = 'ERR_QUEUE_LOCKED';
  constructor(
    readonly dir: string,
    /** The pid named in the lock file (this process's own pid for a second open in-process). */
    readonly pid: number,
  ) {
    super(`queue ${dir} is locked by process ${pid}`);
  }
}

export class QueueOpenError extends HandoffError {
  readonly code = 'ERR_QUEUE_OPEN';
  constructor(readonly dir: string) {
    super(`queue ${dir} is open; close it before removing it`);
  }
}

/**
 * A write or fsync failed in a way that leaves the file in an unknown state (a failed fdatasync
 * may have dropped dirty pages, a failed truncate leaves a hole): every later append/advance
 * rejects with this until the queue is closed and reopened, which re-scans the tail.
 */
export class QueueFailedError extends HandoffError {
  readonly code = 'ERR_QUEUE_FAILED';
  constructor(
    readonly dir: string,
    cause: unknown,
  ) {
    super(
      `queue ${dir} failed and must be reopened: ${(cause as Error)?.message ?? String(cause)}`,
      { cause },
    );
  }
}

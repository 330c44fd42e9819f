/** Errors of the replay side. Each has a stable `code` for logs, metrics and callers. */

export class TransientWriteError extends Error {
  readonly code = 'ERR_TRANSIENT_WRITE';
  constructor(
    message: string,
    /** Entries at the front of the batch the node took before failing. */
    readonly delivered = 0,
    /** HTTP status, when the failure was an answer rather than a network error. */
    readonly status?: number,
  ) {
    super(message);
    this.name = 'TransientWriteError';
  }
}

export class PermanentWriteError extends Error {
  readonly code = 'ERR_PERMANENT_WRITE';
  constructor(
    message: string,
    readonly delivered = 0,
    readonly status?: number,
    /** The node's answer (body excerpt), kept with a dead-lettered entry. */
    readonly response?: string,
  ) {
    super(message);
    this.name = 'PermanentWriteError';
  }
}

/** How many entries an error says were delivered before it; 0 for errors that do not say. */
export function deliveredBefore(err: unknown): number {
  const n = (err as { delivered?: unknown } | null)?.delivered;
  return typeof n === 'number' && Number.isInteger(n) && n > 0 ? n : 0;
}

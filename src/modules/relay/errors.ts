/** Errors of the relay. Each has a stable `code` for logs and callers. */

/**
 * A handed-off entry that is not a readable relay envelope (unknown version, truncated header,
 * unknown precision or encoding). Replaying it can never succeed, so the node client reports it
 * as a permanent error and the replayer dead-letters it instead of blocking the queue.
 */
export class BadEnvelopeError extends Error {
  readonly code = 'ERR_BAD_ENVELOPE';
  constructor(message: string) {
    super(message);
    this.name = 'BadEnvelopeError';
  }
}

/** A node id the relay's node client has no URL for. */
export class UnknownRelayNodeError extends Error {
  readonly code = 'ERR_UNKNOWN_RELAY_NODE';
  constructor(readonly nodeId: string) {
    super(`no URL configured for node ${JSON.stringify(nodeId)}`);
    this.name = 'UnknownRelayNodeError';
  }
}

/** A gzip write body that does not inflate, or inflates past the body limit. */
export class BadWriteBodyError extends Error {
  readonly code = 'ERR_BAD_WRITE_BODY';
  constructor(
    message: string,
    /** The HTTP status the client gets: 400 for a corrupt body, 413 for one too large. */
    readonly status: 400 | 413,
  ) {
    super(message);
    this.name = 'BadWriteBodyError';
  }
}

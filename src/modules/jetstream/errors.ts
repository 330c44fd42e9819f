/** Errors of the JetStream store. Each has a stable `code`, like the queue core's errors. */

/**
 * NATS could not be reached (no connection, or no JetStream answer within the publish budget):
 * nothing was stored. A relay answers 503 and the store heals by itself once NATS is back.
 */
export class NatsUnavailableError extends Error {
  readonly code = 'ERR_NATS_UNAVAILABLE';
  constructor(
    readonly what: string,
    override readonly cause?: unknown,
  ) {
    const why = cause === undefined ? '' : `: ${(cause as Error)?.message ?? String(cause)}`;
    super(`NATS JetStream is unavailable (${what})${why}`);
    this.name = 'NatsUnavailableError';
  }
}

/** A node id that cannot name a stream (see names.ts), or bad connection settings. */
export class JetStreamConfigError extends Error {
  readonly code = 'ERR_JETSTREAM_CONFIG';
  constructor(message: string) {
    super(message);
    this.name = 'JetStreamConfigError';
  }
}

/**
 * The HTTP status a host should answer when a hand-off call fails, by the error's stable `code`
 * (not its class, so errors from a second copy of the package map the same way).
 */

/** A node answered one of these: the data itself was refused, so the client must change it. */
const DATA_REFUSED_STATUSES: ReadonlySet<number> = new Set([400, 413, 422]);

const STATUS_BY_CODE: Readonly<Record<string, number>> = {
  ERR_UNKNOWN_NODE: 404,
  ERR_INVALID_NODE_ID: 400,
  ERR_DUPLICATE_NODE: 409,
  // Storage is refusing or unavailable right now: the client may retry later.
  ERR_QUEUE_FULL: 503,
  ERR_SEGMENT_FULL: 503,
  ERR_QUEUE_NOT_OPEN: 503,
  ERR_QUEUE_OPEN: 503,
  ERR_QUEUE_FAILED: 503,
  ERR_QUEUE_LOCKED: 503,
  ERR_REPLAY_CLOSED: 503,
  ERR_TRANSIENT_WRITE: 503,
  // NATS JetStream (HH_STORE=jetstream) cannot be reached: nothing was stored; it heals itself.
  ERR_NATS_UNAVAILABLE: 503,
  // Another relay holds the node's replay lease: replay it there (or wait for a takeover).
  ERR_LEASE_NOT_HELD: 409,
};

/**
 * `PermanentWriteError` is 422 when the node refused the data (400, 413, 422: retrying the same
 * body cannot help) and 502 otherwise (401, 403, 404…: the node or its credentials are wrong,
 * which is the host's problem, not the client's). Undefined for an error that is not the
 * library's.
 */
export function handoffErrorStatus(err: unknown): number | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return undefined;
  if (code === 'ERR_PERMANENT_WRITE') {
    const status = (err as { status?: unknown }).status;
    return typeof status === 'number' && DATA_REFUSED_STATUSES.has(status) ? 422 : 502;
  }
  return STATUS_BY_CODE[code];
}

/** Seconds a client should wait before retrying a 503 (Retry-After). */
export const HANDOFF_RETRY_AFTER_SECONDS = 1;

/** Errors of the replay side. Each has a stable `code` for logs, metrics and callers. */

import { HandoffError } from '../../handoff-error';

export class TransientWriteError extends HandoffError {
  readonly code = 'ERR_TRANSIENT_WRITE';
  constructor(
    message: string,
    /** Entries at the front of the batch the node took before failing. */
    readonly delivered = 0,
    /** HTTP status, when the failure was an answer rather than a network error. */
    readonly status?: number,
  ) {
    super(message);
  }
}

export class PermanentWriteError extends HandoffError {
  readonly code = 'ERR_PERMANENT_WRITE';
  constructor(
    message: string,
    readonly delivered = 0,
    readonly status?: number,
    /** The node's answer (body excerpt), kept with a dead-lettered entry. */
    readonly response?: string,
  ) {
    super(message);
  }
}

/** How many entries an error says were delivered before it; 0 for errors that do not say. */
export function deliveredBefore(err: unknown): number {
  const n = (err as { delivered?: unknown } | null)?.delivered;
  return typeof n === 'number' && Number.isInteger(n) && n > 0 ? n : 0;
}

/** The node did not answer within the request timeout (a transient failure). */
export class NodeTimeoutError extends TransientWriteError {
  constructor(message: string, delivered = 0) {
    super(message, delivered);
  }
}

/** The connection failed (refused, reset, DNS…) before an answer: a transient failure. */
export class NodeUnreachableError extends TransientWriteError {
  constructor(
    message: string,
    delivered = 0,
    /** The socket error code (ECONNREFUSED, ECONNRESET, …). */
    readonly socketCode?: string,
  ) {
    super(message, delivered);
  }
}

/** A node id that is not configured (nor found on disk) was asked for. */
export class UnknownNodeError extends HandoffError {
  readonly code = 'ERR_UNKNOWN_NODE';
  constructor(readonly nodeId: string) {
    super(`unknown node "${nodeId}"`);
  }
}

/** One class for a bad node id, wherever it is caught: the queue registry's. */
export { InvalidNodeIdError } from '../queue/registry-errors';

/** A node id given twice (addNode of a node that exists). */
export class DuplicateNodeError extends HandoffError {
  readonly code = 'ERR_DUPLICATE_NODE';
  constructor(readonly nodeId: string) {
    super(`node "${nodeId}" already exists`);
  }
}

/** The replayer (or its rate limiter) was closed while the operation waited. */
export class ReplayClosedError extends HandoffError {
  readonly code = 'ERR_REPLAY_CLOSED';
  constructor(message = 'replayer closed') {
    super(message);
  }
}

/**
 * This relay does not hold the node's replay lease (JetStream store): another relay replays
 * the node. Thrown before an advance when the lease was lost during the send; the entries stay
 * at the head, and the lease's holder sends them.
 */
export class LeaseNotHeldError extends HandoffError {
  readonly code = 'ERR_LEASE_NOT_HELD';
  constructor(readonly nodeId: string) {
    super(`this relay does not hold the replay lease of node "${nodeId}"`);
  }
}

/**
 * Errors of the per-node queue registry. The core's errors.ts belongs to the queue core; these
 * are the registry's own, with the same stable-`code` convention.
 */

import { HandoffError } from '../../handoff-error';

/** A node id that does not match NODE_ID_PATTERN (or is `.`/`..`): it would name no safe directory. */
export class InvalidNodeIdError extends HandoffError {
  readonly code = 'ERR_INVALID_NODE_ID';
  constructor(readonly nodeId: unknown) {
    // Quoted and cut short: the id may come from a request and must not flood a log line.
    super(
      `invalid node id ${JSON.stringify(String(nodeId)).slice(0, 80)}: expected 1-64 of [A-Za-z0-9_.-], not "." or ".."`,
    );
  }
}

/** Errors of the drop-in module. Each has a stable `code` for logs and callers. */

import { HandoffError } from '../../handoff-error';

/** `registerQueue(id)` named a node that is neither configured nor found on disk. */
export class HandoffQueueNotConfiguredError extends HandoffError {
  readonly code = 'ERR_HANDOFF_QUEUE_NOT_CONFIGURED';
  constructor(readonly nodeId: string) {
    super(
      `registerQueue("${nodeId}"): no such node; configure it in HH_NODES or the module's nodes option`,
    );
  }
}

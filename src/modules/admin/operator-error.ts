import { ServiceUnavailableException } from '@nestjs/common';
import { QueueFailedError, QueueFullError, QueueNotOpenError } from '../queue/errors';
import { ReplayClosedError } from '../replay/errors';

/**
 * The answer to an operator action the service refused, instead of a bare 500: a queue that is
 * full, failed or closing is 503 with the reason (queue errors name the directory and limits,
 * never payloads). A node removed meanwhile is UnknownNodeFilter's 404; anything else is left
 * to Nest: a real fault.
 */
export function operatorError(nodeId: string, action: string, err: unknown): unknown {
  if (
    err instanceof QueueFullError ||
    err instanceof QueueFailedError ||
    err instanceof QueueNotOpenError ||
    err instanceof ReplayClosedError
  ) {
    return new ServiceUnavailableException({
      error: `${action} of node ${nodeId} failed: ${err.message}`,
    });
  }
  return err;
}

import { NotFoundException, ServiceUnavailableException } from '@nestjs/common';
import { QueueFailedError, QueueFullError, QueueNotOpenError } from '../queue/errors';
import { ReplayClosedError, UnknownNodeError } from '../replay/errors';

/**
 * The answer to an operator action the service refused, instead of a bare 500: a node removed
 * while the request waited is 404 like any unknown node; a queue that is full, failed or closing
 * is 503 with the reason (queue errors name the directory and limits, never payloads).
 * Anything else is left to Nest: a real fault.
 */
export function operatorError(nodeId: string, action: string, err: unknown): unknown {
  if (err instanceof UnknownNodeError) {
    return new NotFoundException({ error: `unknown node ${JSON.stringify(nodeId)}` });
  }
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

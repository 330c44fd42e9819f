import { isValidNodeId } from '../../config/node-id';
import { InvalidNodeIdError } from './registry-errors';

/** DI token of the QueueModule options (`{ dataDir, queueOptions }`) the registry is built from. */
export const QUEUE_MODULE_OPTIONS = Symbol('QUEUE_MODULE_OPTIONS');

export const HANDOFF_QUEUE_TOKEN_PREFIX = 'HANDOFF_QUEUE:';

/**
 * DI token of one node's opened DiskBackedQueue, as provided by `QueueModule.registerQueue(id)`.
 * A string, so it reads well in Nest's "cannot resolve" messages. An id that could never name a
 * queue throws here, when the decorator or provider is declared, not at the first append.
 */
export function getHandoffQueueToken(nodeId: string): string {
  if (!isValidNodeId(nodeId)) throw new InvalidNodeIdError(nodeId);
  return `${HANDOFF_QUEUE_TOKEN_PREFIX}${nodeId}`;
}

import { Inject } from '@nestjs/common';
import { getHandoffQueueToken } from './queue.constants';

/**
 * Injects the opened DiskBackedQueue of node `nodeId`; the module must import
 * `QueueModule.registerQueue(nodeId)`.
 */
export const InjectHandoffQueue = (nodeId: string): PropertyDecorator & ParameterDecorator =>
  Inject(getHandoffQueueToken(nodeId));

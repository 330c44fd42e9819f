import type { HandoffQueue } from './handoff-queue.contract';

/**
 * Where `QueueModule.registerQueue` gets a node's opened queue: the registry of
 * `QueueModule.forRoot*()`, or the HandoffService of `HintedHandoffModule`, whichever the app
 * has (both provide this token globally). One token, so a directory never gets two owners
 * through two registerQueue methods.
 */
export const HANDOFF_QUEUE_SOURCE = Symbol('HANDOFF_QUEUE_SOURCE');

export interface HandoffQueueSource {
  /**
   * The node's queue, opened; rejects when the node cannot have one. A DiskBackedQueue with the
   * disk store (QueueModule.forRoot* is always disk), a JetStreamQueue with HH_STORE=jetstream.
   */
  queueOf(nodeId: string): Promise<HandoffQueue>;
}

import { Inject, Injectable } from '@nestjs/common';
import { HandoffService } from '../replay/handoff.service';
import { PermanentWriteError } from '../replay/errors';
import { NODE_CLIENT, type NodeClient } from '../replay/node-client.interface';
import { isRoutable } from '../replay/routable-node-client';

/** Where a write went: to the node now, or durably into its hand-off queue. */
export type HandoffWriteResult = 'delivered' | 'handed-off';

/**
 * The common host flow in one call: send live, hand off when the node cannot take it. A node
 * with a backlog gets the write behind its queue without a live attempt, so a write never
 * overtakes an older one that was handed off (writes started concurrently for one node are not
 * ordered among themselves, as with any concurrent requests).
 */
@Injectable()
export class HandoffWriter {
  constructor(
    private readonly handoff: HandoffService,
    @Inject(NODE_CLIENT) private readonly client: NodeClient,
  ) {}

  /**
   * Resolves `'delivered'` or `'handed-off'`. Rejects with the node's `PermanentWriteError`
   * when it refuses the data (nothing is queued: retrying would not help), with
   * `UnknownNodeError` for a node the service does not know, and with the queue's error
   * (`QueueFullError`, …) when a hand-off cannot be stored.
   */
  async write(nodeId: string, payload: Uint8Array): Promise<HandoffWriteResult> {
    if (this.handoff.isBacklogged(nodeId) || !this.canSendLive(nodeId)) {
      await this.handoff.enqueue(nodeId, payload);
      return 'handed-off';
    }
    try {
      await this.client.send(nodeId, [
        Buffer.from(payload.buffer, payload.byteOffset, payload.length),
      ]);
      return 'delivered';
    } catch (err) {
      if (err instanceof PermanentWriteError) throw err;
      await this.handoff.enqueue(nodeId, payload);
      return 'handed-off';
    }
  }

  /**
   * A node added at run time with a client of its own is not reachable through the shared one:
   * its writes go through the queue, which replays them with that node's client.
   */
  private canSendLive(nodeId: string): boolean {
    return !isRoutable(this.client) || this.client.hasNode(nodeId);
  }
}

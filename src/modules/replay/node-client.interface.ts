import type { PartitionedEntry } from './replay-lanes';

/**
 * How entries reach a node. The replayer peeks a batch at the head of the node's queue, hands it
 * to `send`, and advances by what was delivered. The default is the HTTP client; a host app may
 * plug in its own transport (the @nestjs/throttler storage pattern).
 *
 * Contract:
 * - resolve: every entry of `entries` was delivered;
 * - throw `PermanentWriteError`: the node refuses the data (e.g. HTTP 4xx other than 408/429);
 *   the replayer dead-letters instead of retrying;
 * - throw anything else (`TransientWriteError` or any Error): keep and retry with back-off;
 * - either error may carry `delivered`: how many entries at the front of the batch the node
 *   took before the failure, so the replayer advances past exactly those.
 *
 * `entries` are views of the queue's read buffers, valid until `send` settles (the replayer then
 * advances past them and the buffers are read into again): copy one (`Buffer.from`) to keep it.
 */
export interface NodeClient {
  send(nodeId: string, entries: Buffer[]): Promise<void>;
  /**
   * Optional opt-in to lanes (without it, entries go strictly in queue order, one `send` at a
   * time). Says how one entry splits: into pieces, each an entry this client can `send`, for
   * lane `lane` (0 ≤ lane < lanes), or `{ barrier: true }` for an entry that must go alone once
   * every lane before it drained. The replayer then sends a batch as up to `replayLanes`
   * concurrent `send` calls, one per lane, each lane's pieces in queue order (see sendInLanes):
   * a client opts in when order matters only within what it puts in one lane.
   */
  partition?(
    entry: Buffer,
    lanes: number,
  ): PartitionedEntry<Buffer> | Promise<PartitionedEntry<Buffer>>;
  /** Optional: release sockets/agents on shutdown. */
  close?(): Promise<void>;
}

export const NODE_CLIENT = Symbol('HANDOFF_NODE_CLIENT');

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
 */
export interface NodeClient {
  send(nodeId: string, entries: Buffer[]): Promise<void>;
  /** Optional: release sockets/agents on shutdown. */
  close?(): Promise<void>;
}

export const NODE_CLIENT = Symbol('HANDOFF_NODE_CLIENT');

import { deliveredBefore, TransientWriteError } from './errors';
import { isPermanent } from './error-classification';
import type { NodeClient } from './node-client.interface';

/**
 * How one entry of a batch goes out in lanes: as a barrier (sent alone, once every lane before
 * it has drained), or as pieces, each for one lane. Pieces of one lane keep queue order.
 */
export type PartitionedEntry<P> = { barrier: true } | { pieces: LanePiece<P>[] };

export interface LanePiece<P> {
  /** The lane, 0 ≤ lane < lanes (larger numbers are taken modulo lanes). */
  lane: number;
  piece: P;
}

export interface LaneSender<P> {
  /** Splits an entry (or calls it a barrier); it may be asked for any entry of a batch. */
  partition(entry: Buffer, lanes: number): PartitionedEntry<P> | Promise<PartitionedEntry<P>>;
  /** Sends one lane's pieces in order; an error's `delivered` counts the pieces taken. */
  sendPieces(pieces: P[]): Promise<void>;
  /** Sends a barrier entry alone; an error's `delivered` is 0. */
  sendBarrier(entry: Buffer): Promise<void>;
}

const YIELD_AFTER_MS = 4;

interface Placed<P> {
  piece: P;
  /** The entry of the batch it came from. */
  entry: number;
}

/**
 * Sends `entries` (a batch at the head of a queue) as up to `lanes` concurrent requests, one per
 * lane, between barriers. Resolves when every entry was delivered. Otherwise rejects with a lane's
 * error whose `delivered` is rewritten to the entries at the front of the batch that every lane
 * took in full, so the caller advances past exactly those and sends the rest again.
 *
 * Sending the rest again is order-safe: it is a suffix of the queue, sent in queue order within
 * each lane, and nothing past this batch was sent (the next batch goes only once this one
 * resolved). So for every point the last write the node gets is the last one queued. The pieces
 * of that suffix that a lane had already delivered are written twice; InfluxDB overwrites a
 * point with the same values, so the only cost is the repeat (and, for a point written twice
 * within the suffix, its earlier value showing until the retry reaches the later one).
 *
 * When lanes fail differently, a transient error is preferred over a refusal: a node that is
 * going away must be retried with back-off, not have its entries bisected into dead letters.
 */
export async function sendInLanes<P>(
  entries: Buffer[],
  lanes: number,
  sender: LaneSender<P>,
): Promise<void> {
  let i = 0;
  while (i < entries.length) {
    const byLane: Placed<P>[][] = Array.from({ length: lanes }, () => []);
    let j = i;
    let barrier = false;
    let slice = performance.now();
    for (; j < entries.length; j++) {
      // Splitting a large batch is CPU work: let live requests in every few milliseconds.
      if (performance.now() - slice > YIELD_AFTER_MS) {
        await new Promise((resolve) => setImmediate(resolve));
        slice = performance.now();
      }
      const parted = await sender.partition(entries[j], lanes);
      if ('barrier' in parted) {
        barrier = true;
        break;
      }
      for (const { lane, piece } of parted.pieces) byLane[lane % lanes].push({ piece, entry: j });
    }
    await sendSegment(byLane, j);
    if (barrier) {
      try {
        await sender.sendBarrier(entries[j]);
      } catch (err) {
        throw withDelivered(err, j);
      }
      j++;
    }
    i = j;
  }

  async function sendSegment(byLane: Placed<P>[][], end: number): Promise<void> {
    const busy = byLane.filter((placed) => placed.length > 0);
    const results = await Promise.allSettled(
      busy.map((placed) => sender.sendPieces(placed.map((p) => p.piece))),
    );
    let firstUndelivered = end;
    let chosen: unknown;
    let chosenTransient = false;
    for (const [k, result] of results.entries()) {
      if (result.status === 'fulfilled') continue;
      const placed = busy[k];
      const at = placed[Math.min(deliveredBefore(result.reason), placed.length - 1)].entry;
      firstUndelivered = Math.min(firstUndelivered, at);
      const transient = !isPermanent(result.reason);
      if (chosen === undefined || (transient && !chosenTransient)) {
        chosen = result.reason;
        chosenTransient = transient;
      }
    }
    if (chosen !== undefined) throw withDelivered(chosen, firstUndelivered);
  }
}

/** The same error, its `delivered` now counting entries of the whole batch. */
function withDelivered(err: unknown, delivered: number): unknown {
  const target = err instanceof Error ? err : new TransientWriteError(String(err));
  Object.defineProperty(target, 'delivered', {
    value: delivered,
    writable: true,
    enumerable: true,
    configurable: true,
  });
  return target;
}

/** One send of a batch: in lanes when the client partitions its entries, else as a whole. */
export function sendBatch(
  client: NodeClient,
  nodeId: string,
  payloads: Buffer[],
  lanes: number,
): Promise<void> {
  const partition = client.partition?.bind(client);
  if (lanes <= 1 || !partition) return client.send(nodeId, payloads);
  return sendInLanes(payloads, lanes, {
    partition,
    sendPieces: (pieces) => client.send(nodeId, pieces),
    sendBarrier: (entry) => client.send(nodeId, [entry]),
  });
}

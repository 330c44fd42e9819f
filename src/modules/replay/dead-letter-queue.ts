import * as path from 'node:path';
import { DiskBackedQueue, type DiskBackedQueueOptions } from '../queue/disk-backed-queue';
import { decodeDeadLetter, encodeDeadLetter, type DecodedDeadLetter } from './dead-letter-envelope';
import type { DeadLetter } from './node-status.interface';

/** Directory of a node's dead letters, inside its queue directory (the queue skips subdirs). */
export const DEAD_LETTER_DIR = 'dead-letters';

/** Batch size when reading the dead-letter queue (list and requeue). */
const READ_BATCH_BYTES = 1024 * 1024;

/**
 * A node's refused writes, kept with the node's answer until an operator requeues them or they
 * pass the maximum age. A DiskBackedQueue of its own, so dead letters survive restarts.
 */
export class DeadLetterQueue {
  readonly queue: DiskBackedQueue;
  private readonly now: () => number;

  constructor(nodeQueueDir: string, options: DiskBackedQueueOptions = {}) {
    this.queue = new DiskBackedQueue(path.join(nodeQueueDir, DEAD_LETTER_DIR), options);
    this.now = options.now ?? Date.now;
  }

  open(): Promise<void> {
    return this.queue.open();
  }

  close(): Promise<void> {
    return this.queue.close();
  }

  count(): number {
    return this.queue.backlog().entries;
  }

  /** Durably keeps one refused write. */
  add(payload: Uint8Array, appendedAt: number, error: string, status?: number): Promise<void> {
    return this.queue.append(
      encodeDeadLetter(payload, { appendedAt, at: this.now(), status, error }),
    );
  }

  /** The oldest `limit` dead letters (without payloads), oldest first. */
  async list(limit = 100): Promise<DeadLetter[]> {
    const records = await this.read(limit);
    return records.map((d, index) => ({
      index,
      size: d.payload.length,
      at: new Date(d.at).toISOString(),
      appendedAt: new Date(d.appendedAt).toISOString(),
      ...(d.status !== undefined ? { status: d.status } : {}),
      error: d.error,
    }));
  }

  /** The oldest `limit` dead letters with their payloads (for the CLI and tests). */
  async read(limit: number): Promise<DecodedDeadLetter[]> {
    const out: DecodedDeadLetter[] = [];
    if (limit <= 0 || this.count() === 0) return out;
    // At most `limit` records are held in memory; listing is an operator action, not a hot path.
    const records = await this.queue.peek(Number.MAX_SAFE_INTEGER, Math.min(limit, this.count()));
    for (const r of records) out.push(decodeDeadLetter(r));
    return out;
  }

  /**
   * Moves every dead letter present now back to the tail of `target`, oldest first; returns how
   * many. Each batch is appended to the target before the dead-letter queue advances past it,
   * so a crash in between requeues a batch twice rather than losing it.
   */
  async requeue(target: DiskBackedQueue): Promise<number> {
    let left = this.count();
    let moved = 0;
    while (left > 0) {
      const batch = await this.queue.peek(READ_BATCH_BYTES, left);
      if (batch.length === 0) break;
      let appended = 0;
      try {
        for (const record of batch) {
          await target.append(decodeDeadLetter(record).payload);
          appended++;
        }
      } catch (err) {
        // A full target stops the move part-way: the letters already appended leave the
        // dead-letter queue now, or a retried requeue would append them a second time.
        if (appended > 0) await this.queue.advance(appended);
        throw err;
      }
      await this.queue.advance(batch.length);
      moved += batch.length;
      left -= batch.length;
    }
    return moved;
  }
}

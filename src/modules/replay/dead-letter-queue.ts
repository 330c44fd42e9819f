import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { DiskBackedQueue, type DiskBackedQueueOptions } from '../queue/disk-backed-queue';
import type { HandoffQueue, QueueEntry } from '../queue/handoff-queue.contract';
import { CORRUPT_DIR } from '../queue/segment-format';
import { decodeDeadLetter, encodeDeadLetter, type DecodedDeadLetter } from './dead-letter-envelope';
import type { DeadLetter } from './node-status.interface';

/** Directory of a node's dead letters, inside its queue directory (the queue skips subdirs). */
export const DEAD_LETTER_DIR = 'dead-letters';

/** Batch size when reading the dead-letter queue (list and requeue). */
const READ_BATCH_BYTES = 1024 * 1024;

/** A stored record: its letter, or why the envelope could not be decoded. */
type StoredDeadLetter =
  { letter: DecodedDeadLetter; entry: QueueEntry } | { damaged: string; entry: QueueEntry };

function decodeStored(entry: QueueEntry): StoredDeadLetter {
  try {
    return { letter: decodeDeadLetter(entry.payload), entry };
  } catch (err) {
    return { damaged: (err as Error).message, entry };
  }
}

/** Where dead letters go besides the disk store: their queue and where damaged ones are kept. */
export interface DeadLetterStoreOptions {
  now?: () => number;
  /** Directory for records the envelope cannot decode (default: the queue's corrupt/). */
  corruptDir?: string;
}

/**
 * A node's refused writes, kept with the node's answer until an operator requeues them or they
 * pass the maximum age. A queue of their own, so dead letters survive restarts: a DiskBackedQueue
 * under the node's queue directory (given the directory), or any store's queue (the JetStream
 * store's `HHDL_<node>` stream).
 */
export class DeadLetterQueue {
  readonly queue: HandoffQueue;
  private readonly now: () => number;
  private readonly corruptDir: string;

  constructor(nodeQueueDir: string, options?: DiskBackedQueueOptions);
  constructor(queue: HandoffQueue, options: DeadLetterStoreOptions & { corruptDir: string });
  constructor(
    where: string | HandoffQueue,
    options: DiskBackedQueueOptions | (DeadLetterStoreOptions & { corruptDir: string }) = {},
  ) {
    if (typeof where === 'string') {
      const dir = path.join(where, DEAD_LETTER_DIR);
      this.queue = new DiskBackedQueue(dir, options as DiskBackedQueueOptions);
      this.corruptDir = path.join(dir, CORRUPT_DIR);
    } else {
      this.queue = where;
      this.corruptDir = (options as { corruptDir: string }).corruptDir;
    }
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

  /**
   * The oldest `limit` dead letters (without payloads), oldest first. A record the envelope cannot
   * decode is listed as damaged with its size and the time it was stored, so it neither hides
   * nor stops the letters after it.
   */
  async list(limit = 100): Promise<DeadLetter[]> {
    return (await this.stored(limit)).map((s, index): DeadLetter => {
      if ('damaged' in s) {
        const at = new Date(s.entry.appendedAt).toISOString();
        return {
          index,
          size: s.entry.payload.length,
          at,
          appendedAt: at,
          error: `damaged dead-letter record: ${s.damaged}`,
          damaged: true,
        };
      }
      const d = s.letter;
      return {
        index,
        size: d.payload.length,
        at: new Date(d.at).toISOString(),
        appendedAt: new Date(d.appendedAt).toISOString(),
        ...(d.status !== undefined ? { status: d.status } : {}),
        error: d.error,
      };
    });
  }

  private async stored(limit: number): Promise<StoredDeadLetter[]> {
    if (limit <= 0 || this.count() === 0) return [];
    // At most `limit` records are held in memory; listing is an operator action, not a hot path.
    const entries = await this.queue.peekEntries(
      Number.MAX_SAFE_INTEGER,
      Math.min(limit, this.count()),
    );
    return entries.map(decodeStored);
  }

  /**
   * The oldest `limit` dead letters with their payloads (for the CLI and tests); rejects on a
   * record the envelope cannot decode (list() and requeue() step over those).
   */
  async read(limit: number): Promise<DecodedDeadLetter[]> {
    const out: DecodedDeadLetter[] = [];
    if (limit <= 0 || this.count() === 0) return out;
    // At most `limit` records are held in memory; listing is an operator action, not a hot path.
    const records = await this.queue.peek(Number.MAX_SAFE_INTEGER, Math.min(limit, this.count()));
    // Copies: a peeked payload is valid only until the queue advances past it (a requeue may).
    for (const r of records) out.push(decodeDeadLetter(Buffer.from(r)));
    return out;
  }

  /**
   * Moves every dead letter present now back to the tail of `target`, oldest first; returns how
   * many. Each batch is appended to the target before the dead-letter queue advances past it,
   * so a crash in between requeues a batch twice rather than losing it. A record the envelope
   * cannot decode has no payload to trust: it is never sent, but kept byte for byte under the
   * dead-letter queue's corrupt/ (as the queue keeps its damaged bytes) and passed, so it does
   * not block the letters behind it.
   */
  async requeue(target: HandoffQueue): Promise<number> {
    let left = this.count();
    let moved = 0;
    while (left > 0) {
      const batch = await this.queue.peekEntries(READ_BATCH_BYTES, left);
      if (batch.length === 0) break;
      let passed = 0;
      try {
        for (const entry of batch) {
          const stored = decodeStored(entry);
          if ('damaged' in stored) {
            await this.keepAside(entry);
          } else {
            await target.append(stored.letter.payload);
            moved++;
          }
          passed++;
        }
      } catch (err) {
        // A full target stops the move part-way: the letters already appended (or kept aside)
        // leave the dead-letter queue now, or a retried requeue would append them a second time.
        // When the target cannot make them durable they stay: twice rather than lost.
        if (
          passed > 0 &&
          (await target.sync().then(
            () => true,
            () => false,
          ))
        ) {
          await this.queue.advance(passed);
        }
        throw err;
      }
      // The target's appends are durable before the advance that forgets them is ('interval'
      // mode would leave them in the page cache for up to one tick: a power loss lost them).
      await target.sync();
      await this.queue.advance(batch.length);
      left -= batch.length;
    }
    return moved;
  }

  /**
   * Writes a damaged record to corrupt/dead-letter-<stored at>-<n>.bad and makes it durable
   * before the queue advances past it: a crash in between keeps it twice, never loses it.
   */
  private async keepAside(entry: QueueEntry): Promise<void> {
    const dir = this.corruptDir;
    await fs.mkdir(dir, { recursive: true });
    for (let n = 0; ; n++) {
      let fh: fs.FileHandle;
      try {
        fh = await fs.open(path.join(dir, `dead-letter-${entry.appendedAt}-${n}.bad`), 'wx');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EEXIST') continue;
        throw err;
      }
      try {
        await fh.writeFile(entry.payload);
        await fh.sync();
      } finally {
        await fh.close();
      }
      break;
    }
    const dirHandle = await fs.open(dir, 'r');
    try {
      await dirHandle.sync();
    } finally {
      await dirHandle.close();
    }
  }
}

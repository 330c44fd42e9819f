import type { PurgeResult, QueueBacklog, QueueEntry, QueuePosition } from './disk-backed-queue';

export type { PurgeResult, QueueBacklog, QueueEntry, QueuePosition };

/**
 * What replay, relay, health, metrics and admin need from one node's hand-off queue: a durable
 * FIFO of byte entries read from its head without consuming, and moved past once delivered.
 * `DiskBackedQueue` is one store (a directory of segment files), `JetStreamQueue` the other (a
 * replicated stream). Delivery is at-least-once: entries peeked but not yet advanced past are
 * read again after a crash or a change of reader, never skipped.
 */
export interface HandoffQueue {
  /** Makes the queue usable (idempotent); rejects with the store's error when it cannot. */
  open(): Promise<void>;
  /** Settles what is in flight and releases the store; safe to call twice. */
  close(): Promise<void>;
  /** Deletes every entry and the store itself; the queue must be closed (QueueOpenError). */
  remove(): Promise<void>;
  isOpen(): boolean;
  /** Open, yet unable to take appends until reopened (the disk store after a failed fsync). */
  isFailed(): boolean;
  /** Closes and opens again: how a failed queue is made usable (the replayer's healer). */
  reopen(): Promise<void>;
  /** Resolves once every append made so far is durable (at once where appends are). */
  sync(): Promise<void>;
  /**
   * Where the head is (no I/O): two equal positions mean the head did not move in between, so
   * entries a node took before a failed advance may still be passed without sending them again.
   */
  position(): QueuePosition;
  /**
   * This instance stops reading (its replay lease was lost): what it read ahead is dropped and
   * its next read starts from the head as the store has it then. Stores with one reader only
   * (the disk store, locked to one process) need not have it.
   */
  stopReading?(): void;

  /**
   * Keeps one entry at the tail; resolves only once the store holds it durably. Rejects with
   * QueueFullError when the store is at its size limit (nothing is stored then).
   */
  append(payload: Uint8Array): Promise<void>;
  /** The largest payload `append` takes. */
  maxEntrySize(): number;

  /** The head entry, or null when the queue is empty. */
  current(): Promise<Buffer | null>;
  /**
   * Entries from the head (or `skip` entries past it), up to `maxBytes` of payload and
   * `maxEntries` entries, at least one when there is one, without moving the head. The payloads
   * are read-only and valid until `advance` past them is called (or a purge, reopen or close):
   * the disk store hands out views of its read buffers, not copies, and may read into them again
   * from then on, even before the advance resolves. Copy a payload (`Buffer.from`) to keep it.
   */
  peek(maxBytes: number, maxEntries?: number, skip?: number): Promise<Buffer[]>;
  /** peek() with each entry's append time. */
  peekEntries(maxBytes: number, maxEntries?: number, skip?: number): Promise<QueueEntry[]>;
  /** Moves the head past `n` delivered entries (fewer when the queue holds fewer). */
  advance(n?: number): Promise<void>;
  /** Drops the head entries appended before `t`; resolves what was dropped. */
  purgeOlderThan(t: Date): Promise<PurgeResult>;

  /** Unread entries and payload bytes, and the head entry's append time (no I/O). */
  backlog(): QueueBacklog;
  /** Bytes the store uses for this queue (no I/O). */
  diskUsage(): number;
  /** When the queue last changed (no I/O). */
  lastModified(): Date;
}

/** Where a queue keeps its entries, for messages: the disk store's directory, else its location. */
export function queueLocation(queue: HandoffQueue): string {
  const q = queue as { dir?: unknown; location?: unknown };
  if (typeof q.dir === 'string') return q.dir;
  return typeof q.location === 'string' ? q.location : 'the hand-off queue';
}

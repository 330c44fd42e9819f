import { readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { isValidNodeId } from '../../config/node-id';
import { DiskBackedQueue, type DiskBackedQueueOptions } from './disk-backed-queue';
import type { HandoffQueue } from './handoff-queue.contract';
import { InvalidNodeIdError } from './registry-errors';

export interface QueueRegistryOptions<Q extends HandoffQueue = DiskBackedQueue> {
  /** Parent directory: node `<id>` gets its queue in `<dataDir>/<id>`. */
  dataDir: string;
  /**
   * Options of every queue, or a function of the node id (e.g. an `onCorrupt` that names the node
   * in its metric labels).
   */
  queueOptions?: DiskBackedQueueOptions | ((nodeId: string) => DiskBackedQueueOptions);
  /**
   * The store factory: makes node `<id>`'s queue, not yet opened (e.g. a JetStreamQueue on a
   * shared NATS connection). Default: a DiskBackedQueue in `<dataDir>/<id>` with queueOptions.
   */
  createQueue?: (nodeId: string) => Q;
}

/**
 * One queue per node id, opened on first use: a DiskBackedQueue under `<dataDir>/<id>`, or what
 * the `createQueue` store factory makes (dirOf/onDisk are the disk store's). Plain TypeScript:
 * the Nest module wraps it. Operations on one id are ordered (a get() after a close() of the same
 * id waits for the close, so it never meets its own lock), and concurrent get() calls share one
 * open.
 */
export class QueueRegistry<Q extends HandoffQueue = DiskBackedQueue> {
  readonly dataDir: string;
  private readonly queueOptions: QueueRegistryOptions<Q>['queueOptions'];
  private readonly createQueue: (nodeId: string) => Q;
  /** Each id's queue, open or being opened: a second get() joins the first open. */
  private readonly slots = new Map<string, Promise<Q>>();
  /** The queues whose open finished, for peek() and ids(). */
  private readonly open = new Map<string, Q>();
  /** Closes in flight, by id: an open after a close waits for the lock to be released. */
  private readonly closing = new Map<string, Promise<void>>();

  constructor(options: QueueRegistryOptions<Q>) {
    this.dataDir = resolve(options.dataDir);
    this.queueOptions = options.queueOptions;
    this.createQueue =
      options.createQueue ??
      ((id) => new DiskBackedQueue(join(this.dataDir, id), this.optionsOf(id)) as unknown as Q);
  }

  /** The node's queue, opened (created on disk on first use). Rejects with InvalidNodeIdError. */
  get(nodeId: string): Promise<Q> {
    if (!isValidNodeId(nodeId)) return Promise.reject(new InvalidNodeIdError(nodeId));
    const existing = this.slots.get(nodeId);
    if (existing) return existing;
    const slot = this.openQueue(nodeId);
    this.slots.set(nodeId, slot);
    // A failed open is forgotten, so the next get() tries again (the caller sees the error).
    slot.catch(() => {
      if (this.slots.get(nodeId) === slot) this.slots.delete(nodeId);
    });
    return slot;
  }

  /** The node's queue if it is open now; never opens one. */
  peek(nodeId: string): Q | undefined {
    return this.open.get(nodeId);
  }

  /** Ids of the open queues, in the order they were opened. */
  ids(): string[] {
    return [...this.open.keys()];
  }

  /**
   * Node ids that have a queue directory under dataDir, open or not, sorted: what a restart finds
   * on disk, so nodes no longer configured can still be drained or aged out. Entries whose name
   * is not a valid node id are not queues of ours and are left out. A missing dataDir is empty.
   */
  async onDisk(): Promise<string[]> {
    let dirents;
    try {
      dirents = await readdir(this.dataDir, { withFileTypes: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    return dirents
      .filter((d) => d.isDirectory() && isValidNodeId(d.name))
      .map((d) => d.name)
      .sort();
  }

  /** The directory of a node's queue (no I/O). Throws InvalidNodeIdError. */
  dirOf(nodeId: string): string {
    if (!isValidNodeId(nodeId)) throw new InvalidNodeIdError(nodeId);
    return join(this.dataDir, nodeId);
  }

  /**
   * Closes the node's queue (flushing it) and forgets it; nothing to do when it is not open. An
   * open in flight is let finish and then closed, so no lock outlives the call.
   */
  close(nodeId: string): Promise<void> {
    const slot = this.slots.get(nodeId);
    if (!slot) return this.closing.get(nodeId) ?? Promise.resolve();
    this.slots.delete(nodeId);
    const done = (async () => {
      const queue = await slot.catch(() => undefined);
      if (!queue) return;
      if (this.open.get(nodeId) === queue) this.open.delete(nodeId);
      await queue.close();
    })();
    const tracked = done.finally(() => {
      if (this.closing.get(nodeId) === tracked) this.closing.delete(nodeId);
    });
    this.closing.set(nodeId, tracked);
    return tracked;
  }

  /** Closes every queue, each one tried; the failures are reported together. */
  async closeAll(): Promise<void> {
    const ids = new Set([...this.slots.keys(), ...this.closing.keys()]);
    const results = await Promise.allSettled([...ids].map((id) => this.close(id)));
    const errors = results
      .filter((r): r is PromiseRejectedResult => r.status === 'rejected')
      .map((r) => r.reason as unknown);
    if (errors.length === 1) throw errors[0];
    if (errors.length > 1) throw new AggregateError(errors, 'closing the handoff queues failed');
  }

  /**
   * Closes the node's queue if open, then deletes it: its directory with everything in it (a
   * queue another process holds is refused with QueueLockedError and left as it is), or what the
   * store factory's queue removes (a JetStream stream).
   */
  async remove(nodeId: string): Promise<void> {
    if (!isValidNodeId(nodeId)) throw new InvalidNodeIdError(nodeId);
    // Through the queue itself when it is open (its options, e.g. an injected file system).
    const queue = this.open.get(nodeId) ?? this.createQueue(nodeId);
    await this.close(nodeId);
    await queue.remove();
  }

  private optionsOf(nodeId: string): DiskBackedQueueOptions {
    return typeof this.queueOptions === 'function'
      ? this.queueOptions(nodeId)
      : (this.queueOptions ?? {});
  }

  private async openQueue(nodeId: string): Promise<Q> {
    // Reopening right after a close: wait until that close has released the lock.
    await this.closing.get(nodeId)?.catch(() => undefined);
    const queue = this.createQueue(nodeId);
    await queue.open();
    this.open.set(nodeId, queue);
    return queue;
  }
}

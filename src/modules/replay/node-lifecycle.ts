import { Logger } from '@nestjs/common';
import type { HandoffConfig } from '../../config/handoff-config.interface';
import { isValidNodeId } from '../../config/node-id';
import { isNoSpace } from '../queue/queue-fs';
import { InvalidNodeIdError, ReplayClosedError, UnknownNodeError } from './errors';
import { HttpNodeClient } from './http-node-client';
import type { NodeClient } from './node-client.interface';
import { holdsEntries, mayReplay, queueOf, type NodeEntry } from './node-entry';
import type { NodeStore } from './node-store';
import { readNodeRecord, writeNodeRecord } from './node-record';
import type { ReplayMetrics } from './replay-metrics.interface';
import { isRoutable } from './routable-node-client';
import { WriteReplayer } from './write-replayer';

/** What the service does when a node's replay lease comes or goes (JetStream store). */
export interface LeaseHooks {
  acquired(entry: NodeEntry): void;
  lost(entry: NodeEntry, reason: string): void;
}

/**
 * The nodes of the hand-off service, from open to retirement: one entry per node (its queue's
 * replayer, where it sends, its run state, its replay lease), the queues in the NodeStore.
 * Configured nodes open at start; queues of nodes no longer configured (disk store) are adopted
 * (drained to the URL recorded beside them, else aged out) and deleted once empty.
 */
export class NodeLifecycle {
  readonly entries = new Map<string, NodeEntry>();
  private fallbackHttp: HttpNodeClient | undefined;
  /** Leases run (from application bootstrap): a node added later starts its own at once. */
  private leasing = false;

  constructor(
    private readonly config: HandoffConfig,
    private readonly client: NodeClient,
    private readonly metrics: ReplayMetrics,
    private readonly logger: Logger,
    /** Called as a node starts retiring: its timers must stop. */
    private readonly onRetire: (entry: NodeEntry) => void,
    readonly store: NodeStore,
    private readonly leaseHooks?: LeaseHooks,
  ) {}

  get(id: string): NodeEntry {
    const entry = this.entries.get(id);
    if (!entry) throw new UnknownNodeError(id);
    return entry;
  }

  /** Opens every configured node's queue, and adopts queue directories of removed nodes. */
  async start(): Promise<void> {
    // Every id is checked before any path is built from one.
    for (const node of this.config.nodes) {
      if (!isValidNodeId(node.id)) throw new InvalidNodeIdError(node.id);
    }
    try {
      await this.store.start();
      for (const node of this.config.nodes) {
        const entry = await this.openNode({
          id: node.id,
          url: node.url,
          configured: true,
          client: this.client,
        });
        if (node.url) await this.recordNode(entry);
      }
      await this.adoptInactiveNodes();
    } catch (err) {
      // Nest runs no shutdown hooks after a failed init: release the queue locks taken so far.
      await Promise.allSettled([...this.entries.values()].map((e) => e.replayer.close()));
      await this.store.closeAll().catch(() => undefined);
      await this.store.stop().catch(() => undefined);
      this.entries.clear();
      throw err;
    }
  }

  /**
   * Points a node at `target` (a URL, sent by the configured client when it can be pointed at
   * URLs, else by a built-in HTTP client, or a client of its own): `existing` is a removed node
   * coming back, whose queue on disk is its backlog again; else its queue is opened.
   */
  async attach(
    id: string,
    target: string | NodeClient,
    existing: NodeEntry | undefined,
  ): Promise<NodeEntry> {
    const url = typeof target === 'string' ? target : undefined;
    const client = typeof target === 'string' ? this.routeTo(id, target) : target;
    if (existing) {
      existing.configured = true;
      existing.client = client;
      existing.url = url;
    } else {
      await this.openNode({ id, url, configured: true, client });
    }
    const entry = this.entries.get(id)!;
    if (url) await this.recordNode(entry);
    return entry;
  }

  /**
   * Writes the node's URL beside its queue (node.json). Nothing replays from it: on a full disk
   * start-up goes on without it and the retry sweep writes it once there is room.
   */
  async recordNode(entry: NodeEntry): Promise<void> {
    const dir = this.store.recordDirOf(entry.id);
    if (!entry.url || dir === undefined) return;
    try {
      await writeNodeRecord(dir, { id: entry.id, url: entry.url });
      entry.recordPending = false;
    } catch (err) {
      if (!isNoSpace(err)) throw err;
      if (!entry.recordPending) {
        this.logger.warn(`node ${entry.id}: node.json not written (disk full); retried later`);
      }
      entry.recordPending = true;
    }
  }

  /**
   * The age purge: drops entries and dead letters older than maxAge on every node, then removes
   * the directories of removed nodes that are empty. Every node is tried; failures are
   * reported together.
   */
  async purgeOld(): Promise<void> {
    // JetStream drops entries past max_age itself; a purge here would read as a second reader.
    if (this.store.agesOutByItself) return;
    const errors: unknown[] = [];
    for (const entry of [...this.entries.values()]) {
      try {
        await entry.replayer.purgeOld(entry.configured ? 'age' : 'inactive-node');
        if (!entry.configured) await this.retireIfEmpty(entry);
      } catch (err) {
        if (err instanceof ReplayClosedError) continue;
        errors.push(err);
      }
    }
    if (errors.length > 0) throw new AggregateError(errors, 'handoff purge failed');
  }

  /** Removes an inactive node's directory once its queue and dead letters are empty. */
  async retireIfEmpty(entry: NodeEntry): Promise<void> {
    if (entry.configured || entry.retiring || this.entries.get(entry.id) !== entry) return;
    const dlq = entry.replayer.deadLetters;
    // A dead-letter queue that is not open may hold letters: never delete it unseen.
    if (!queueOf(entry).isOpen() || holdsEntries(entry)) return;
    if (dlq && (!dlq.queue.isOpen() || dlq.count() > 0)) return;
    entry.retiring = true;
    this.onRetire(entry);
    entry.retirement = (async () => {
      try {
        await entry.replayer.close();
        await dlq?.queue.remove();
        await this.store.remove(entry.id);
      } finally {
        this.entries.delete(entry.id);
        this.metrics.forget?.(entry.id);
      }
    })();
    await entry.retirement;
    this.logger.log(`node ${entry.id}: removed node's queue directory is empty, deleted`);
  }

  /**
   * Lets each send in flight finish (or time out), releases the node's lease (so another relay
   * takes over at its next check, not after the TTL), then closes every queue and the store;
   * returns the errors.
   */
  async closeAll(): Promise<unknown[]> {
    const errors: unknown[] = [];
    this.leasing = false;
    await Promise.all(
      [...this.entries.values()].map(async (e) => {
        await e.replayer.close().catch((err) => errors.push(err));
        await e.lease?.stop().catch((err) => errors.push(err));
      }),
    );
    await this.store.closeAll().catch((err) => errors.push(err));
    await this.store.stop().catch((err) => errors.push(err));
    return errors;
  }

  /** Starts every node's replay lease (JetStream store): from now on the holder replays. */
  startLeases(): void {
    this.leasing = true;
    for (const entry of this.entries.values()) entry.lease?.start();
  }

  /** The built-in HTTP client of nodes added by URL, if one was made. */
  async closeFallbackClient(): Promise<void> {
    await this.fallbackHttp?.close();
  }

  /** Queue directories of nodes no longer configured: drained if they can be, else aged out. */
  private async adoptInactiveNodes(): Promise<void> {
    for (const id of await this.store.stored()) {
      if (this.entries.has(id)) continue;
      const dir = this.store.recordDirOf(id);
      const record = dir === undefined ? null : await readNodeRecord(dir);
      const url = record?.id === id ? record.url : undefined;
      const client = url && isRoutable(this.client) ? this.routeTo(id, url) : undefined;
      const entry = await this.openNode({ id, url, configured: false, client });
      await this.retireIfEmpty(entry);
    }
  }

  private async openNode(
    init: Omit<NodeEntry, 'queue' | 'replayer' | 'paused' | 'running'>,
  ): Promise<NodeEntry> {
    const queue = await this.store.queueOf(init.id);
    const entry: NodeEntry = { ...init, queue, paused: false, running: false } as NodeEntry;
    entry.lease = this.store.leaseOf(init.id);
    // The replayer asks the entry for its client on each send, so addNode can re-point it; the
    // same for `partition`, read per batch: present only while the entry's client opts in.
    const viaEntry: NodeClient = {
      send: (nodeId, batch) =>
        entry.client
          ? entry.client.send(nodeId, batch)
          : Promise.reject(new UnknownNodeError(nodeId)),
      get partition() {
        const client = entry.client;
        return client?.partition ? client.partition.bind(client) : undefined;
      },
    };
    entry.replayer = new WriteReplayer(queue, viaEntry, this.metrics, init.id, {
      retryIntervalMs: this.config.retryIntervalMs,
      retryMaxIntervalMs: this.config.retryMaxIntervalMs,
      maxAgeMs: this.config.maxAgeMs,
      retryRateLimit: this.config.retryRateLimit,
      replayBatchBytes: this.config.replayBatchBytes,
      replayLanes: this.config.replayLanes,
      deadLetters: this.store.deadLettersOf(init.id),
      logger: new Logger(`Replay:${init.id}`),
      mayReplay: () => mayReplay(entry),
    });
    try {
      await entry.replayer.open();
    } catch (err) {
      await this.store.close(init.id).catch(() => undefined);
      throw err;
    }
    this.entries.set(init.id, entry);
    this.watchLease(entry);
    return entry;
  }

  private watchLease(entry: NodeEntry): void {
    const lease = entry.lease;
    if (!lease) return;
    lease.on('acquired', () => {
      this.logger.log(`node ${entry.id}: replay lease acquired; this relay replays it`);
      this.leaseHooks?.acquired(entry);
    });
    lease.on('lost', (reason) => {
      this.logger.warn(`node ${entry.id}: replay lease lost (${reason}); replay paused`);
      entry.replayer.stopReading();
      this.leaseHooks?.lost(entry, reason);
    });
    if (this.leasing) lease.start();
  }

  /** Sends `id`'s batches by URL: through the configured client if it takes URLs, else our own. */
  private routeTo(id: string, url: string): NodeClient {
    if (isRoutable(this.client)) {
      this.client.addNode(id, url);
      return this.client;
    }
    this.fallbackHttp ??= HttpNodeClient.forConfig(this.config);
    this.fallbackHttp.addNode(id, url);
    return this.fallbackHttp;
  }
}

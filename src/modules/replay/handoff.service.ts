import {
  BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
  OnApplicationShutdown,
  OnModuleInit,
  Optional,
} from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { CronJob } from 'cron';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { HANDOFF_CONFIG } from '../../config/handoff-config.constants';
import type { HandoffConfig } from '../../config/handoff-config.interface';
import { isValidNodeId } from '../../config/node-id';
import {
  DiskBackedQueue,
  type DiskBackedQueueOptions,
  type PurgeResult,
  type QueueBacklog,
} from '../queue/disk-backed-queue';
import { QueueFailedError } from '../queue/errors';
import { isNoSpace, mkdirDurable, nodeQueueFileSystem } from '../queue/queue-fs';
import { countSegments, formatSegmentRanges } from '../queue/segment-gaps';
import { ConcurrencyLimiter } from './concurrency-limiter';
import { DeadLetterQueue } from './dead-letter-queue';
import {
  DuplicateNodeError,
  InvalidNodeIdError,
  ReplayClosedError,
  UnknownNodeError,
} from './errors';
import { HttpNodeClient } from './http-node-client';
import { NODE_CLIENT, type NodeClient } from './node-client.interface';
import { readNodeRecord, writeNodeRecord } from './node-record';
import { nodeStatus, type NodeEntry } from './node-entry';
import type { DeadLetter, NodeStatus } from './node-status.interface';
import {
  NOOP_REPLAY_METRICS,
  REPLAY_METRICS,
  type ReplayMetrics,
} from './replay-metrics.interface';
import { isRoutable } from './routable-node-client';
import { WriteReplayer } from './write-replayer';

/** Name of a node's retry timeout in the SchedulerRegistry. */
export const replayTimeoutName = (nodeId: string): string => `handoff:replay:${nodeId}`;
/** Name of the age-purge cron job in the SchedulerRegistry. */
export const PURGE_CRON_NAME = 'handoff:purge';
/** Name of the safety-net interval in the SchedulerRegistry (see retrySweep). */
export const RETRY_SWEEP_NAME = 'handoff:retry-sweep';

/** The sweep runs every max back-off, within 1 s..60 s: a stranded backlog waits no longer. */
export function retrySweepIntervalMs(config: Pick<HandoffConfig, 'retryMaxIntervalMs'>): number {
  return Math.min(60_000, Math.max(1_000, config.retryMaxIntervalMs));
}

/**
 * The hub of hinted handoff: one queue and one replayer per node, their retry timers and the
 * purge job. The relay hands writes off through `enqueue`; health and metrics read `nodes()`.
 */
@Injectable()
export class HandoffService
  implements OnModuleInit, OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown
{
  private readonly logger = new Logger(HandoffService.name);
  private readonly entries = new Map<string, NodeEntry>();
  private readonly client: NodeClient;
  private readonly ownsClient: boolean;
  private readonly metrics: ReplayMetrics;
  private readonly registry: SchedulerRegistry;
  private readonly concurrency: ConcurrencyLimiter;
  private fallbackHttp: HttpNodeClient | undefined;
  private started: Promise<void> | undefined;
  private scheduling = false;
  private stopping = false;
  private purging = false;
  /** Adds in progress by id: shutdown waits for them, so no queue opens after it closed all. */
  private readonly adding = new Map<string, Promise<void>>();

  constructor(
    @Inject(HANDOFF_CONFIG) private readonly config: HandoffConfig,
    @Optional() @Inject(NODE_CLIENT) client?: NodeClient,
    @Optional() @Inject(REPLAY_METRICS) metrics?: ReplayMetrics,
    // Without ScheduleModule in the app the service keeps its own registry: timers still run.
    @Optional() registry?: SchedulerRegistry,
  ) {
    this.ownsClient = !client;
    this.client =
      client ??
      new HttpNodeClient(config.nodes, { timeoutMs: config.writeTimeoutMs, format: 'lines' });
    this.metrics = metrics ?? NOOP_REPLAY_METRICS;
    this.registry = registry ?? new SchedulerRegistry();
    this.concurrency = new ConcurrencyLimiter(config.retryConcurrency);
  }

  /** Opens every configured node's queue, and adopts queue directories of removed nodes. */
  onModuleInit(): Promise<void> {
    this.started ??= this.start();
    return this.started;
  }

  /** Starts the purge job and the retry loops of nodes with a backlog. */
  async onApplicationBootstrap(): Promise<void> {
    await this.onModuleInit();
    if (this.scheduling || this.stopping) return;
    this.scheduling = true;
    const job = CronJob.from({
      cronTime: this.config.purgeCron,
      onTick: () => this.runPurgeJob(),
      start: true,
    });
    this.registry.addCronJob(PURGE_CRON_NAME, job as unknown as CronJob);
    const sweep = setInterval(() => this.retrySweep(), retrySweepIntervalMs(this.config));
    sweep.unref();
    this.registry.addInterval(RETRY_SWEEP_NAME, sweep);
    for (const entry of this.entries.values()) {
      if (entry.replayer.queue.backlog().entries > 0) this.arm(entry, 0);
    }
  }

  /** Stops the timers first, so nothing new starts while the app shuts down. */
  beforeApplicationShutdown(): void {
    this.stopTimers();
  }

  /** Lets each send in flight finish (or time out), then closes every queue and the client. */
  async onApplicationShutdown(): Promise<void> {
    this.stopTimers();
    await this.started?.catch(() => undefined);
    await Promise.allSettled(this.adding.values());
    const errors: unknown[] = [];
    await Promise.all(
      [...this.entries.values()].map((e) => e.replayer.close().catch((err) => errors.push(err))),
    );
    if (this.ownsClient) await this.client.close?.();
    await this.fallbackHttp?.close();
    if (errors.length > 0) throw new AggregateError(errors, 'closing handoff queues failed');
  }

  nodes(): NodeStatus[] {
    return [...this.entries.values()].map((e) => nodeStatus(e, this.config.maxSize));
  }

  node(id: string): NodeStatus {
    return nodeStatus(this.entry(id), this.config.maxSize);
  }

  hasNode(id: string): boolean {
    return this.entries.has(id);
  }

  isBacklogged(id: string): boolean {
    const entry = this.entry(id);
    return this.hasBacklog(entry) || entry.replayer.isBusy();
  }

  /** Durably appends to the node's queue (behind its backlog) and arms its retry loop. */
  async enqueue(id: string, payload: Uint8Array): Promise<void> {
    const entry = this.entry(id);
    await entry.replayer.write(payload);
    this.armIfIdle(entry);
  }

  backlog(id: string): QueueBacklog {
    return this.entry(id).replayer.queue.backlog();
  }

  /**
   * Arms the node's retry loop when its queue holds entries. `enqueue` does this itself; call it
   * after appending straight to a queue injected with `@InjectHandoffQueue`, which the service
   * cannot see happen.
   */
  wake(id: string): void {
    const entry = this.entry(id);
    if (this.hasBacklog(entry)) this.armIfIdle(entry);
  }

  pause(id: string): void {
    const entry = this.entry(id);
    entry.paused = true;
    this.disarm(entry);
  }

  resume(id: string): void {
    const entry = this.entry(id);
    entry.paused = false;
    if (this.hasBacklog(entry)) this.arm(entry, 0);
  }

  /**
   * Drains now, ignoring the back-off (and a pause: the operator asked). Resolves the bytes
   * sent; rejects with the node's error, after which the back-off schedule resumes.
   */
  async replayNow(id: string): Promise<number> {
    const entry = this.entry(id);
    if (!entry.client) throw new UnknownNodeError(id);
    this.disarm(entry);
    try {
      const bytes = await entry.replayer.drain();
      if (entry.replayer.queue.backlog().entries > 0) this.arm(entry, this.config.retryIntervalMs);
      return bytes;
    } catch (err) {
      this.arm(entry, this.retryDelay(entry));
      throw err;
    }
  }

  /** Drops the node's whole backlog (operator); counted with reason 'operator'. */
  purge(id: string): Promise<PurgeResult> {
    return this.entry(id).replayer.purgeAll('operator');
  }

  deadLetters(id: string, limit?: number): Promise<DeadLetter[]> {
    const dlq = this.entry(id).replayer.deadLetters;
    return dlq ? dlq.list(limit) : Promise.resolve([]);
  }

  /** Moves the node's dead letters back to its queue's tail and arms the retry loop. */
  async requeueDeadLetters(id: string): Promise<number> {
    const entry = this.entry(id);
    try {
      return await entry.replayer.requeueDeadLetters();
    } finally {
      // Also after a requeue that failed part-way (queue full): what it moved must replay.
      if (entry.replayer.queue.isOpen() && entry.replayer.queue.backlog().entries > 0) {
        this.armIfIdle(entry);
      }
    }
  }

  /**
   * Adds a node at run time: with a URL (sent by the configured client when it can be pointed
   * at URLs, else by a built-in HTTP client) or with a client of its own.
   */
  async addNode(id: string, target: string | NodeClient): Promise<void> {
    if (!isValidNodeId(id)) throw new InvalidNodeIdError(id);
    await this.onModuleInit();
    let existing = this.entries.get(id);
    // A removed node whose old directory is being deleted comes back with a fresh queue once
    // the deletion is over; re-pointing the closing entry would lose the node.
    while (existing?.retiring) {
      await existing.retirement?.catch(() => undefined);
      existing = this.entries.get(id);
    }
    // A second add of the same id while the first opens its queue would re-point the shared
    // client at its URL and then fail on the directory lock: it is a duplicate.
    if (existing?.configured || this.adding.has(id)) throw new DuplicateNodeError(id);
    if (this.stopping) throw new ReplayClosedError('hand-off service is shutting down');
    const attached = this.attachNode(id, target, existing);
    this.adding.set(id, attached);
    try {
      await attached;
    } finally {
      this.adding.delete(id);
    }
  }

  private async attachNode(
    id: string,
    target: string | NodeClient,
    existing: NodeEntry | undefined,
  ): Promise<void> {
    const url = typeof target === 'string' ? target : undefined;
    const client = typeof target === 'string' ? this.routeTo(id, target) : target;
    if (existing) {
      // A removed node coming back: its queue on disk is its backlog again.
      existing.configured = true;
      existing.client = client;
      existing.url = url;
    } else {
      await this.openNode({ id, url, configured: true, client });
    }
    const entry = this.entries.get(id)!;
    if (url) await this.recordNode(entry);
    if (this.scheduling && entry.replayer.queue.backlog().entries > 0) this.arm(entry, 0);
  }

  queueOf(id: string): DiskBackedQueue {
    return this.entry(id).replayer.queue;
  }

  /**
   * The age purge (the cron job's work): drops entries and dead letters older than maxAge on
   * every node, then removes the directories of removed nodes that are empty. Every node is
   * tried; failures are reported together.
   */
  async purgeOldData(): Promise<void> {
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

  private async start(): Promise<void> {
    // Every id is checked before any path is built from one.
    for (const node of this.config.nodes) {
      if (!isValidNodeId(node.id)) throw new InvalidNodeIdError(node.id);
    }
    try {
      // The data directory's entry in its parent is made durable (each queue does the same for
      // its own directory): a power loss must not take every queue along with it.
      await mkdirDurable(nodeQueueFileSystem, this.config.dataDir);
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
      this.entries.clear();
      throw err;
    }
  }

  /**
   * Writes the node's URL beside its queue (node.json). Nothing replays from it: on a full disk
   * start-up goes on without it and the retry sweep writes it once there is room.
   */
  private async recordNode(entry: NodeEntry): Promise<void> {
    if (!entry.url) return;
    try {
      await writeNodeRecord(entry.replayer.queue.dir, { id: entry.id, url: entry.url });
      entry.recordPending = false;
    } catch (err) {
      if (!isNoSpace(err)) throw err;
      if (!entry.recordPending) {
        this.logger.warn(`node ${entry.id}: node.json not written (disk full); retried later`);
      }
      entry.recordPending = true;
    }
  }

  /** Queue directories of nodes no longer configured: drained if they can be, else aged out. */
  private async adoptInactiveNodes(): Promise<void> {
    const dirents = await fs.readdir(this.config.dataDir, { withFileTypes: true });
    for (const d of dirents) {
      if (!d.isDirectory() || this.entries.has(d.name) || !isValidNodeId(d.name)) continue;
      const dir = path.join(this.config.dataDir, d.name);
      const record = await readNodeRecord(dir);
      const url = record?.id === d.name ? record.url : undefined;
      const client = url && isRoutable(this.client) ? this.routeTo(d.name, url) : undefined;
      const entry = await this.openNode({ id: d.name, url, configured: false, client });
      await this.retireIfEmpty(entry);
    }
  }

  private async openNode(
    init: Omit<NodeEntry, 'replayer' | 'paused' | 'running'>,
  ): Promise<NodeEntry> {
    const dir = path.join(this.config.dataDir, init.id);
    const queueOptions: DiskBackedQueueOptions = {
      maxSize: this.config.maxSize,
      maxSegmentSize: this.config.maxSegmentSize,
      fsync: this.config.fsync,
      fsyncIntervalMs: this.config.fsyncIntervalMs,
      onCorrupt: (info) => {
        this.metrics.corrupt(init.id, info.bytes);
        this.logger.error(
          `node ${init.id}: skipped ${info.bytes} corrupt bytes in segment ${info.segment} at ${info.offset} (${info.reason})`,
        );
      },
      onMissingSegments: (missing) => {
        this.metrics.missingSegments?.(init.id, countSegments(missing));
        this.logger.error(
          `node ${init.id}: segments ${formatSegmentRanges(missing)} are missing; their entries are lost`,
        );
      },
    };
    const entry: NodeEntry = { ...init, paused: false, running: false } as NodeEntry;
    // The replayer asks the entry for its client on each send, so addNode can re-point it.
    const viaEntry: NodeClient = {
      send: (nodeId, batch) =>
        entry.client
          ? entry.client.send(nodeId, batch)
          : Promise.reject(new UnknownNodeError(nodeId)),
    };
    entry.replayer = new WriteReplayer(
      new DiskBackedQueue(dir, queueOptions),
      viaEntry,
      this.metrics,
      init.id,
      {
        retryIntervalMs: this.config.retryIntervalMs,
        retryMaxIntervalMs: this.config.retryMaxIntervalMs,
        maxAgeMs: this.config.maxAgeMs,
        retryRateLimit: this.config.retryRateLimit,
        replayBatchBytes: this.config.replayBatchBytes,
        // Dead letters are rare and must not be lost: each one is fsynced.
        deadLetters: new DeadLetterQueue(dir, { maxSize: this.config.maxSize, fsync: 'always' }),
        logger: new Logger(`Replay:${init.id}`),
      },
    );
    await entry.replayer.open();
    this.entries.set(init.id, entry);
    return entry;
  }

  /** Sends `id`'s batches by URL: through the configured client if it takes URLs, else our own. */
  private routeTo(id: string, url: string): NodeClient {
    if (isRoutable(this.client)) {
      this.client.addNode(id, url);
      return this.client;
    }
    this.fallbackHttp ??= new HttpNodeClient([], {
      timeoutMs: this.config.writeTimeoutMs,
      format: 'lines',
    });
    this.fallbackHttp.addNode(id, url);
    return this.fallbackHttp;
  }

  private entry(id: string): NodeEntry {
    const entry = this.entries.get(id);
    if (!entry) throw new UnknownNodeError(id);
    return entry;
  }

  /** Arms the retry timer soon, unless one is armed (e.g. a back-off) or a run is going. */
  private armIfIdle(entry: NodeEntry): void {
    if (entry.running || this.registry.doesExist('timeout', replayTimeoutName(entry.id))) return;
    this.arm(entry, this.config.retryIntervalMs);
  }

  /**
   * Entries wait in the node's queue. A queue closed by a reopen that failed cannot say: it
   * counts as backlogged, so writes keep going through it (in order) and its replay reopens it.
   */
  private hasBacklog(entry: NodeEntry): boolean {
    const queue = entry.replayer.queue;
    if (!queue.isOpen()) return entry.replayer.healer.needsHeal();
    return queue.backlog().entries > 0;
  }

  /**
   * The safety net: a node with a backlog (or a failed queue) and no replay armed or running is
   * armed again, so no timer lost to a bug or a fault leaves a backlog stranded. Failed queues
   * of nodes nobody can send to are reopened here.
   */
  private retrySweep(): void {
    if (this.stopping) return;
    for (const entry of this.entries.values()) {
      if (entry.recordPending && !entry.retiring)
        void this.recordNode(entry).catch(() => undefined);
      if (entry.paused || entry.retiring || entry.running || entry.replayer.isBusy()) continue;
      if (this.registry.doesExist('timeout', replayTimeoutName(entry.id))) continue;
      const healer = entry.replayer.healer;
      if (!entry.client) {
        if (healer.needsHeal()) void entry.replayer.heal();
        continue;
      }
      if (healer.needsHeal()) this.arm(entry, healer.dueInMs());
      else if (entry.replayer.queue.isOpen() && this.hasBacklog(entry)) {
        this.logger.warn(`node ${entry.id}: backlog with no replay armed; re-armed by the sweep`);
        this.arm(entry, 0);
      }
    }
  }

  /** (Re-)arms the node's retry timeout with `delayMs`. */
  private arm(entry: NodeEntry, delayMs: number): void {
    if (!this.scheduling || this.stopping || entry.paused || entry.retiring || !entry.client) {
      return;
    }
    if (this.entries.get(entry.id) !== entry) return;
    this.disarm(entry);
    const name = replayTimeoutName(entry.id);
    const handle = setTimeout(() => {
      if (this.registry.doesExist('timeout', name)) this.registry.deleteTimeout(name);
      void this.runReplay(entry);
    }, delayMs);
    this.registry.addTimeout(name, handle);
  }

  private disarm(entry: NodeEntry): void {
    const name = replayTimeoutName(entry.id);
    if (this.registry.doesExist('timeout', name)) this.registry.deleteTimeout(name);
  }

  /** One scheduled run: drain while the node answers, then re-arm by the outcome. */
  private async runReplay(entry: NodeEntry): Promise<void> {
    if (entry.running) return;
    entry.running = true;
    let delay: number | null = null;
    try {
      await this.concurrency.run(async () => {
        if (this.stopping || entry.paused) return;
        const wasFailing = entry.replayer.backoff.failures() > 0;
        // A pause (or shutdown) mid-drain stops it after the batch in flight.
        await entry.replayer.drain(() => !entry.paused && !this.stopping);
        if (wasFailing) this.logger.log(`node ${entry.id}: answering again`);
      });
      if (entry.replayer.queue.backlog().entries > 0) delay = this.config.retryIntervalMs;
      else if (!entry.configured) await this.retireIfEmpty(entry);
    } catch (err) {
      if (err instanceof ReplayClosedError || this.stopping) return;
      const first = entry.replayer.backoff.failures() <= 1;
      delay = this.retryDelay(entry);
      // A failed queue is logged by its healer, once per change, not once per attempt.
      if (err instanceof QueueFailedError) delay = Math.max(delay, entry.replayer.healer.dueInMs());
      else if (first) {
        this.logger.warn(
          `node ${entry.id}: replay failed (${err instanceof Error ? err.message : String(err)}); backing off`,
        );
      }
    } finally {
      entry.running = false;
      if (delay !== null) this.arm(entry, delay);
    }
  }

  /**
   * The delay after a failed run: the back-off the replayer stepped for a node failure, or a
   * fresh step when the failure was the queue's (so a failing disk is not retried hot).
   */
  private retryDelay(entry: NodeEntry): number {
    const backoff = entry.replayer.backoff;
    return backoff.current() > 0 ? backoff.current() : backoff.next();
  }

  /** Removes an inactive node's directory once its queue and dead letters are empty. */
  private async retireIfEmpty(entry: NodeEntry): Promise<void> {
    if (entry.configured || entry.retiring || this.entries.get(entry.id) !== entry) return;
    const dlq = entry.replayer.deadLetters;
    // A dead-letter queue that is not open may hold letters: never delete it unseen.
    if (!entry.replayer.queue.isOpen() || entry.replayer.queue.backlog().entries > 0) return;
    if (dlq && (!dlq.queue.isOpen() || dlq.count() > 0)) return;
    entry.retiring = true;
    this.disarm(entry);
    entry.retirement = (async () => {
      try {
        await entry.replayer.close();
        await dlq?.queue.remove();
        await entry.replayer.queue.remove();
        // Leftovers the queue does not own (node.json).
        await fs.rm(entry.replayer.queue.dir, { recursive: true, force: true });
      } finally {
        this.entries.delete(entry.id);
        this.metrics.forget?.(entry.id);
      }
    })();
    await entry.retirement;
    this.logger.log(`node ${entry.id}: removed node's queue directory is empty, deleted`);
  }

  private async runPurgeJob(): Promise<void> {
    // A tick while the last purge still waits for a node's lock (a send hanging up to the write
    // timeout, a slow disk) is skipped: with a frequent cron, purges would otherwise pile up.
    if (this.purging) return;
    this.purging = true;
    try {
      await this.purgeOldData();
    } catch (err) {
      this.logger.error(`age purge failed: ${err instanceof Error ? err.message : String(err)}`);
    } finally {
      this.purging = false;
    }
  }

  private stopTimers(): void {
    this.stopping = true;
    for (const id of this.entries.keys()) {
      const name = replayTimeoutName(id);
      if (this.registry.doesExist('timeout', name)) this.registry.deleteTimeout(name);
    }
    if (this.registry.doesExist('cron', PURGE_CRON_NAME))
      this.registry.deleteCronJob(PURGE_CRON_NAME);
    if (this.registry.doesExist('interval', RETRY_SWEEP_NAME))
      this.registry.deleteInterval(RETRY_SWEEP_NAME);
  }
}

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
import { HANDOFF_CONFIG } from '../../config/handoff-config.constants';
import type { HandoffConfig } from '../../config/handoff-config.interface';
import { isValidNodeId } from '../../config/node-id';
import type { HandoffQueue, PurgeResult, QueueBacklog } from '../queue/handoff-queue.contract';
import {
  DuplicateNodeError,
  InvalidNodeIdError,
  ReplayClosedError,
  UnknownNodeError,
} from './errors';
import { HttpNodeClient } from './http-node-client';
import { NODE_CLIENT, type NodeClient } from './node-client.interface';
import { holdsEntries, mayReplay, openWithEntries, queueOf } from './node-entry';
import { createNodeStore, type StoreStatus } from './node-store';
import { NodeLifecycle } from './node-lifecycle';
import { nodeStatus } from './node-status';
import type { DeadLetter, NodeStatus } from './node-status.interface';
import {
  NOOP_REPLAY_METRICS,
  REPLAY_METRICS,
  type ReplayMetrics,
} from './replay-metrics.interface';
import { ReplayScheduler } from './replay-scheduler';

export {
  PURGE_CRON_NAME,
  replayTimeoutName,
  RETRY_SWEEP_NAME,
  retrySweepIntervalMs,
} from './replay-scheduler';

/**
 * The hub of hinted handoff: one queue and one replayer per node (NodeLifecycle), their retry
 * timers and the purge job (ReplayScheduler), their status (nodeStatus). The relay hands writes
 * off through `enqueue`; health and metrics read `nodes()`; the admin routes call the rest.
 */
@Injectable()
export class HandoffService
  implements OnModuleInit, OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown
{
  private readonly logger = new Logger(HandoffService.name);
  private readonly client: NodeClient;
  private readonly ownsClient: boolean;
  private readonly registry: SchedulerRegistry;
  private readonly lifecycle: NodeLifecycle;
  private readonly scheduler: ReplayScheduler;
  private started: Promise<void> | undefined;
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
    this.client = client ?? HttpNodeClient.forConfig(config, config.nodes);
    this.registry = registry ?? new SchedulerRegistry();
    const sink = metrics ?? NOOP_REPLAY_METRICS;
    this.lifecycle = new NodeLifecycle(
      config,
      this.client,
      sink,
      this.logger,
      (entry) => this.scheduler.disarm(entry.id),
      createNodeStore({ config, metrics: sink, logger: this.logger }),
      {
        // The holder replays from the durable head: the backlog other relays left, if any.
        acquired: (entry) => {
          if (openWithEntries(entry)) this.scheduler.arm(entry, 0);
        },
        // A run in progress stops before its next batch or advance (the replayer asks).
        lost: (entry) => this.scheduler.disarm(entry.id),
      },
    );
    const lifecycle = this.lifecycle;
    this.scheduler = new ReplayScheduler(
      config,
      this.registry,
      {
        entries: lifecycle.entries,
        retireIfEmpty: (entry) => lifecycle.retireIfEmpty(entry),
        recordNode: (entry) => lifecycle.recordNode(entry),
        purgeOld: () => this.purgeOldData(),
      },
      this.logger,
    );
  }

  /** Opens every configured node's queue, and adopts queue directories of removed nodes. */
  onModuleInit(): Promise<void> {
    this.started ??= this.lifecycle.start();
    return this.started;
  }

  /** Starts the purge job and the retry loops of nodes with a backlog. */
  async onApplicationBootstrap(): Promise<void> {
    await this.onModuleInit();
    this.scheduler.start();
    this.lifecycle.startLeases();
  }

  /** Stops the timers first, so nothing new starts while the app shuts down. */
  beforeApplicationShutdown(): void {
    this.scheduler.stop();
  }

  /** Lets each send in flight finish (or time out), then closes every queue and the client. */
  async onApplicationShutdown(): Promise<void> {
    this.scheduler.stop();
    await this.started?.catch(() => undefined);
    await Promise.allSettled(this.adding.values());
    const errors = await this.lifecycle.closeAll();
    if (this.ownsClient) await this.client.close?.();
    await this.lifecycle.closeFallbackClient();
    if (errors.length > 0) throw new AggregateError(errors, 'closing handoff queues failed');
  }

  nodes(): NodeStatus[] {
    return [...this.lifecycle.entries.values()].map((e) => this.statusOf(e.id));
  }

  node(id: string): NodeStatus {
    return this.statusOf(id);
  }

  /** Which store keeps the hints, and with JetStream the state of the NATS connection. */
  store(): StoreStatus {
    return this.lifecycle.store.status();
  }

  hasNode(id: string): boolean {
    return this.lifecycle.entries.has(id);
  }

  /**
   * Entries wait in the node's queue, or a batch is on its way to it: a live write now could
   * land before them. A purge or a read of an empty queue (which can hang on a slow disk or a
   * NATS outage) holds nothing a live write could overtake.
   */
  isBacklogged(id: string): boolean {
    const entry = this.lifecycle.get(id);
    return this.scheduler.hasBacklog(entry) || entry.replayer.isSending();
  }

  /** Durably appends to the node's queue (behind its backlog) and arms its retry loop. */
  async enqueue(id: string, payload: Uint8Array): Promise<void> {
    const entry = this.lifecycle.get(id);
    await entry.replayer.write(payload);
    this.scheduler.armIfIdle(entry);
  }

  backlog(id: string): QueueBacklog {
    return this.queueOf(id).backlog();
  }

  /**
   * Arms the node's retry loop when its queue holds entries. `enqueue` does this itself; call it
   * after appending straight to a queue injected with `@InjectHandoffQueue`, which the service
   * cannot see happen.
   */
  wake(id: string): void {
    const entry = this.lifecycle.get(id);
    if (this.scheduler.hasBacklog(entry)) this.scheduler.armIfIdle(entry);
  }

  pause(id: string): void {
    const entry = this.lifecycle.get(id);
    entry.paused = true;
    this.scheduler.disarm(entry.id);
  }

  resume(id: string): void {
    const entry = this.lifecycle.get(id);
    entry.paused = false;
    if (this.scheduler.hasBacklog(entry)) this.scheduler.arm(entry, 0);
  }

  /**
   * Drains now, ignoring the back-off (and a pause: the operator asked). Resolves the bytes
   * sent; rejects with the node's error, after which the back-off schedule resumes.
   */
  async replayNow(id: string): Promise<number> {
    const entry = this.lifecycle.get(id);
    if (!entry.client) throw new UnknownNodeError(id);
    this.scheduler.disarm(entry.id);
    try {
      const bytes = await entry.replayer.drain();
      if (holdsEntries(entry)) this.scheduler.arm(entry, this.config.retryIntervalMs);
      return bytes;
    } catch (err) {
      this.scheduler.arm(entry, this.scheduler.retryDelay(entry));
      throw err;
    }
  }

  /** Drops the node's whole backlog (operator); counted with reason 'operator'. */
  async purge(id: string): Promise<PurgeResult> {
    const entry = this.lifecycle.get(id);
    const result = await entry.replayer.purgeAll('operator');
    // JetStream: a relay without the lease purged for the operator; it is not the node's
    // reader, so the holder's advances from now on are not expiries it should count.
    if (!mayReplay(entry)) entry.replayer.stopReading();
    return result;
  }

  deadLetters(id: string, limit?: number): Promise<DeadLetter[]> {
    const dlq = this.lifecycle.get(id).replayer.deadLetters;
    return dlq ? dlq.list(limit) : Promise.resolve([]);
  }

  /** Moves the node's dead letters back to its queue's tail and arms the retry loop. */
  async requeueDeadLetters(id: string): Promise<number> {
    const entry = this.lifecycle.get(id);
    try {
      return await entry.replayer.requeueDeadLetters();
    } finally {
      // Also after a requeue that failed part-way (queue full): what it moved must replay.
      if (openWithEntries(entry)) this.scheduler.armIfIdle(entry);
    }
  }

  /**
   * Adds a node at run time: with a URL (sent by the configured client when it can be pointed
   * at URLs, else by a built-in HTTP client) or with a client of its own.
   */
  async addNode(id: string, target: string | NodeClient): Promise<void> {
    if (!isValidNodeId(id)) throw new InvalidNodeIdError(id);
    await this.onModuleInit();
    let existing = this.lifecycle.entries.get(id);
    // A removed node whose old directory is being deleted comes back with a fresh queue once
    // the deletion is over; re-pointing the closing entry would lose the node.
    while (existing?.retiring) {
      await existing.retirement?.catch(() => undefined);
      existing = this.lifecycle.entries.get(id);
    }
    // A second add of the same id while the first opens its queue would re-point the shared
    // client at its URL and then fail on the directory lock: it is a duplicate.
    if (existing?.configured || this.adding.has(id)) throw new DuplicateNodeError(id);
    if (this.scheduler.stopping) throw new ReplayClosedError('hand-off service is shutting down');
    const attached = this.lifecycle.attach(id, target, existing).then((entry) => {
      if (this.scheduler.scheduling && holdsEntries(entry)) this.scheduler.arm(entry, 0);
    });
    this.adding.set(id, attached);
    try {
      await attached;
    } finally {
      this.adding.delete(id);
    }
  }

  queueOf(id: string): HandoffQueue {
    return queueOf(this.lifecycle.get(id));
  }

  private statusOf(id: string): NodeStatus {
    const status = nodeStatus(this.lifecycle.get(id), this.config.maxSize);
    const lease = this.lifecycle.store.leaseStatus(id);
    return lease ? { ...status, lease } : status;
  }

  /**
   * The age purge (the cron job's work): drops entries and dead letters older than maxAge on
   * every node, then removes the directories of removed nodes that are empty. Every node is
   * tried; failures are reported together.
   */
  purgeOldData(): Promise<void> {
    return this.lifecycle.purgeOld();
  }
}

import { Logger } from '@nestjs/common';
import { DEFAULTS } from '../../config/defaults';
import type { HandoffQueue, PurgeResult, QueueEntry } from '../queue/handoff-queue.contract';
import { QueueFullError } from '../queue/errors';
import { isNoSpace } from '../queue/queue-fs';
import { Backoff } from './backoff';
import { QueueHealer } from './queue-healer';
import { SYSTEM_CLOCK, type Clock } from './clock';
import type { DeadLetterQueue } from './dead-letter-queue';
import { isPermanent } from './error-classification';
import {
  deliveredBefore,
  LeaseNotHeldError,
  ReplayClosedError,
  type PermanentWriteError,
} from './errors';
import { ExclusiveLock } from './exclusive-lock';
import type { NodeClient } from './node-client.interface';
import { RateLimiter } from './rate-limiter';
import { sendBatch } from './replay-lanes';
import type { ReplayTotals } from './node-status.interface';
import { ReplayOutcomes } from './replay-outcomes';
import type { PurgeReason, ReplayMetrics } from './replay-metrics.interface';
import type { ReplayLogger } from './replay-logger';
import type { WriteReplayerOptions } from './write-replayer-options';
import { settled, sumBytes, type Owed, type PipelineResult, type StepResult } from './replay-step';

export type { WriteReplayerOptions };

/**
 * Replays one node's queue to it: a batch at the head is peeked, rate-limited, sent, and the
 * head advanced by what the node took. Entries leave strictly in queue order. A refused batch
 * is bisected so that only the entries the node refuses on their own are dead-lettered.
 */
export class WriteReplayer {
  private readonly outcomes: ReplayOutcomes;
  private readonly healer: QueueHealer;
  private owed: Owed | null = null;
  private readonly limiter: RateLimiter;
  private readonly lock = new ExclusiveLock();
  private readonly logger: ReplayLogger;
  private readonly clock: Clock;
  private readonly batchBytes: number;
  private readonly batchEntries: number | undefined;
  private readonly maxAgeMs: number;
  private closing = false;
  private inFlight = false;
  /** Counts stopReading() calls: entries owed from an earlier stint are never passed. */
  private stint = 0;
  /** Lock sections running or waiting; above 1 while a drain runs, someone else waits. */
  private sections = 0;

  constructor(
    private readonly queue: HandoffQueue,
    private readonly client: NodeClient,
    private readonly metrics: ReplayMetrics,
    readonly nodeId: string,
    private readonly options: WriteReplayerOptions = {},
  ) {
    this.clock = options.clock ?? SYSTEM_CLOCK;
    const backoff = {
      initialMs: options.retryIntervalMs ?? DEFAULTS.retryIntervalMs,
      maxMs: options.retryMaxIntervalMs ?? DEFAULTS.retryMaxIntervalMs,
      jitter: options.jitter,
      random: options.random,
    };
    this.outcomes = new ReplayOutcomes(new Backoff(backoff), nodeId, metrics, this.clock);
    this.limiter = new RateLimiter(options.retryRateLimit ?? DEFAULTS.retryRateLimit, this.clock);
    this.logger = options.logger ?? new Logger(`Replay:${nodeId}`);
    this.batchBytes = options.replayBatchBytes ?? DEFAULTS.replayBatchBytes;
    this.batchEntries = options.replayBatchEntries;
    this.maxAgeMs = options.maxAgeMs ?? DEFAULTS.maxAgeMs;
    this.healer = new QueueHealer(
      () => (options.deadLetters ? [queue, options.deadLetters.queue] : [queue]),
      nodeId,
      metrics,
      this.logger,
      this.clock,
      backoff,
    );
  }

  get deadLetters(): DeadLetterQueue | undefined {
    return this.options.deadLetters;
  }

  /**
   * Opens the queue and the dead-letter queue. When the dead-letter queue cannot be opened, the
   * queue is closed again (nobody else holds this replayer yet, so its lock would otherwise stay
   * taken until the process exits) — except on a full disk: replay needs only the queue, and
   * draining it is what frees the disk, so the dead-letter queue is reopened later (healer).
   */
  async open(): Promise<void> {
    this.closing = false;
    await this.queue.open();
    try {
      await this.options.deadLetters?.open();
    } catch (err) {
      if (isNoSpace(err)) {
        this.logger.warn(
          `node ${this.nodeId}: dead-letter queue not opened (${(err as Error).message}); retried later`,
        );
        return;
      }
      await this.queue.close().catch(() => undefined);
      throw err;
    }
  }

  /** Appends to the tail (behind everything queued); counts a full queue and rethrows. */
  async write(payload: Uint8Array): Promise<void> {
    // A failed queue is reopened here too (when due and no send holds the queue), so hand-offs
    // work again without waiting for the node's next replay.
    if (this.healer.needsHeal() && !this.closing && !this.isBusy()) {
      await this.locked(() => this.healer.heal());
    }
    try {
      await this.queue.append(payload);
    } catch (err) {
      if (err instanceof QueueFullError) this.metrics.queueFull(this.nodeId);
      throw err;
    }
    this.metrics.appended(this.nodeId, 1, payload.length);
    this.outcomes.handedOff(payload.length);
  }

  /**
   * Sends one batch from the head. Resolves the bytes the node accepted (0 when the queue is
   * empty, or when the whole batch was dead-lettered). A transient failure advances past the
   * entries delivered before it, steps the back-off and rejects with the client's error.
   */
  async sendWrite(): Promise<number> {
    return (await this.locked(() => this.step())).bytes;
  }

  /**
   * Sends batch after batch while the node answers, until the queue is empty or the replayer
   * closes. Resolves the bytes sent; rejects with the first failure (after advancing past what
   * was delivered), so the caller can schedule the back-off.
   *
   * Pipelined: while batch k is in flight, batch k+1 is read from disk (peeked `k.length`
   * entries past the head), so reading and sending overlap. Still one request at a time, sent
   * in queue order. The drain gives the lock up between batches when a purge or another send
   * waits for it, and then reads afresh: a head moved by someone else voids the read-ahead.
   *
   * `keepGoing` is asked before each next batch: a node paused mid-drain stops after the batch
   * in flight instead of draining its whole backlog.
   */
  async drain(keepGoing: () => boolean = () => true): Promise<number> {
    let total = 0;
    while (!this.closing && keepGoing() && this.leased()) {
      const run = await this.locked(() => this.pipeline(keepGoing));
      total += run.bytes;
      if (!run.more) break;
    }
    return total;
  }

  /** Reopens a failed queue when an attempt is due (the retry sweep's call); never rejects. */
  async heal(): Promise<boolean> {
    if (this.closing || !this.healer.needsHeal()) return !this.healer.needsHeal();
    await this.locked(() => this.healer.heal()).catch(() => undefined);
    return !this.healer.needsHeal();
  }

  /** Drops entries older than maxAge (and dead letters older than it); counts them. */
  purgeOld(reason: PurgeReason = 'age'): Promise<PurgeResult> {
    return this.locked(async () => {
      const cutoff = new Date(this.clock.now() - this.maxAgeMs);
      const result = await this.queue.purgeOlderThan(cutoff);
      this.countPurge(result, reason);
      const dlq = this.options.deadLetters;
      if (dlq && dlq.queue.isOpen() && dlq.count() > 0) {
        const dropped = await dlq.queue.purgeOlderThan(cutoff);
        if (dropped.entries > 0) {
          this.logger.warn(
            `node ${this.nodeId}: ${dropped.entries} dead letters passed max age, dropped`,
          );
          this.metrics.purged(this.nodeId, dropped.entries, reason);
        }
      }
      return result;
    });
  }

  /** Drops the whole backlog (operator action); counts it. */
  purgeAll(reason: PurgeReason = 'operator'): Promise<PurgeResult> {
    return this.locked(async () => {
      // The latest representable date: every record is older than it.
      const result = await this.queue.purgeOlderThan(new Date(8.64e15));
      this.countPurge(result, reason);
      return result;
    });
  }

  /** Moves every dead letter back to the tail of the node's queue; resolves how many. */
  requeueDeadLetters(): Promise<number> {
    const dlq = this.options.deadLetters;
    if (!dlq) return Promise.resolve(0);
    return this.locked(async () => {
      const moved = await dlq.requeue(this.queue);
      if (moved > 0) this.logger.log(`node ${this.nodeId}: requeued ${moved} dead letters`);
      return moved;
    });
  }

  /**
   * The replay lease was lost: nothing owed from this stint is passed later (another relay may
   * have moved the head meanwhile), and the queue drops what it read ahead.
   */
  stopReading(): void {
    this.stint++;
    this.owed = null;
    this.queue.stopReading?.();
  }

  /** True while a send (or a purge) runs or waits for its turn. */
  isBusy(): boolean {
    return this.lock.busy() || this.inFlight;
  }

  /** True while a batch is on its way to the node (not while a purge or an empty read runs). */
  isSending(): boolean {
    return this.inFlight;
  }

  lastError(): string | undefined {
    return this.outcomes.lastError();
  }

  lastErrorAt(): Date | undefined {
    return this.outcomes.lastErrorAt();
  }

  totals(): ReplayTotals {
    return this.outcomes.totals();
  }

  lastSuccessAt(): Date | undefined {
    return this.outcomes.lastSuccessAt();
  }

  /** Consecutive failed sends since the node last answered. */
  failures(): number {
    return this.outcomes.failures();
  }

  /** The back-off delay now (0 while the node answers). */
  backoffMs(): number {
    return this.outcomes.backoffMs();
  }

  /** The delay before retrying a run that failed (steps the back-off when the node did not). */
  retryDelay(): number {
    return this.outcomes.retryDelay();
  }

  /** The queue (or the dead-letter queue) failed and waits to be reopened. */
  needsHeal(): boolean {
    return this.healer.needsHeal();
  }

  /** When the next reopen of a failed queue is due, ms from now. */
  healDueInMs(): number {
    return this.healer.dueInMs();
  }

  /**
   * Stops draining, lets the send in flight finish (or time out in the client), then closes the
   * queues. Safe to call twice.
   */
  async close(): Promise<void> {
    this.closing = true;
    this.limiter.close();
    await this.lock.idle();
    await this.queue.close();
    await this.options.deadLetters?.close();
  }

  /** Runs a section under the lock, counting the sections that wait, so drain can yield. */
  private async locked<T>(fn: () => Promise<T>): Promise<T> {
    this.sections++;
    try {
      return await this.lock.run(fn);
    } finally {
      this.sections--;
    }
  }

  /**
   * Before anything is read: a failed queue is reopened (or the call rejects until it can be),
   * then entries the node already took are passed, so it never receives them again.
   */
  private async ready(): Promise<void> {
    await this.healer.heal();
    const owed = this.owed;
    if (!owed) return;
    this.owed = null;
    if (owed.stint !== this.stint) return;
    const at = this.queue.position();
    // The head moved otherwise (a purge, a reopen that could not resume it): sending again is
    // safe, skipping entries nobody took is not.
    if (at.segment !== owed.at.segment || at.offset !== owed.at.offset) return;
    await this.acknowledge(owed.entries, owed.bytes, owed.replayed, true);
  }

  private async step(): Promise<StepResult> {
    if (this.closing || !this.leased()) return { bytes: 0, entries: 0 };
    await this.ready();
    const entries = await this.queue.peekEntries(this.batchBytes, this.batchEntries);
    if (entries.length === 0) return { bytes: 0, entries: 0 };
    return this.send(entries);
  }

  private async send(entries: QueueEntry[]): Promise<StepResult> {
    this.inFlight = true;
    try {
      return await this.deliver(entries);
    } finally {
      this.inFlight = false;
    }
  }

  /** True while nothing but this drain wants the lock (and the replayer is not closing). */
  private mayContinue(keepGoing: () => boolean): boolean {
    return !this.closing && this.sections === 1 && keepGoing() && this.leased();
  }

  /**
   * One locked stretch of a drain: batch after batch, each next one read while the previous
   * one is in flight. `more` is false once the queue was found empty (or the replayer closes).
   */
  private async pipeline(keepGoing: () => boolean): Promise<PipelineResult> {
    let bytes = 0;
    let entries = 0;
    if (this.closing) return { bytes, entries, more: false };
    await this.ready();
    let batch = await this.queue.peekEntries(this.batchBytes, this.batchEntries);
    while (batch.length > 0) {
      // Read k+1 only when k's success would lead straight to it.
      const next = this.mayContinue(keepGoing)
        ? settled(this.queue.peekEntries(this.batchBytes, this.batchEntries, batch.length))
        : null;
      let done: StepResult;
      try {
        done = await this.send(batch);
      } catch (err) {
        // The read-ahead is dropped: those entries are still queued behind what failed, and
        // are read again on the next attempt. It must settle first, so that no queue read
        // outlives this section (close() waits for the section, then closes the queue).
        await next;
        throw err;
      }
      bytes += done.bytes;
      entries += done.entries;
      // A send that resolves moved the head past all of k (delivered or dead-lettered), so the
      // read-ahead now starts at the head, unless someone waits for the lock and may move it.
      if (!next) return { bytes, entries, more: !this.closing };
      const ahead = await next;
      if (!this.mayContinue(keepGoing)) return { bytes, entries, more: !this.closing };
      if ('error' in ahead) throw ahead.error;
      batch = ahead.value;
      // An empty read-ahead only says the queue ended when it was read: writes may have come in.
      if (batch.length === 0 && this.queue.backlog().entries > 0) {
        batch = await this.queue.peekEntries(this.batchBytes, this.batchEntries);
      }
    }
    return { bytes, entries, more: false };
  }

  /**
   * Sends `entries` (which are at the head) and acknowledges what the node took. On a refusal
   * of several entries, the rest is split in halves, each delivered in turn, so order holds
   * and only the entries refused on their own end up in the dead-letter queue.
   */
  private async deliver(entries: QueueEntry[]): Promise<StepResult> {
    // One pass for the payloads and their size: a batch is thousands of entries.
    const payloads = new Array<Buffer>(entries.length);
    let bytes = 0;
    for (let i = 0; i < entries.length; i++) {
      payloads[i] = entries[i].payload;
      bytes += payloads[i].length;
    }
    await this.limiter.take(bytes);
    try {
      await sendBatch(this.client, this.nodeId, payloads, this.options.replayLanes ?? 1);
    } catch (err) {
      if (err instanceof ReplayClosedError) throw err;
      const delivered = Math.min(deliveredBefore(err), entries.length);
      const done = await this.acknowledge(delivered, sumBytes(payloads.slice(0, delivered)));
      // Without an open dead-letter queue a refused entry stays at the head, retried.
      if (!isPermanent(err) || !this.options.deadLetters?.queue.isOpen()) {
        this.outcomes.failed(err);
        throw err;
      }
      this.outcomes.answered();
      const rest = entries.slice(delivered);
      if (rest.length === 0) return done;
      if (rest.length === 1) {
        await this.deadLetter(rest[0], err);
        return { bytes: done.bytes, entries: done.entries + 1 };
      }
      const mid = Math.ceil(rest.length / 2);
      const left = await this.deliver(rest.slice(0, mid));
      const right = await this.deliver(rest.slice(mid));
      return {
        bytes: done.bytes + left.bytes + right.bytes,
        entries: done.entries + left.entries + right.entries,
      };
    }
    // The back-off resets only once the head has passed the batch: a send that succeeded
    // but could not be acknowledged must not be followed by an immediate retry.
    return this.acknowledge(entries.length, bytes, true, true);
  }

  /**
   * Moves the head past `entries` delivered entries of `bytes` payload bytes; counts them. When
   * the advance fails they are owed: passed first on the next attempt, never sent again.
   */
  private async acknowledge(
    entries: number,
    bytes: number,
    replayed = true,
    answered = false,
  ): Promise<StepResult> {
    if (entries === 0) return { bytes: 0, entries: 0 };
    // Lost during the send: the entries stay at the head for the lease's holder to send.
    if (!this.leased()) throw new LeaseNotHeldError(this.nodeId);
    const at = this.queue.position();
    const stint = this.stint;
    try {
      await this.queue.advance(entries);
    } catch (err) {
      this.owed = { entries, bytes, at, replayed, stint };
      throw err;
    }
    if (answered) this.outcomes.answered();
    if (replayed) {
      this.metrics.replayed(this.nodeId, entries, bytes);
      this.outcomes.replayed(entries, bytes);
    }
    return { bytes, entries };
  }

  private async deadLetter(entry: QueueEntry, err: PermanentWriteError): Promise<void> {
    // Kept before the head moves: a crash in between dead-letters twice, never loses it.
    await this.options.deadLetters!.add(
      entry.payload,
      entry.appendedAt,
      err.response || err.message,
      err.status,
    );
    await this.acknowledge(1, 0, false);
    this.metrics.replayError(this.nodeId, 'permanent');
    this.metrics.deadLettered(this.nodeId, 1);
    // The node's answer may quote the payload, so only its status goes to the log.
    this.logger.warn(
      `node ${this.nodeId}: refused an entry of ${entry.payload.length} bytes handed off at ` +
        `${new Date(entry.appendedAt).toISOString()} (${err.status ? `HTTP ${err.status}` : err.code}); dead-lettered`,
    );
  }

  private leased(): boolean {
    return this.options.mayReplay?.() ?? true;
  }

  private countPurge(result: PurgeResult, reason: PurgeReason): void {
    if (result.entries === 0) return;
    this.metrics.purged(this.nodeId, result.entries, reason);
    this.logger.warn(
      `node ${this.nodeId}: dropped ${result.entries} entries (${result.bytes} bytes), reason ${reason}`,
    );
  }
}

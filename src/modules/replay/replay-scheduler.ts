import type { Logger } from '@nestjs/common';
import type { SchedulerRegistry } from '@nestjs/schedule';
import { CronJob } from 'cron';
import type { HandoffConfig } from '../../config/handoff-config.interface';
import { QueueFailedError } from '../queue/errors';
import { ConcurrencyLimiter } from './concurrency-limiter';
import { LeaseNotHeldError, ReplayClosedError } from './errors';
import { holdsEntries, mayReplay, queueOf, type NodeEntry } from './node-entry';

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

/** What the scheduler needs of the nodes. */
export interface ScheduledNodes {
  entries: ReadonlyMap<string, NodeEntry>;
  retireIfEmpty(entry: NodeEntry): Promise<void>;
  recordNode(entry: NodeEntry): Promise<void>;
  purgeOld(): Promise<void>;
}

/**
 * When replays run: each node's retry timeout (`handoff:replay:<node>`, re-armed by the outcome
 * of the run with the node's back-off), the age-purge cron job and the retry sweep, all in the
 * SchedulerRegistry; runs share a concurrency limit.
 */
export class ReplayScheduler {
  /** The timers were started (application bootstrap). */
  scheduling = false;
  /** Shutdown began: nothing new starts. */
  stopping = false;
  private purging = false;
  private readonly concurrency: ConcurrencyLimiter;

  constructor(
    private readonly config: HandoffConfig,
    private readonly registry: SchedulerRegistry,
    private readonly nodes: ScheduledNodes,
    private readonly logger: Logger,
  ) {
    this.concurrency = new ConcurrencyLimiter(config.retryConcurrency);
  }

  /** Starts the purge job, the retry sweep and the retry loops of nodes with a backlog. */
  start(): void {
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
    for (const entry of this.nodes.entries.values()) {
      if (holdsEntries(entry)) this.arm(entry, 0);
    }
  }

  /** Stops every timer; nothing is armed any more. */
  stop(): void {
    this.stopping = true;
    for (const id of this.nodes.entries.keys()) this.disarm(id);
    if (this.registry.doesExist('cron', PURGE_CRON_NAME))
      this.registry.deleteCronJob(PURGE_CRON_NAME);
    if (this.registry.doesExist('interval', RETRY_SWEEP_NAME))
      this.registry.deleteInterval(RETRY_SWEEP_NAME);
  }

  /** Arms the retry timer soon, unless one is armed (e.g. a back-off) or a run is going. */
  armIfIdle(entry: NodeEntry): void {
    if (entry.running || this.registry.doesExist('timeout', replayTimeoutName(entry.id))) return;
    this.arm(entry, this.config.retryIntervalMs);
  }

  /** (Re-)arms the node's retry timeout with `delayMs`. */
  arm(entry: NodeEntry, delayMs: number): void {
    if (!this.scheduling || this.stopping || entry.paused || entry.retiring || !entry.client) {
      return;
    }
    // Another relay holds the node's replay lease: its acquisition here arms the replay.
    if (!mayReplay(entry)) return;
    if (this.nodes.entries.get(entry.id) !== entry) return;
    this.disarm(entry.id);
    const name = replayTimeoutName(entry.id);
    const handle = setTimeout(() => {
      if (this.registry.doesExist('timeout', name)) this.registry.deleteTimeout(name);
      void this.runReplay(entry);
    }, delayMs);
    this.registry.addTimeout(name, handle);
  }

  disarm(id: string): void {
    const name = replayTimeoutName(id);
    if (this.registry.doesExist('timeout', name)) this.registry.deleteTimeout(name);
  }

  /**
   * The delay after a failed run: the back-off the replayer stepped for a node failure, or a
   * fresh step when the failure was the queue's (so a failing disk is not retried hot).
   */
  retryDelay(entry: NodeEntry): number {
    return entry.replayer.retryDelay();
  }

  /**
   * Entries wait in the node's queue. A queue closed by a reopen that failed cannot say: it
   * counts as backlogged, so writes keep going through it (in order) and its replay reopens it.
   */
  hasBacklog(entry: NodeEntry): boolean {
    if (!queueOf(entry).isOpen()) return entry.replayer.needsHeal();
    return holdsEntries(entry);
  }

  /**
   * The safety net: a node with a backlog (or a failed queue) and no replay armed or running is
   * armed again, so no timer lost to a bug or a fault leaves a backlog stranded. Failed queues
   * of nodes nobody can send to are reopened here.
   */
  private retrySweep(): void {
    if (this.stopping) return;
    for (const entry of this.nodes.entries.values()) {
      if (entry.recordPending && !entry.retiring)
        void this.nodes.recordNode(entry).catch(() => undefined);
      if (entry.paused || entry.retiring || entry.running || entry.replayer.isBusy()) continue;
      if (!mayReplay(entry)) continue;
      if (this.registry.doesExist('timeout', replayTimeoutName(entry.id))) continue;
      const replayer = entry.replayer;
      if (!entry.client) {
        if (replayer.needsHeal()) void replayer.heal();
        continue;
      }
      if (replayer.needsHeal()) this.arm(entry, replayer.healDueInMs());
      else if (queueOf(entry).isOpen() && this.hasBacklog(entry)) {
        this.logger.warn(`node ${entry.id}: backlog with no replay armed; re-armed by the sweep`);
        this.arm(entry, 0);
      }
    }
  }

  /** One scheduled run: drain while the node answers, then re-arm by the outcome. */
  private async runReplay(entry: NodeEntry): Promise<void> {
    if (entry.running) return;
    entry.running = true;
    let delay: number | null = null;
    try {
      await this.concurrency.run(async () => {
        if (this.stopping || entry.paused) return;
        const wasFailing = entry.replayer.failures() > 0;
        // A pause (or shutdown) mid-drain stops it after the batch in flight.
        await entry.replayer.drain(() => !entry.paused && !this.stopping);
        if (wasFailing) this.logger.log(`node ${entry.id}: answering again`);
      });
      if (holdsEntries(entry)) delay = this.config.retryIntervalMs;
      else if (!entry.configured) await this.nodes.retireIfEmpty(entry);
    } catch (err) {
      // A lost lease: the holder replays; this relay's acquisition arms it again.
      if (err instanceof ReplayClosedError || err instanceof LeaseNotHeldError || this.stopping) {
        return;
      }
      const first = entry.replayer.failures() <= 1;
      delay = this.retryDelay(entry);
      // A failed queue is logged by its healer, once per change, not once per attempt.
      if (err instanceof QueueFailedError) delay = Math.max(delay, entry.replayer.healDueInMs());
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

  private async runPurgeJob(): Promise<void> {
    // A tick while the last purge still waits for a node's lock (a send hanging up to the write
    // timeout, a slow disk) is skipped: with a frequent cron, purges would otherwise pile up.
    if (this.purging) return;
    this.purging = true;
    try {
      await this.nodes.purgeOld();
    } catch (err) {
      this.logger.error(`age purge failed: ${err instanceof Error ? err.message : String(err)}`);
    } finally {
      this.purging = false;
    }
  }
}

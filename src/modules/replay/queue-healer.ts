import { queueLocation, type HandoffQueue } from '../queue/handoff-queue.contract';
import { QueueFailedError } from '../queue/errors';
import { Backoff } from './backoff';
import type { Clock } from './clock';
import type { ReplayMetrics } from './replay-metrics.interface';
import type { ReplayLogger } from './replay-logger';

export interface QueueHealerOptions {
  /** First delay between reopen attempts, ms. */
  initialMs: number;
  /** Ceiling of the doubling, ms. */
  maxMs: number;
  jitter?: number;
  random?: () => number;
}

/** Thrown while a node's queue is failed and its next reopen attempt is not due yet. */
export class QueueUnavailableError extends QueueFailedError {
  constructor(dir: string, cause: unknown, retryInMs: number) {
    super(dir, cause);
    this.message = `${this.message} (next reopen in ${retryInMs} ms)`;
  }
}

/**
 * Reopens a node's failed queues (the queue and its dead-letter queue) once the cause is gone: a
 * failed write, fdatasync or roll leaves a queue refusing everything until it is reopened, and a
 * full disk, exhausted inodes or descriptors pass. Attempts back off (a failing disk is not
 * retried hot); the log says once when the queue fails and once when it is back, never per try.
 */
export class QueueHealer {
  private readonly backoff: Backoff;
  private notBefore = 0;
  private lastError: unknown = null;

  constructor(
    private readonly queues: () => HandoffQueue[],
    private readonly nodeId: string,
    private readonly metrics: ReplayMetrics,
    private readonly logger: ReplayLogger,
    private readonly clock: Clock,
    options: QueueHealerOptions,
  ) {
    this.backoff = new Backoff(options);
  }

  /** A queue is failed (or closed by a reopen that failed): writes and replays need a reopen. */
  needsHeal(): boolean {
    return this.queues().some((q) => !isSound(q));
  }

  /** True while healing has failed and is backing off. */
  isFailing(): boolean {
    return this.lastError !== null;
  }

  /** Milliseconds until the next reopen attempt is due (0 when due or not failing). */
  dueInMs(): number {
    return Math.max(0, this.notBefore - this.clock.now());
  }

  /**
   * Reopens every failed or closed queue when an attempt is due. Resolves once the first queue
   * (the node's own) is open and sound, or rejects (QueueUnavailableError when no attempt is
   * due, else the reopen's error): replay and hand-off need only that one; the others (dead
   * letters) are retried with the same back-off meanwhile. The caller must hold whatever keeps
   * other operations off the queues (the replayer's lock).
   */
  async heal(): Promise<void> {
    if (!this.needsHeal()) return;
    const wait = this.dueInMs();
    const primary = this.queues()[0];
    if (wait > 0) {
      if (isSound(primary)) return;
      throw new QueueUnavailableError(queueLocation(primary), this.lastError, wait);
    }
    if (this.lastError === null) {
      const broken = this.queues().find((q) => !isSound(q))!;
      this.logger.warn(`node ${this.nodeId}: queue failed (${describe(broken)}); reopening`);
    }
    let error: unknown = null;
    for (const q of this.queues()) {
      if (isSound(q)) continue;
      try {
        await q.reopen();
      } catch (err) {
        error ??= err;
      }
    }
    if (error !== null) {
      this.metrics.queueReopened?.(this.nodeId, false);
      if (this.lastError === null) {
        this.logger.error(
          `node ${this.nodeId}: queue cannot be reopened (${message(error)}); retrying with back-off`,
        );
      }
      this.lastError = error;
      this.notBefore = this.clock.now() + this.backoff.next();
      if (!isSound(primary)) throw error;
      return;
    }
    this.metrics.queueReopened?.(this.nodeId, true);
    this.logger.log(`node ${this.nodeId}: queue reopened`);
    this.lastError = null;
    this.notBefore = 0;
    this.backoff.reset();
  }
}

function isSound(q: HandoffQueue): boolean {
  return q.isOpen() && !q.isFailed();
}

function describe(q: HandoffQueue): string {
  const where = queueLocation(q);
  return q.isFailed() ? `a write or sync failed in ${where}` : `${where} is not open`;
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

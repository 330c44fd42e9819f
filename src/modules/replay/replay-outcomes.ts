import type { Backoff } from './backoff';
import { classifyError } from './error-classification';
import type { Clock } from './clock';
import type { ReplayTotals } from './node-status.interface';
import type { ReplayMetrics } from './replay-metrics.interface';

/**
 * What one node's replay has seen of the node: whether it answers (the back-off steps on each
 * failure and resets once it answers), its last error and last success, and running totals since
 * start-up. It keeps the node-up and back-off gauges in step with that.
 */
export class ReplayOutcomes {
  private lastErrorMessage: string | undefined;
  private lastErrorTime: number | undefined;
  private lastSuccess: number | undefined;
  /** Running totals since start-up, for rates (the console); metrics count the same events. */
  private readonly counted: ReplayTotals = {
    handedOffEntries: 0,
    handedOffBytes: 0,
    replayedEntries: 0,
    replayedBytes: 0,
  };

  constructor(
    private readonly backoff: Backoff,
    private readonly nodeId: string,
    private readonly metrics: ReplayMetrics,
    private readonly clock: Clock,
  ) {}

  /** The node answered (accepted or refused the data): it is up, the back-off resets. */
  answered(): void {
    this.lastSuccess = this.clock.now();
    this.lastErrorMessage = undefined;
    this.lastErrorTime = undefined;
    this.metrics.nodeUp(this.nodeId, true);
    if (this.backoff.failures() > 0) {
      this.backoff.reset();
      this.metrics.backoff(this.nodeId, 0);
    }
  }

  /** A send failed: the node counts as down and the back-off steps. */
  failed(err: unknown): void {
    this.lastErrorMessage = err instanceof Error ? err.message : String(err);
    this.lastErrorTime = this.clock.now();
    this.metrics.replayError(this.nodeId, classifyError(err));
    this.metrics.nodeUp(this.nodeId, false);
    this.metrics.backoff(this.nodeId, this.backoff.next());
  }

  handedOff(bytes: number): void {
    this.counted.handedOffEntries += 1;
    this.counted.handedOffBytes += bytes;
  }

  replayed(entries: number, bytes: number): void {
    this.counted.replayedEntries += entries;
    this.counted.replayedBytes += bytes;
  }

  /** Consecutive failures since the node last answered. */
  failures(): number {
    return this.backoff.failures();
  }

  /** The delay the back-off stands at (0 while the node answers). */
  backoffMs(): number {
    return this.backoff.failures() > 0 ? this.backoff.current() : 0;
  }

  /**
   * The delay before the next attempt after a failed run: the step taken for a node failure, or
   * a fresh step when the failure was not the node's (so a failing disk is not retried hot).
   */
  retryDelay(): number {
    return this.backoff.current() > 0 ? this.backoff.current() : this.backoff.next();
  }

  lastError(): string | undefined {
    return this.lastErrorMessage;
  }

  lastErrorAt(): Date | undefined {
    return this.lastErrorTime === undefined ? undefined : new Date(this.lastErrorTime);
  }

  lastSuccessAt(): Date | undefined {
    return this.lastSuccess === undefined ? undefined : new Date(this.lastSuccess);
  }

  totals(): ReplayTotals {
    return { ...this.counted };
  }
}

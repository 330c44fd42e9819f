import type {
  PurgeReason,
  ReplayErrorKind,
  ReplayMetrics,
} from '../../src/modules/replay/replay-metrics.interface';

type Call = { method: keyof ReplayMetrics; args: unknown[] };

/** ReplayMetrics that records every call, and lets a test await a call it expects. */
export class RecordingMetrics implements ReplayMetrics {
  readonly calls: Call[] = [];
  private waiters: Array<{ match: (c: Call) => boolean; resolve: () => void }> = [];

  appended(nodeId: string, entries: number, bytes: number): void {
    this.record('appended', [nodeId, entries, bytes]);
  }
  replayed(nodeId: string, entries: number, bytes: number): void {
    this.record('replayed', [nodeId, entries, bytes]);
  }
  replayError(nodeId: string, kind: ReplayErrorKind): void {
    this.record('replayError', [nodeId, kind]);
  }
  deadLettered(nodeId: string, entries: number): void {
    this.record('deadLettered', [nodeId, entries]);
  }
  purged(nodeId: string, entries: number, reason: PurgeReason): void {
    this.record('purged', [nodeId, entries, reason]);
  }
  queueFull(nodeId: string): void {
    this.record('queueFull', [nodeId]);
  }
  corrupt(nodeId: string, bytes: number): void {
    this.record('corrupt', [nodeId, bytes]);
  }
  nodeUp(nodeId: string, up: boolean): void {
    this.record('nodeUp', [nodeId, up]);
  }
  backoff(nodeId: string, delayMs: number): void {
    this.record('backoff', [nodeId, delayMs]);
  }
  queueReopened(nodeId: string, ok: boolean): void {
    this.record('queueReopened', [nodeId, ok]);
  }
  missingSegments(nodeId: string, count: number): void {
    this.record('missingSegments', [nodeId, count]);
  }

  of(method: keyof ReplayMetrics): unknown[][] {
    return this.calls.filter((c) => c.method === method).map((c) => c.args);
  }

  /** Sum of the numeric argument at `index` over calls of `method`. */
  total(method: keyof ReplayMetrics, index = 1): number {
    return this.of(method).reduce((a, args) => a + (args[index] as number), 0);
  }

  /** Resolves at the first call (past or future) that `match` accepts. */
  waitFor(
    method: keyof ReplayMetrics,
    match: (args: unknown[]) => boolean = () => true,
  ): Promise<void> {
    const m = (c: Call) => c.method === method && match(c.args);
    if (this.calls.some(m)) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ match: m, resolve }));
  }

  /** Resolves once `predicate` holds, checked now and after every call. */
  until(predicate: () => boolean): Promise<void> {
    if (predicate()) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ match: () => predicate(), resolve }));
  }

  private record(method: keyof ReplayMetrics, args: unknown[]): void {
    const call = { method, args };
    this.calls.push(call);
    // Waiters run after the push so that `until` predicates see this call.
    this.waiters = this.waiters.filter((w) => {
      if (!w.match(call)) return true;
      w.resolve();
      return false;
    });
  }
}

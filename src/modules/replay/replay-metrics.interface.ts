/**
 * What the replay side reports. The queue and replay code call only this interface, so they need
 * no Prometheus import; the metrics module binds it to prom-client, tests bind it to a recorder.
 */
export type ReplayErrorKind = 'transient' | 'permanent' | 'timeout' | 'network';
export type PurgeReason = 'age' | 'operator' | 'inactive-node';

export interface ReplayMetrics {
  appended(nodeId: string, entries: number, bytes: number): void;
  replayed(nodeId: string, entries: number, bytes: number): void;
  replayError(nodeId: string, kind: ReplayErrorKind): void;
  deadLettered(nodeId: string, entries: number): void;
  purged(nodeId: string, entries: number, reason: PurgeReason): void;
  queueFull(nodeId: string): void;
  corrupt(nodeId: string, bytes: number): void;
  nodeUp(nodeId: string, up: boolean): void;
  backoff(nodeId: string, delayMs: number): void;
  /** A reopen of the node's failed queue was tried: `ok` says whether it opened. Optional. */
  queueReopened?(nodeId: string, ok: boolean): void;
  /** Segments found missing from the middle or the end of the node's queue at open. Optional. */
  missingSegments?(nodeId: string, count: number): void;
  /**
   * The node is gone (a removed node's directory was deleted): its gauges must not keep their
   * last values. Optional, so recorders written before it still fit.
   */
  forget?(nodeId: string): void;
}

/** Reports nothing: the default when no metrics are bound. */
export const NOOP_REPLAY_METRICS: ReplayMetrics = {
  appended: () => undefined,
  replayed: () => undefined,
  replayError: () => undefined,
  deadLettered: () => undefined,
  purged: () => undefined,
  queueFull: () => undefined,
  corrupt: () => undefined,
  nodeUp: () => undefined,
  backoff: () => undefined,
};

export const REPLAY_METRICS = Symbol('HANDOFF_REPLAY_METRICS');

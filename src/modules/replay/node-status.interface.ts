/** What operators, health checks and metrics see of one node. */
export type NodeState = 'up' | 'backing-off' | 'paused' | 'inactive';

export interface NodeBacklogStatus {
  entries: number;
  /** Unread payload bytes. */
  bytes: number;
  /** Age in seconds of the oldest unread entry; null when the queue is empty. */
  oldestAgeSeconds: number | null;
}

export interface NodeStatus {
  id: string;
  /** Where the default HTTP client sends; absent for nodes served by a custom client. */
  url?: string;
  state: NodeState;
  /** False for a queue left on disk by a node no longer configured (drained, then removed). */
  configured: boolean;
  open: boolean;
  backlog: NodeBacklogStatus;
  diskBytes: number;
  maxSize: number;
  deadLetters: number;
  /** Current back-off delay before the next retry, 0 when not backing off. */
  backoffMs: number;
  lastError?: string;
  /** When `lastError` happened (ISO). */
  lastErrorAt?: string;
  lastSuccessAt?: string;
  /** Hand-offs and replays since start-up: rates are their differences over time. */
  totals?: ReplayTotals;
  /**
   * The node's replay lease (JetStream store only): the relay id holding it as last read from
   * NATS (null when free, or unknown while NATS is down), and whether this relay holds it.
   */
  lease?: { holder: string | null; held: boolean };
}

/** Counts since the process started (entries and payload bytes). */
export interface ReplayTotals {
  handedOffEntries: number;
  handedOffBytes: number;
  replayedEntries: number;
  replayedBytes: number;
}

/** A write the node refused for good, kept with the node's answer. */
export interface DeadLetter {
  /** Position in the node's dead-letter queue (0 = oldest). */
  index: number;
  size: number;
  /** When it was dead-lettered (ISO). */
  at: string;
  /** When it was first handed off (ISO). */
  appendedAt: string;
  status?: number;
  error: string;
  /**
   * Set when the stored record cannot be decoded: `size` is then the whole record's, `at` and
   * `appendedAt` the time it was stored, and requeue keeps it aside instead of sending it.
   */
  damaged?: true;
}

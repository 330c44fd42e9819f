import type { FsyncPolicy, WriteConsistency } from './defaults';

/** One target node: its id (also its queue directory name) and the URL writes go to. */
export interface NodeConfig {
  id: string;
  url: string;
}

/**
 * The resolved, validated configuration: what `HH_*` variables (or module options) become.
 * Durations are milliseconds and sizes are bytes, already parsed.
 */
export interface HandoffConfig {
  dataDir: string;
  nodes: NodeConfig[];
  maxSize: number;
  maxSegmentSize: number;
  maxAgeMs: number;
  retryRateLimit: number;
  retryIntervalMs: number;
  retryMaxIntervalMs: number;
  purgeCron: string;
  fsync: FsyncPolicy;
  fsyncIntervalMs: number;
  retryConcurrency: number;
  replayBatchBytes: number;
  /** Concurrent replay requests per node, split by series (HH_REPLAY_LANES); default 8. */
  replayLanes?: number;
  /** Replay lanes shrink while live writes slow down (HH_REPLAY_ADAPTIVE); default true. */
  replayAdaptive?: boolean;
  port: number;
  /** Listen address of the standalone relay. */
  host: string;
  authToken?: string;
  /**
   * Token of the operator routes that change state (pause, resume, replay, purge, requeue);
   * falls back to `authToken`. With neither, those routes answer only to loopback clients.
   */
  adminToken?: string;
  maxBodySize: number;
  writeTimeoutMs: number;
  writeConsistency: WriteConsistency;
  /**
   * The strongest consistency a client's `consistency=` may ask; stronger asks are lowered to it
   * (the `influx` CLI always asks `all`). Default `all`: no cap.
   */
  maxConsistency?: WriteConsistency;
  healthDiskThreshold: number;
  healthMaxBacklogAgeMs: number;
  // Relay server settings (the standalone relay only). Optional in the type so configurations
  // built in code before they existed stay valid; validateHandoffEnv always fills them.
  /** How long a SIGTERM waits for sends in flight before aborting them. */
  shutdownTimeoutMs?: number;
  /** The request line and headers must arrive within this. */
  headerTimeoutMs?: number;
  /** The whole body must arrive within this after the headers. */
  bodyTimeoutMs?: number;
  /** An idle keep-alive connection is closed after this. */
  keepAliveTimeoutMs?: number;
  /** Connections open at once; more are closed as they arrive. */
  maxConnections?: number;
}

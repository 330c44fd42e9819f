import type {
  FsyncPolicy,
  HandoffStore,
  JetStreamReplicas,
  QueueCrc32Choice,
  WriteConsistency,
} from './defaults';

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
  /**
   * HH_QUEUE_CRC32, checked here so that a bad value is reported with the other variables; the
   * queue reads the variable itself when it is loaded (the checksum is chosen once per process).
   */
  queueCrc32?: QueueCrc32Choice;
  // Where hints are kept. Optional in the type (configurations built in code before the
  // JetStream store existed stay valid: they mean `disk`); validateHandoffEnv always fills them.
  /** `disk` (default) or `jetstream` (HH_STORE). */
  store?: HandoffStore;
  /** NATS servers, comma-separated (HH_NATS_URL); required with the jetstream store. */
  natsUrl?: string;
  /** NATS auth, at most one way: a token, a user and password, or a .creds file. */
  natsToken?: string;
  natsUser?: string;
  natsPassword?: string;
  natsCreds?: string;
  /** Copies of each node's stream and of the lease bucket: 1, 3 or 5. */
  jetstreamReplicas?: JetStreamReplicas;
  /** How long a replay lease lives unrenewed (HH_LEASE_TTL); another relay takes over after. */
  leaseTtlMs?: number;
  /** This relay's name in the replay leases (HH_RELAY_ID); default `<hostname>-<pid>`. */
  relayId?: string;
}

/**
 * Every default of the project, once. The README's configuration table quotes these; the seed
 * names in comments are the Go `handoff` package's constants they descend from.
 */
const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;
const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** When the queue fdatasyncs: before an append resolves, on a timer, or never (the OS decides). */
export const FSYNC_POLICIES = ['always', 'interval', 'never'] as const;
export type FsyncPolicy = (typeof FSYNC_POLICIES)[number];
export type WriteConsistency = 'any' | 'one' | 'quorum' | 'all';
/** Where hints are kept: segment files under HH_DATA_DIR, or replicated NATS JetStream streams. */
export const HANDOFF_STORES = ['disk', 'jetstream'] as const;
/** HH_QUEUE_CRC32: `auto` takes @node-rs/crc32 when installed, `zlib` always node:zlib's. */
export const QUEUE_CRC32_CHOICES = ['auto', 'zlib'] as const;
export type QueueCrc32Choice = (typeof QUEUE_CRC32_CHOICES)[number];
export type HandoffStore = (typeof HANDOFF_STORES)[number];
/** Copies of each JetStream stream (and of the lease bucket): what a NATS cluster takes. */
export const JETSTREAM_REPLICAS = [1, 3, 5] as const;
export type JetStreamReplicas = (typeof JETSTREAM_REPLICAS)[number];

export const DEFAULTS = {
  dataDir: './data/hh',
  nodes: 'local=http://127.0.0.1:8086',
  /** DefaultMaxSize: bytes on disk per node queue. */
  maxSize: 10 * GiB,
  /** SetMaxSegmentSize default. */
  maxSegmentSize: 10 * MiB,
  /** DefaultMaxAge. */
  maxAgeMs: 7 * DAY,
  /** DefaultRetryRateLimit: 0 means unlimited. */
  retryRateLimit: 0,
  /** DefaultRetryInterval / DefaultRetryMaxInterval. */
  retryIntervalMs: 10,
  retryMaxIntervalMs: 10 * SECOND,
  /** DefaultPurgeInterval (1 h) as a cron expression. */
  purgeCron: '0 * * * *',
  fsync: 'interval' as FsyncPolicy,
  fsyncIntervalMs: 100,
  retryConcurrency: 20,
  /** Measured with 8 lanes (bench/relay.bench.ts): 1 MiB splits into lane requests too small. */
  replayBatchBytes: 4 * MiB,
  /** Concurrent replay requests per node, by series (1 = one request at a time). */
  replayLanes: 8,
  /** Replay lanes shrink while live writes slow down. */
  replayAdaptive: true,
  port: 9096,
  /** Listen address of the standalone relay. */
  host: '0.0.0.0',
  maxBodySize: 25 * 1000 * 1000,
  writeTimeoutMs: 10 * SECOND,
  writeConsistency: 'any' as WriteConsistency,
  /** The strongest consistency a client may ask (`all` = no cap). */
  maxConsistency: 'all' as WriteConsistency,
  healthDiskThreshold: 0.9,
  healthMaxBacklogAgeMs: 1 * HOUR,
  /** Relay server limits: a client that is slow, idle or unauthenticated costs bounded time. */
  shutdownTimeoutMs: 20 * SECOND,
  headerTimeoutMs: 10 * SECOND,
  bodyTimeoutMs: 30 * SECOND,
  keepAliveTimeoutMs: 15 * SECOND,
  maxConnections: 512,
  store: 'disk' as HandoffStore,
  queueCrc32: 'auto' as QueueCrc32Choice,
  /**
   * HH_MAX_SIZE's default with HH_STORE=jetstream: JetStream reserves each stream's max_bytes
   * up front on every replica (hints and dead letters), so 10 GiB per node rarely fits.
   */
  jetstreamMaxSize: 1 * GiB,
  jetstreamReplicas: 1 as JetStreamReplicas,
  /** A replay lease lives this long without renewal (renewed every third of it). */
  leaseTtlMs: 10 * SECOND,
  /** A queue at or above this share of maxSize reports unhealthy. */
  healthQueueFullRatio: 0.9,
} as const;

/**
 * The longest delay a Node timer keeps: past 2^31-1 ms (about 24.8 days) setTimeout and
 * setInterval fire after 1 ms instead, so a long back-off, fsync interval or timeout would
 * turn into a hot loop.
 */
export const MAX_TIMER_MS = 0x7fffffff;

/** Node ids become directory names: this pattern keeps every request path off the filesystem. */
export const NODE_ID_PATTERN = /^[A-Za-z0-9_.-]{1,64}$/;

export const UNITS = { KiB, MiB, GiB, SECOND, MINUTE, HOUR, DAY } as const;

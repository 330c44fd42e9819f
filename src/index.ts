/**
 * The public API of nestjs-hinted-handoff: what `dist/index.js` exports, and nothing else.
 * Everything not named here is internal and may change without notice.
 */

// ---- Drop-in module ---------------------------------------------------------------------------
export { HintedHandoffModule } from './modules/handoff/hinted-handoff.module';
export type {
  HintedHandoffModuleAsyncOptions,
  HintedHandoffModuleExtras,
  HintedHandoffModuleOptions,
  HintedHandoffSettings,
} from './modules/handoff/hinted-handoff-options.interface';
export { HandoffWriter, type HandoffWriteResult } from './modules/handoff/handoff-writer';
export { HandoffQueueNotConfiguredError } from './modules/handoff/errors';

// ---- Configuration ----------------------------------------------------------------------------
export { DEFAULTS, type FsyncPolicy, type WriteConsistency } from './config/defaults';
export { ConfigValidationError, type ConfigProblem } from './config/errors';
export { HANDOFF_CONFIG } from './config/handoff-config.constants';
export type { HandoffConfig, NodeConfig } from './config/handoff-config.interface';
export { handoffConfig, resolveHandoffConfig } from './config/handoff.config';
export { validateHandoffEnv } from './config/handoff-env';

// ---- Queue ------------------------------------------------------------------------------------
export {
  DiskBackedQueue,
  type CorruptInfo,
  type DiskBackedQueueOptions,
  type PurgeResult,
  type QueueBacklog,
  type QueueEntry,
  type QueuePosition,
} from './modules/queue/disk-backed-queue';
export {
  CorruptRecordError,
  QueueFailedError,
  QueueFullError,
  QueueLockedError,
  QueueNotOpenError,
  QueueOpenError,
  SegmentFullError,
} from './modules/queue/errors';
export { QueueModule } from './modules/queue/queue.module';
export type {
  QueueModuleAsyncOptions,
  QueueModuleOptions,
} from './modules/queue/queue-module-options.interface';
export { QueueRegistry, type QueueRegistryOptions } from './modules/queue/queue-registry';
export { getHandoffQueueToken } from './modules/queue/queue.constants';
export { InjectHandoffQueue } from './modules/queue/inject-handoff-queue.decorator';

// ---- Replay -----------------------------------------------------------------------------------
export { HandoffService } from './modules/replay/handoff.service';
export { NODE_CLIENT, type NodeClient } from './modules/replay/node-client.interface';
export {
  HttpNodeClient,
  type HttpNodeClientFormat,
  type HttpNodeClientOptions,
} from './modules/replay/http-node-client';
export {
  DuplicateNodeError,
  InvalidNodeIdError,
  NodeTimeoutError,
  NodeUnreachableError,
  PermanentWriteError,
  ReplayClosedError,
  TransientWriteError,
  UnknownNodeError,
} from './modules/replay/errors';
export { WriteReplayer, type WriteReplayerOptions } from './modules/replay/write-replayer';
export { RateLimiter } from './modules/replay/rate-limiter';
export { Backoff, type BackoffOptions } from './modules/replay/backoff';
export {
  NOOP_REPLAY_METRICS,
  REPLAY_METRICS,
  type PurgeReason,
  type ReplayErrorKind,
  type ReplayMetrics,
} from './modules/replay/replay-metrics.interface';
export type {
  DeadLetter,
  NodeBacklogStatus,
  NodeState,
  NodeStatus,
  ReplayTotals,
} from './modules/replay/node-status.interface';

// ---- Health and metrics -----------------------------------------------------------------------
export { HandoffHealthIndicator, type NodeHealthDetails } from './modules/health/handoff.health';
export { HandoffHealthModule } from './modules/health/handoff-health.module';
export { HandoffMetricsModule } from './modules/metrics/handoff-metrics.module';
export { PrometheusReplayMetrics } from './modules/metrics/prometheus-replay-metrics';
export { HANDOFF_METRIC_PROVIDERS, METRIC } from './modules/metrics/metrics.definitions';

// ---- Operator console -------------------------------------------------------------------------
export { HandoffConsoleModule } from './modules/console/handoff-console.module';
export type { HandoffConsoleOptions } from './modules/console/console-options';
export type { ConsoleNode, ConsoleOverview } from './modules/console/console-overview';
export type { NodeSample } from './modules/console/console-history';

export { Backoff, type BackoffOptions } from './backoff';
export { SYSTEM_CLOCK, type Clock } from './clock';
export { ConcurrencyLimiter } from './concurrency-limiter';
export { DeadLetterQueue, DEAD_LETTER_DIR } from './dead-letter-queue';
export { decodeDeadLetter, encodeDeadLetter, type DeadLetterHeader } from './dead-letter-envelope';
export { classifyError } from './error-classification';
export * from './errors';
export {
  HandoffService,
  PURGE_CRON_NAME,
  replayTimeoutName,
  RETRY_SWEEP_NAME,
  retrySweepIntervalMs,
} from './handoff.service';
export {
  HttpNodeClient,
  isTransientStatus,
  joinLines,
  type HttpNodeClientFormat,
  type HttpNodeClientOptions,
} from './http-node-client';
export { NODE_CLIENT, type NodeClient } from './node-client.interface';
export type { DeadLetter, NodeBacklogStatus, NodeState, NodeStatus } from './node-status.interface';
export { QueueHealer, QueueUnavailableError, type QueueHealerOptions } from './queue-healer';
export { RateLimiter } from './rate-limiter';
export {
  NOOP_REPLAY_METRICS,
  REPLAY_METRICS,
  type PurgeReason,
  type ReplayErrorKind,
  type ReplayMetrics,
} from './replay-metrics.interface';
export type { ReplayLogger } from './replay-logger';
export { ReplayModule, type ReplayModuleOptions } from './replay.module';
export { isRoutable, type RoutableNodeClient } from './routable-node-client';
export { WriteReplayer, type WriteReplayerOptions } from './write-replayer';

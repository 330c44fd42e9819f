/**
 * The public API of nestjs-hinted-handoff: what `require('nestjs-hinted-handoff')` gives, and
 * nothing else. Everything not named here is internal and may change without notice.
 *
 * Every value is a lazy getter over the file that defines it, so requiring the package loads
 * nothing: terminus, the scheduler, class-validator, prom-client and @nestjs/config are loaded
 * when the name that needs them is first used (a host that never turns metrics on never loads
 * prom-client). Each value has a `declare const` (its runtime type) and, for classes, a type of
 * the same name, so `handoff: HandoffService` still types a parameter and emits its metadata.
 */
/* eslint-disable @typescript-eslint/no-require-imports */
import type * as BaseError from './handoff-error';
import type * as ConfigDefaults from './config/defaults';
import type * as ConfigErrors from './config/errors';
import type * as ConfigConstants from './config/handoff-config.constants';
import type * as ConfigNamespace from './config/handoff.config';
import type * as ConfigEnv from './config/handoff-env';
import type * as ModuleErrors from './modules/handoff/errors';
import type * as ErrorStatus from './modules/handoff/handoff-error-status';
import type * as ExceptionFilterFile from './modules/handoff/handoff-exception.filter';
import type * as Writer from './modules/handoff/handoff-writer';
import type * as Handoff from './modules/handoff/hinted-handoff.module';
import type * as ConsoleModuleFile from './modules/console/handoff-console.module';
import type * as Health from './modules/health/handoff.health';
import type * as HealthModule from './modules/health/handoff-health.module';
import type * as MetricsModule from './modules/metrics/handoff-metrics.module';
import type * as MetricsDefinitions from './modules/metrics/metrics.definitions';
import type * as Queue from './modules/queue/disk-backed-queue';
import type * as QueueErrors from './modules/queue/errors';
import type * as QueueInject from './modules/queue/inject-handoff-queue.decorator';
import type * as QueueModuleFile from './modules/queue/queue.module';
import type * as QueueConstants from './modules/queue/queue.constants';
import type * as ReplayErrors from './modules/replay/errors';
import type * as Service from './modules/replay/handoff.service';
import type * as HttpClient from './modules/replay/http-node-client';
import type * as ClientContract from './modules/replay/node-client.interface';
import type * as ReplayMetricsContract from './modules/replay/replay-metrics.interface';

/** Defines `names` on this module's exports, each read from `load()` on first access. */
function lazy(load: () => Record<string, unknown>, names: readonly string[]): void {
  for (const name of names) {
    Object.defineProperty(exports, name, { enumerable: true, get: () => load()[name] });
  }
}

// ---- Drop-in module ---------------------------------------------------------------------------
lazy(() => require('./modules/handoff/hinted-handoff.module'), ['HintedHandoffModule']);
export type HintedHandoffModule = Handoff.HintedHandoffModule;
export declare const HintedHandoffModule: typeof Handoff.HintedHandoffModule;
export type {
  HintedHandoffModuleAsyncOptions,
  HintedHandoffModuleExtras,
  HintedHandoffModuleOptions,
  HintedHandoffOptionsFactory,
  HintedHandoffSettings,
} from './modules/handoff/hinted-handoff-options.interface';

lazy(() => require('./modules/replay/handoff.service'), ['HandoffService']);
export type HandoffService = Service.HandoffService;
export declare const HandoffService: typeof Service.HandoffService;

lazy(() => require('./modules/handoff/handoff-writer'), ['HandoffWriter']);
export type HandoffWriter = Writer.HandoffWriter;
export declare const HandoffWriter: typeof Writer.HandoffWriter;
export type { HandoffWriteResult } from './modules/handoff/handoff-writer';

// ---- Errors and their HTTP statuses -----------------------------------------------------------
lazy(() => require('./modules/handoff/handoff-exception.filter'), ['HandoffExceptionFilter']);
export type HandoffExceptionFilter = ExceptionFilterFile.HandoffExceptionFilter;
export declare const HandoffExceptionFilter: typeof ExceptionFilterFile.HandoffExceptionFilter;
export type { HandoffErrorBody } from './modules/handoff/handoff-exception.filter';
lazy(() => require('./modules/handoff/handoff-error-status'), ['handoffErrorStatus']);
export declare const handoffErrorStatus: typeof ErrorStatus.handoffErrorStatus;

// Every error of the package extends HandoffError (stable `code`, `cause` kept).
lazy(() => require('./handoff-error'), ['HandoffError']);
export type HandoffError = BaseError.HandoffError;
export declare const HandoffError: typeof BaseError.HandoffError;

lazy(() => require('./modules/handoff/errors'), ['HandoffQueueNotConfiguredError']);
export type HandoffQueueNotConfiguredError = ModuleErrors.HandoffQueueNotConfiguredError;
export declare const HandoffQueueNotConfiguredError: typeof ModuleErrors.HandoffQueueNotConfiguredError;

lazy(
  () => require('./modules/replay/errors'),
  [
    'DuplicateNodeError',
    'InvalidNodeIdError',
    'NodeTimeoutError',
    'NodeUnreachableError',
    'PermanentWriteError',
    'ReplayClosedError',
    'TransientWriteError',
    'UnknownNodeError',
  ],
);
export type DuplicateNodeError = ReplayErrors.DuplicateNodeError;
export declare const DuplicateNodeError: typeof ReplayErrors.DuplicateNodeError;
export type InvalidNodeIdError = ReplayErrors.InvalidNodeIdError;
export declare const InvalidNodeIdError: typeof ReplayErrors.InvalidNodeIdError;
export type NodeTimeoutError = ReplayErrors.NodeTimeoutError;
export declare const NodeTimeoutError: typeof ReplayErrors.NodeTimeoutError;
export type NodeUnreachableError = ReplayErrors.NodeUnreachableError;
export declare const NodeUnreachableError: typeof ReplayErrors.NodeUnreachableError;
export type PermanentWriteError = ReplayErrors.PermanentWriteError;
export declare const PermanentWriteError: typeof ReplayErrors.PermanentWriteError;
export type ReplayClosedError = ReplayErrors.ReplayClosedError;
export declare const ReplayClosedError: typeof ReplayErrors.ReplayClosedError;
export type TransientWriteError = ReplayErrors.TransientWriteError;
export declare const TransientWriteError: typeof ReplayErrors.TransientWriteError;
export type UnknownNodeError = ReplayErrors.UnknownNodeError;
export declare const UnknownNodeError: typeof ReplayErrors.UnknownNodeError;

lazy(
  () => require('./modules/queue/errors'),
  ['QueueFailedError', 'QueueFullError', 'QueueLockedError', 'QueueNotOpenError', 'QueueOpenError'],
);
export type QueueFailedError = QueueErrors.QueueFailedError;
export declare const QueueFailedError: typeof QueueErrors.QueueFailedError;
export type QueueFullError = QueueErrors.QueueFullError;
export declare const QueueFullError: typeof QueueErrors.QueueFullError;
export type QueueLockedError = QueueErrors.QueueLockedError;
export declare const QueueLockedError: typeof QueueErrors.QueueLockedError;
export type QueueNotOpenError = QueueErrors.QueueNotOpenError;
export declare const QueueNotOpenError: typeof QueueErrors.QueueNotOpenError;
export type QueueOpenError = QueueErrors.QueueOpenError;
export declare const QueueOpenError: typeof QueueErrors.QueueOpenError;

// ---- Configuration ----------------------------------------------------------------------------
lazy(() => require('./config/defaults'), ['DEFAULTS']);
export declare const DEFAULTS: typeof ConfigDefaults.DEFAULTS;
export type { FsyncPolicy, WriteConsistency } from './config/defaults';
lazy(() => require('./config/errors'), ['ConfigValidationError']);
export type ConfigValidationError = ConfigErrors.ConfigValidationError;
export declare const ConfigValidationError: typeof ConfigErrors.ConfigValidationError;
export type { ConfigProblem } from './config/errors';
lazy(() => require('./config/handoff-config.constants'), ['HANDOFF_CONFIG']);
export declare const HANDOFF_CONFIG: typeof ConfigConstants.HANDOFF_CONFIG;
export type { HandoffConfig, NodeConfig } from './config/handoff-config.interface';
// @nestjs/config (an optional peer) is loaded only by the host that uses handoffConfig.
lazy(() => require('./config/handoff.config'), ['handoffConfig', 'resolveHandoffConfig']);
export declare const handoffConfig: typeof ConfigNamespace.handoffConfig;
export declare const resolveHandoffConfig: typeof ConfigNamespace.resolveHandoffConfig;
lazy(() => require('./config/handoff-env'), ['validateHandoffEnv']);
export declare const validateHandoffEnv: typeof ConfigEnv.validateHandoffEnv;

// ---- Queues -----------------------------------------------------------------------------------
lazy(() => require('./modules/queue/disk-backed-queue'), ['DiskBackedQueue']);
export type DiskBackedQueue = Queue.DiskBackedQueue;
export declare const DiskBackedQueue: typeof Queue.DiskBackedQueue;
export type {
  DiskBackedQueueOptions,
  PurgeResult,
  QueueBacklog,
  QueueEntry,
  QueuePosition,
} from './modules/queue/disk-backed-queue';
lazy(() => require('./modules/queue/queue.module'), ['QueueModule']);
export type QueueModule = QueueModuleFile.QueueModule;
export declare const QueueModule: typeof QueueModuleFile.QueueModule;
export type {
  QueueModuleAsyncOptions,
  QueueModuleOptions,
} from './modules/queue/queue-module-options.interface';
lazy(() => require('./modules/queue/queue.constants'), ['getHandoffQueueToken']);
export declare const getHandoffQueueToken: typeof QueueConstants.getHandoffQueueToken;
lazy(() => require('./modules/queue/inject-handoff-queue.decorator'), ['InjectHandoffQueue']);
export declare const InjectHandoffQueue: typeof QueueInject.InjectHandoffQueue;

// ---- Transport to the nodes -------------------------------------------------------------------
lazy(() => require('./modules/replay/node-client.interface'), ['NODE_CLIENT']);
export declare const NODE_CLIENT: typeof ClientContract.NODE_CLIENT;
export type { NodeClient } from './modules/replay/node-client.interface';
lazy(() => require('./modules/replay/http-node-client'), ['HttpNodeClient']);
export type HttpNodeClient = HttpClient.HttpNodeClient;
export declare const HttpNodeClient: typeof HttpClient.HttpNodeClient;
export type {
  HttpNodeClientFormat,
  HttpNodeClientOptions,
} from './modules/replay/http-node-client';
export type {
  DeadLetter,
  NodeBacklogStatus,
  NodeState,
  NodeStatus,
  ReplayTotals,
} from './modules/replay/node-status.interface';

// ---- Health and metrics -----------------------------------------------------------------------
lazy(() => require('./modules/health/handoff.health'), ['HandoffHealthIndicator']);
export type HandoffHealthIndicator = Health.HandoffHealthIndicator;
export declare const HandoffHealthIndicator: typeof Health.HandoffHealthIndicator;
export type { NodeHealthDetails } from './modules/health/handoff.health';
lazy(() => require('./modules/health/handoff-health.module'), ['HandoffHealthModule']);
export type HandoffHealthModule = HealthModule.HandoffHealthModule;
export declare const HandoffHealthModule: typeof HealthModule.HandoffHealthModule;
// prom-client and @willsoto/nestjs-prometheus (optional peers) load with these names only.
lazy(() => require('./modules/metrics/handoff-metrics.module'), ['HandoffMetricsModule']);
export type HandoffMetricsModule = MetricsModule.HandoffMetricsModule;
export declare const HandoffMetricsModule: typeof MetricsModule.HandoffMetricsModule;
lazy(() => require('./modules/metrics/metrics.definitions'), ['METRIC']);
export declare const METRIC: typeof MetricsDefinitions.METRIC;
lazy(
  () => require('./modules/replay/replay-metrics.interface'),
  ['REPLAY_METRICS', 'NOOP_REPLAY_METRICS'],
);
export declare const REPLAY_METRICS: typeof ReplayMetricsContract.REPLAY_METRICS;
export declare const NOOP_REPLAY_METRICS: typeof ReplayMetricsContract.NOOP_REPLAY_METRICS;
export type {
  PurgeReason,
  ReplayErrorKind,
  ReplayMetrics,
} from './modules/replay/replay-metrics.interface';

// ---- Operator console -------------------------------------------------------------------------
// uplot (an optional peer) is read when the console module starts, not here.
lazy(() => require('./modules/console/handoff-console.module'), ['HandoffConsoleModule']);
export type HandoffConsoleModule = ConsoleModuleFile.HandoffConsoleModule;
export declare const HandoffConsoleModule: typeof ConsoleModuleFile.HandoffConsoleModule;
export type { HandoffConsoleOptions } from './modules/console/console-options';
export type { ConsoleNode, ConsoleOverview } from './modules/console/console-overview';
export type { NodeSample } from './modules/console/console-history';

// ---- Names for ES module hosts ---------------------------------------------------------------
// Node finds the names of a CommonJS module for `import { … } from` by reading its source, not by
// running it, and getters defined in a loop are invisible to that reading. This never runs; it
// names every value above in the one form the reader knows. A test keeps it in step with lazy().
// eslint-disable-next-line no-constant-condition
if (false) {
  exports.HintedHandoffModule = undefined;
  exports.HandoffService = undefined;
  exports.HandoffWriter = undefined;
  exports.HandoffExceptionFilter = undefined;
  exports.handoffErrorStatus = undefined;
  exports.HandoffError = undefined;
  exports.HandoffQueueNotConfiguredError = undefined;
  exports.DuplicateNodeError = undefined;
  exports.InvalidNodeIdError = undefined;
  exports.NodeTimeoutError = undefined;
  exports.NodeUnreachableError = undefined;
  exports.PermanentWriteError = undefined;
  exports.ReplayClosedError = undefined;
  exports.TransientWriteError = undefined;
  exports.UnknownNodeError = undefined;
  exports.QueueFailedError = undefined;
  exports.QueueFullError = undefined;
  exports.QueueLockedError = undefined;
  exports.QueueNotOpenError = undefined;
  exports.QueueOpenError = undefined;
  exports.DEFAULTS = undefined;
  exports.ConfigValidationError = undefined;
  exports.HANDOFF_CONFIG = undefined;
  exports.handoffConfig = undefined;
  exports.resolveHandoffConfig = undefined;
  exports.validateHandoffEnv = undefined;
  exports.DiskBackedQueue = undefined;
  exports.QueueModule = undefined;
  exports.getHandoffQueueToken = undefined;
  exports.InjectHandoffQueue = undefined;
  exports.NODE_CLIENT = undefined;
  exports.HttpNodeClient = undefined;
  exports.HandoffHealthIndicator = undefined;
  exports.HandoffHealthModule = undefined;
  exports.HandoffMetricsModule = undefined;
  exports.METRIC = undefined;
  exports.REPLAY_METRICS = undefined;
  exports.NOOP_REPLAY_METRICS = undefined;
  exports.HandoffConsoleModule = undefined;
}

import {
  DEFAULTS,
  FSYNC_POLICIES,
  HANDOFF_STORES,
  QUEUE_CRC32_CHOICES,
  type WriteConsistency,
} from './defaults';
import { ConfigValidationError, type ConfigProblem } from './errors';
import type { HandoffConfig } from './handoff-config.interface';
import { HandoffVariable, handoffVariables, problemOf } from './handoff-variable.decorator';
import { applyStoreDefaults, crossCheck } from './cross-check';
import { positive } from './bounds';
import { parseCron, parseDuration, parseTimerDuration } from './parse-durations';
import { parseLeaseTtl, parseNatsUrls, parseRelayId, parseReplicas } from './parse-nats';
import { parseNodes } from './parse-nodes';
import { parseChoice, parseInteger, parseRatio, parseText } from './parse-scalars';
import { parseBatchSize, parseRate, parseSegmentSize, parseSize } from './parse-sizes';

const parsePositiveSize = positive(parseSize);
const parseBoolean = (text: string) => parseChoice(['true', 'false'] as const)(text) === 'true';
const parsePositiveDuration = positive(parseDuration);
const WRITE_CONSISTENCIES: readonly WriteConsistency[] = ['any', 'one', 'quorum', 'all'];

/**
 * The `HH_*` environment variables, as strings exactly as the environment holds them. Every
 * property is optional (unset takes the default) and checked by its own parser on the text as
 * given: nothing is converted implicitly (`'false'` stays text for its parser to judge).
 */
export class HandoffEnv {
  @HandoffVariable('dataDir', parseText('directory path'), DEFAULTS.dataDir)
  HH_DATA_DIR?: string;

  @HandoffVariable('nodes', parseNodes, parseNodes(DEFAULTS.nodes))
  HH_NODES?: string;

  @HandoffVariable('maxSize', parseSize, DEFAULTS.maxSize)
  HH_MAX_SIZE?: string;

  @HandoffVariable('maxSegmentSize', parseSegmentSize, DEFAULTS.maxSegmentSize)
  HH_MAX_SEGMENT_SIZE?: string;

  @HandoffVariable('maxAgeMs', parsePositiveDuration, DEFAULTS.maxAgeMs)
  HH_MAX_AGE?: string;

  @HandoffVariable('retryRateLimit', parseRate, DEFAULTS.retryRateLimit)
  HH_RETRY_RATE_LIMIT?: string;

  @HandoffVariable('retryIntervalMs', parseTimerDuration, DEFAULTS.retryIntervalMs)
  HH_RETRY_INTERVAL?: string;

  @HandoffVariable('retryMaxIntervalMs', parseTimerDuration, DEFAULTS.retryMaxIntervalMs)
  HH_RETRY_MAX_INTERVAL?: string;

  @HandoffVariable('purgeCron', parseCron, DEFAULTS.purgeCron)
  HH_PURGE_CRON?: string;

  @HandoffVariable('fsync', parseChoice(FSYNC_POLICIES), DEFAULTS.fsync)
  HH_FSYNC?: string;

  @HandoffVariable('fsyncIntervalMs', parseTimerDuration, DEFAULTS.fsyncIntervalMs)
  HH_FSYNC_INTERVAL?: string;

  @HandoffVariable('queueCrc32', parseChoice(QUEUE_CRC32_CHOICES), DEFAULTS.queueCrc32)
  HH_QUEUE_CRC32?: string;

  @HandoffVariable('retryConcurrency', (t) => parseInteger(t, 1), DEFAULTS.retryConcurrency)
  HH_RETRY_CONCURRENCY?: string;

  @HandoffVariable('replayBatchBytes', parseBatchSize, DEFAULTS.replayBatchBytes)
  HH_REPLAY_BATCH_BYTES?: string;

  @HandoffVariable('replayLanes', (t) => parseInteger(t, 1, 64), DEFAULTS.replayLanes)
  HH_REPLAY_LANES?: string;

  @HandoffVariable('replayAdaptive', parseBoolean, DEFAULTS.replayAdaptive)
  HH_REPLAY_ADAPTIVE?: string;

  @HandoffVariable('port', (t) => parseInteger(t, 0, 65535), DEFAULTS.port)
  HH_PORT?: string;

  @HandoffVariable('host', parseText('listen address'), DEFAULTS.host)
  HH_HOST?: string;

  @HandoffVariable('authToken', parseText('token'), undefined, { secret: true })
  HH_AUTH_TOKEN?: string;

  @HandoffVariable('adminToken', parseText('token'), undefined, { secret: true })
  HH_ADMIN_TOKEN?: string;

  @HandoffVariable('maxBodySize', parsePositiveSize, DEFAULTS.maxBodySize)
  HH_MAX_BODY_SIZE?: string;

  @HandoffVariable('writeTimeoutMs', parseTimerDuration, DEFAULTS.writeTimeoutMs)
  HH_WRITE_TIMEOUT?: string;

  @HandoffVariable('writeConsistency', parseChoice(WRITE_CONSISTENCIES), DEFAULTS.writeConsistency)
  HH_WRITE_CONSISTENCY?: string;

  @HandoffVariable('maxConsistency', parseChoice(WRITE_CONSISTENCIES), DEFAULTS.maxConsistency)
  HH_MAX_CONSISTENCY?: string;

  @HandoffVariable('healthDiskThreshold', parseRatio, DEFAULTS.healthDiskThreshold)
  HH_HEALTH_DISK_THRESHOLD?: string;

  @HandoffVariable('healthMaxBacklogAgeMs', parsePositiveDuration, DEFAULTS.healthMaxBacklogAgeMs)
  HH_HEALTH_MAX_BACKLOG_AGE?: string;

  @HandoffVariable('shutdownTimeoutMs', parseTimerDuration, DEFAULTS.shutdownTimeoutMs)
  HH_SHUTDOWN_TIMEOUT?: string;

  @HandoffVariable('headerTimeoutMs', parseTimerDuration, DEFAULTS.headerTimeoutMs)
  HH_HEADER_TIMEOUT?: string;

  @HandoffVariable('bodyTimeoutMs', parseTimerDuration, DEFAULTS.bodyTimeoutMs)
  HH_BODY_TIMEOUT?: string;

  @HandoffVariable('keepAliveTimeoutMs', parseTimerDuration, DEFAULTS.keepAliveTimeoutMs)
  HH_KEEPALIVE_TIMEOUT?: string;

  @HandoffVariable('maxConnections', (t) => parseInteger(t, 1), DEFAULTS.maxConnections)
  HH_MAX_CONNECTIONS?: string;

  @HandoffVariable('store', parseChoice(HANDOFF_STORES), DEFAULTS.store)
  HH_STORE?: string;

  @HandoffVariable('natsUrl', parseNatsUrls, undefined)
  HH_NATS_URL?: string;

  @HandoffVariable('natsToken', parseText('token'), undefined, { secret: true })
  HH_NATS_TOKEN?: string;

  @HandoffVariable('natsUser', parseText('user name'), undefined)
  HH_NATS_USER?: string;

  @HandoffVariable('natsPassword', parseText('password'), undefined, { secret: true })
  HH_NATS_PASSWORD?: string;

  @HandoffVariable('natsCreds', parseText('.creds file path'), undefined)
  HH_NATS_CREDS?: string;

  @HandoffVariable('jetstreamReplicas', parseReplicas, DEFAULTS.jetstreamReplicas)
  HH_JETSTREAM_REPLICAS?: string;

  @HandoffVariable('leaseTtlMs', parseLeaseTtl, DEFAULTS.leaseTtlMs)
  HH_LEASE_TTL?: string;

  @HandoffVariable('relayId', parseRelayId, undefined)
  HH_RELAY_ID?: string;
}

/**
 * Validates the `HH_*` variables of `env` and returns the resolved configuration; unset
 * variables take their defaults, so an empty env is a complete, valid configuration. Usable on
 * its own or as @nestjs/config's `validate` option. Throws one `ConfigValidationError` listing
 * every bad variable.
 */
export function validateHandoffEnv(env: Record<string, unknown>): HandoffConfig {
  const { config, problems, invalid } = readHandoffEnv(env);
  // Cross-check messages quote the variables as written (`1m`), not as parsed (60000).
  for (const problem of crossCheck(config, envNameOf, invalid)) {
    problems.push({ ...problem, value: env[problem.name] ?? problem.value });
  }
  if (problems.length > 0) throw new ConfigValidationError(problems);
  return config;
}

/**
 * Reads the variables of `env` into a configuration, collecting (not throwing) the problems.
 * A bad or skipped variable keeps its default in `config`, so the rest can still be checked.
 */
export function readHandoffEnv(
  env: Record<string, unknown>,
  skip: ReadonlySet<keyof HandoffConfig> = new Set(),
): { config: HandoffConfig; problems: ConfigProblem[]; invalid: Set<keyof HandoffConfig> } {
  const variables = handoffVariables().filter((v) => !skip.has(v.key));
  const raw: Record<string, unknown> = {};
  for (const v of variables) {
    if (env[v.env] !== undefined && env[v.env] !== null) raw[v.env] = env[v.env];
  }
  const failed = new Map<string, string>();
  for (const v of variables) {
    if (!(v.env in raw)) continue;
    const problem = problemOf(v.parse, raw[v.env]);
    if (problem !== undefined) failed.set(v.env, problem);
  }
  const config = {} as Record<keyof HandoffConfig, unknown>;
  const problems: ConfigProblem[] = [];
  const invalid = new Set<keyof HandoffConfig>();
  for (const v of handoffVariables()) {
    const value = raw[v.env];
    // Defaults are copied: a caller that changes its config (adds a node) must not change
    // the next caller's defaults.
    if (skip.has(v.key) || value === undefined) {
      config[v.key] = structuredClone(v.default);
    } else if (failed.has(v.env)) {
      config[v.key] = structuredClone(v.default);
      invalid.add(v.key);
      problems.push({ name: v.env, value, expected: failed.get(v.env)!, secret: v.secret });
    } else {
      config[v.key] = v.parse(value as string);
    }
  }
  const resolved = config as unknown as HandoffConfig;
  // A store given as an option is applied by resolveHandoffConfig, after the options.
  if (!skip.has('store')) {
    applyStoreDefaults(resolved, skip.has('maxSize') || raw.HH_MAX_SIZE !== undefined);
  }
  return { config: resolved, problems, invalid };
}

/** The variable that sets `key`, for messages about settings (cross-checks). */
export function envNameOf(key: keyof HandoffConfig): string {
  return handoffVariables().find((v) => v.key === key)?.env ?? key;
}

import { DEFAULTS } from '../../src/config/defaults';
import type { HandoffConfig, NodeConfig } from '../../src/config/handoff-config.interface';

/** A full HandoffConfig with test-friendly timings; `overrides` win. */
export function testConfig(
  dataDir: string,
  nodes: NodeConfig[],
  overrides: Partial<HandoffConfig> = {},
): HandoffConfig {
  return {
    dataDir,
    nodes,
    maxSize: DEFAULTS.maxSize,
    maxSegmentSize: DEFAULTS.maxSegmentSize,
    maxAgeMs: DEFAULTS.maxAgeMs,
    retryRateLimit: 0,
    retryIntervalMs: 5,
    retryMaxIntervalMs: 40,
    // Far in the future by default: tests that want the cron say so.
    purgeCron: '0 0 1 1 *',
    fsync: 'never',
    fsyncIntervalMs: DEFAULTS.fsyncIntervalMs,
    retryConcurrency: DEFAULTS.retryConcurrency,
    replayBatchBytes: DEFAULTS.replayBatchBytes,
    port: 0,
    host: '127.0.0.1',
    maxBodySize: DEFAULTS.maxBodySize,
    writeTimeoutMs: 2000,
    writeConsistency: 'any',
    healthDiskThreshold: DEFAULTS.healthDiskThreshold,
    healthMaxBacklogAgeMs: DEFAULTS.healthMaxBacklogAgeMs,
    ...overrides,
  };
}

import type { HintedHandoffSettings, NodeConfig } from '../../src';

/** Module settings with test-friendly timings: quick retries, no fsync, the cron far away. */
export function fastSettings(
  dataDir: string,
  nodes: NodeConfig[],
  overrides: HintedHandoffSettings = {},
): HintedHandoffSettings {
  return {
    dataDir,
    nodes,
    retryIntervalMs: 5,
    retryMaxIntervalMs: 40,
    purgeCron: '0 0 1 1 *',
    fsync: 'never',
    writeTimeoutMs: 2000,
    ...overrides,
  };
}

/** The HH_* variables for the same settings, for the env-configured paths. */
export function fastEnv(dataDir: string, nodes: NodeConfig[]): Record<string, string> {
  return {
    HH_DATA_DIR: dataDir,
    HH_NODES: nodes.map((n) => `${n.id}=${n.url}`).join(','),
    HH_RETRY_INTERVAL: '5ms',
    HH_RETRY_MAX_INTERVAL: '40ms',
    HH_PURGE_CRON: '0 0 1 1 *',
    HH_FSYNC: 'never',
  };
}

/** Sets variables for one test and gives back a function that restores the previous values. */
export function withEnv(vars: Record<string, string>): () => void {
  const saved = Object.keys(vars).map((k) => [k, process.env[k]] as const);
  Object.assign(process.env, vars);
  return () => {
    for (const [k, v] of saved) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  };
}

import { DEFAULTS } from './defaults';
import type { ConfigProblem } from './errors';
import type { HandoffConfig } from './handoff-config.interface';

/**
 * Checks between settings that are each valid alone. `nameOf` says how a setting is called
 * where it came from (`HH_MAX_SIZE`, or `maxSize` for a module option).
 */
export function crossCheck(
  config: HandoffConfig,
  nameOf: (key: keyof HandoffConfig) => string,
  invalid: ReadonlySet<keyof HandoffConfig> = new Set(),
): ConfigProblem[] {
  // A setting already reported as bad holds its default here; comparing it would only add a
  // confusing second message.
  const valid = (...keys: (keyof HandoffConfig)[]) => keys.every((k) => !invalid.has(k));
  const problems: ConfigProblem[] = [];
  if (valid('maxSegmentSize', 'maxSize') && config.maxSegmentSize > config.maxSize) {
    problems.push({
      name: nameOf('maxSegmentSize'),
      value: config.maxSegmentSize,
      expected: `must not exceed ${nameOf('maxSize')} (${config.maxSize} bytes)`,
    });
  }
  if (
    valid('retryIntervalMs', 'retryMaxIntervalMs') &&
    config.retryIntervalMs > config.retryMaxIntervalMs
  ) {
    problems.push({
      name: nameOf('retryIntervalMs'),
      value: config.retryIntervalMs,
      expected: `must not exceed ${nameOf('retryMaxIntervalMs')} (${config.retryMaxIntervalMs} ms)`,
    });
  }
  problems.push(...natsProblems(config, nameOf, valid));
  return problems;
}

/**
 * Defaults that depend on the store: with jetstream, HH_MAX_SIZE left unset is 1 GiB per node
 * (JetStream reserves max_bytes on every replica; the disk store's 10 GiB rarely fits).
 */
export function applyStoreDefaults(config: HandoffConfig, maxSizeGiven: boolean): void {
  if (config.store === 'jetstream' && !maxSizeGiven) config.maxSize = DEFAULTS.jetstreamMaxSize;
}

/** The jetstream store needs a server list, and NATS takes one way to authenticate. */
function natsProblems(
  config: HandoffConfig,
  nameOf: (key: keyof HandoffConfig) => string,
  valid: (...keys: (keyof HandoffConfig)[]) => boolean,
): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  if (config.store === 'jetstream' && valid('natsUrl') && config.natsUrl === undefined) {
    problems.push({
      name: nameOf('natsUrl'),
      value: undefined,
      expected: `required with ${nameOf('store')}=jetstream: the NATS servers, comma-separated, e.g. nats://n1:4222,nats://n2:4222`,
    });
  }
  const ways = (
    [
      ['natsToken', config.natsToken],
      ['natsUser', config.natsUser ?? config.natsPassword],
      ['natsCreds', config.natsCreds],
    ] as const
  ).filter(([, v]) => v !== undefined);
  if (ways.length > 1) {
    const [key] = ways[1];
    problems.push({
      name: nameOf(key),
      value: undefined,
      secret: true,
      expected: `give NATS one way to authenticate: ${nameOf('natsToken')}, or ${nameOf('natsUser')} with ${nameOf('natsPassword')}, or ${nameOf('natsCreds')} (${ways.map(([k]) => nameOf(k)).join(' and ')} are set)`,
    });
  }
  if ((config.natsUser === undefined) !== (config.natsPassword === undefined)) {
    const missing = config.natsUser === undefined ? 'natsUser' : 'natsPassword';
    const given = missing === 'natsUser' ? 'natsPassword' : 'natsUser';
    problems.push({
      name: nameOf(missing),
      value: undefined,
      expected: `required with ${nameOf(given)}: a NATS user needs a password, and a password a user`,
    });
  }
  return problems;
}

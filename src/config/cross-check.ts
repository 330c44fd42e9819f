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
  return problems;
}

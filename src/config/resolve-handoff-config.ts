import { applyStoreDefaults, crossCheck } from './cross-check';
import { ConfigValidationError, ConfigValueError, type ConfigProblem } from './errors';
import type { HandoffConfig } from './handoff-config.interface';
import { envNameOf, readHandoffEnv } from './handoff-env';
import { handoffVariables, type HandoffVariable } from './handoff-variable.decorator';
import { checkNodes } from './parse-nodes';

/**
 * The configuration of a module given options: each option that is set wins over its `HH_*`
 * variable, the rest come from `env` (or the defaults), and the result passes the same checks as
 * the environment alone. Options are typed values (bytes, ms); a size or duration may also be
 * given as text (`'10GiB'`, `'7d'`). Keys that are not settings (a module's `client`, `isGlobal`)
 * are ignored. Throws one `ConfigValidationError` listing every bad option and variable.
 */
export function resolveHandoffConfig(
  partial: Partial<HandoffConfig> = {},
  env: Record<string, unknown> = process.env,
): HandoffConfig {
  const given = handoffVariables().filter(
    (v) => (partial as Record<string, unknown>)[v.key] !== undefined,
  );
  const fromOptions = new Set(given.map((v) => v.key));
  const { config, problems, invalid } = readHandoffEnv(env, fromOptions);
  const resolved = config as unknown as Record<keyof HandoffConfig, unknown>;
  for (const v of given) {
    const value = (partial as Record<string, unknown>)[v.key];
    try {
      resolved[v.key] = optionValue(v, value);
    } catch (err) {
      invalid.add(v.key);
      const expected = err instanceof ConfigValueError ? err.detail : String(err);
      problems.push({ name: optionName(v.key), value, expected, secret: v.secret });
    }
  }
  applyStoreDefaults(config, fromOptions.has('maxSize') || env.HH_MAX_SIZE != null);
  const nameOf = (key: keyof HandoffConfig) =>
    fromOptions.has(key) ? optionName(key) : envNameOf(key);
  problems.push(...crossCheck(config, nameOf, invalid).map((p) => withRawValue(p, partial, env)));
  if (problems.length > 0) throw new ConfigValidationError(problems);
  return config;
}

function optionName(key: keyof HandoffConfig): string {
  return `options.${key}`;
}

/** Checks one option with its variable's parser, so options and variables obey one rule. */
function optionValue(v: HandoffVariable, value: unknown): unknown {
  if (v.key === 'nodes') {
    if (!Array.isArray(value)) {
      throw new ConfigValueError('Invalid nodes', 'expected an array of { id, url }');
    }
    return checkNodes(value);
  }
  if (typeof v.default === 'number' && typeof value === 'number') {
    // A number is bytes or ms already; its decimal text is what the parser checks (range,
    // whole number, sign). Non-finite numbers print as `NaN`/`Infinity` and fail there.
    return v.parse(String(value));
  }
  if (typeof v.default === 'boolean' && typeof value === 'boolean') return value;
  if (typeof value === 'string') return v.parse(value);
  throw new ConfigValueError(
    `Invalid option ${v.key}`,
    typeof v.default === 'number' ? 'expected a number' : 'expected a string',
  );
}

/** Cross-check messages quote the setting as given, not as parsed. */
function withRawValue(
  problem: ConfigProblem,
  partial: Partial<HandoffConfig>,
  env: Record<string, unknown>,
): ConfigProblem {
  const key = problem.name.startsWith('options.') ? problem.name.slice('options.'.length) : '';
  const raw = key ? (partial as Record<string, unknown>)[key] : env[problem.name];
  return { ...problem, value: raw ?? problem.value };
}

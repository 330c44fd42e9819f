import { ConfigValueError } from './errors';
import type { HandoffConfig } from './handoff-config.interface';

/** One `HH_*` variable: which setting it fills, how its text is parsed, its default. */
export interface HandoffVariable<K extends keyof HandoffConfig = keyof HandoffConfig> {
  env: string;
  key: K;
  parse: (text: string) => HandoffConfig[K];
  default: HandoffConfig[K];
  secret: boolean;
}

const variables: HandoffVariable[] = [];

/** Every `HH_*` variable, in declaration order (filled by `@HandoffVariable` on `HandoffEnv`). */
export function handoffVariables(): readonly HandoffVariable[] {
  return variables;
}

/**
 * Declares an environment variable of the handoff configuration: registers it, so the env class
 * is the one list of variables. Its parser checks the raw text (`problemOf`): values are never
 * converted implicitly, and the message is the parser's own, saying what is expected. Plain
 * metadata rather than class-validator, so a host app does not install a validator to start.
 */
export function HandoffVariable<K extends keyof HandoffConfig>(
  key: K,
  parse: (text: string) => HandoffConfig[K],
  defaultValue: HandoffConfig[K],
  options: { secret?: boolean } = {},
): PropertyDecorator {
  return (_target, property) => {
    variables.push({
      env: String(property),
      key,
      parse,
      default: defaultValue,
      secret: options.secret ?? false,
    } as HandoffVariable);
  };
}

/** What is wrong with `value` for `parse`, or undefined when it parses. */
export function problemOf(parse: (text: string) => unknown, value: unknown): string | undefined {
  if (typeof value !== 'string') return 'expected a string';
  try {
    parse(value);
    return undefined;
  } catch (err) {
    return err instanceof ConfigValueError ? err.detail : String((err as Error)?.message ?? err);
  }
}

import { ValidateBy, type ValidationArguments } from 'class-validator';
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
 * Declares an environment variable of the handoff configuration: registers it (so the env class
 * is the one list of variables) and validates it with class-validator by running its parser on
 * the raw text. Values are never converted implicitly: the parser sees the string as given, and
 * the validation message is the parser's own, saying what is expected.
 */
export function HandoffVariable<K extends keyof HandoffConfig>(
  key: K,
  parse: (text: string) => HandoffConfig[K],
  defaultValue: HandoffConfig[K],
  options: { secret?: boolean } = {},
): PropertyDecorator {
  return (target, property) => {
    variables.push({
      env: String(property),
      key,
      parse,
      default: defaultValue,
      secret: options.secret ?? false,
    } as HandoffVariable);
    ValidateBy({
      name: 'handoffVariable',
      validator: {
        validate: (value: unknown) => problemOf(parse, value) === undefined,
        defaultMessage: (args?: ValidationArguments) =>
          problemOf(parse, args?.value) ?? 'invalid value',
      },
    })(target, property);
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

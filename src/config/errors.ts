/** Errors of the configuration. Each has a stable `code` for logs and callers. */

import { HandoffError } from '../handoff-error';

/**
 * One value that cannot be parsed. `detail` says what is wrong and what is expected without
 * repeating the value, so a caller can print it next to a secret without leaking the secret.
 */
export class ConfigValueError extends HandoffError {
  readonly code = 'ERR_CONFIG_VALUE';
  constructor(
    message: string,
    readonly detail: string,
  ) {
    super(message);
  }
}

/** One bad setting: the variable (or option) name, its value as given, and what is expected. */
export interface ConfigProblem {
  name: string;
  value: unknown;
  expected: string;
  /** The value is a secret: it is never printed, only that it was given. */
  secret?: boolean;
}

/** The longest stretch of a value a message quotes: a huge variable must not flood the log. */
const MAX_QUOTED = 200;

function describeValue(problem: ConfigProblem): string {
  if (problem.secret) return '<hidden>';
  const { value } = problem;
  // Text is quoted so blanks and stray spaces show; options (numbers, arrays) print as written.
  const text =
    typeof value === 'string'
      ? JSON.stringify(value.length > MAX_QUOTED ? `${value.slice(0, MAX_QUOTED)}…` : value)
      : typeof value === 'object' && value !== null
        ? safeJson(value)
        : String(value);
  return text.length > MAX_QUOTED + 2 ? `${text.slice(0, MAX_QUOTED)}…` : text;
}

/** The user-info of a URL (`//user:pass@`): node URLs may carry a node's credentials. */
const URL_CREDENTIALS = /\/\/[^\s/?#"]*@/g;

/** Text with every URL's credentials replaced, so a refused node list never prints them. */
function hideCredentials(text: string): string {
  return text.replace(URL_CREDENTIALS, '//<hidden>@');
}

/** A problem's value as kept on the error: strings and options (node lists) without credentials. */
function withoutCredentials(value: unknown): unknown {
  if (typeof value === 'string') return hideCredentials(value);
  if (typeof value !== 'object' || value === null) return value;
  const json = safeJson(value);
  const hidden = hideCredentials(json);
  if (hidden === json) return value;
  try {
    return JSON.parse(hidden) as unknown;
  } catch {
    return hidden;
  }
}

function withoutSecrets(p: ConfigProblem): ConfigProblem {
  return p.secret
    ? { ...p, value: undefined }
    : { ...p, value: withoutCredentials(p.value), expected: hideCredentials(p.expected) };
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/**
 * A configuration that cannot start. Thrown once, listing every bad setting, one per line, so
 * an operator fixes them all in one go instead of one restart per mistake.
 */
export class ConfigValidationError extends HandoffError {
  readonly code = 'ERR_CONFIG_INVALID';
  readonly problems: readonly ConfigProblem[];
  constructor(given: readonly ConfigProblem[]) {
    // Credentials are hidden before a long value is cut, so no prefix of a password shows.
    const problems = given.map(withoutSecrets);
    super(
      [
        `Invalid hinted-handoff configuration (${problems.length} problem${problems.length === 1 ? '' : 's'}):`,
        ...problems.map((p) =>
          p.value === undefined && !p.secret
            ? `  ${p.name} (unset): ${p.expected}`
            : `  ${p.name}=${describeValue(p)}: ${p.expected}`,
        ),
      ].join('\n'),
    );
    // A secret's value is not kept either: whoever logs `problems` must not leak it.
    this.problems = problems;
  }
}

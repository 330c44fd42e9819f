import { ConfigValueError } from './errors';

/** Returns a parser that accepts exactly one of `choices` (case-sensitive, as documented). */
export function parseChoice<T extends string>(choices: readonly T[]): (text: string) => T {
  const expected = `expected one of ${choices.join(', ')}`;
  return (text: string): T => {
    const trimmed = typeof text === 'string' ? text.trim() : '';
    if (!(choices as readonly string[]).includes(trimmed)) {
      throw new ConfigValueError(`Invalid choice ${JSON.stringify(text)}: ${expected}`, expected);
    }
    return trimmed as T;
  };
}

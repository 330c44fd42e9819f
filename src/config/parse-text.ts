import { ConfigValueError } from './errors';

/**
 * Returns a parser for free text that must not be blank (a directory, a token). The message
 * never repeats the value: this parser also reads secrets.
 */
export function parseText(what: string): (text: string) => string {
  const expected = `expected a non-empty ${what}`;
  return (text: string): string => {
    if (typeof text !== 'string' || text.trim() === '' || text.includes('\0')) {
      throw new ConfigValueError(`Invalid ${what}: ${expected}`, expected);
    }
    return text;
  };
}

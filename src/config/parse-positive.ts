import { ConfigValueError } from './errors';

/**
 * Wraps a size or duration parser to refuse 0: a segment, batch or body of 0 bytes holds
 * nothing, and a 0 ms interval or timeout turns a timer into a busy loop.
 */
export function positive(parse: (text: string) => number): (text: string) => number {
  return (text: string): number => {
    const value = parse(text);
    if (value <= 0) {
      const problem = 'must be greater than 0';
      throw new ConfigValueError(`Invalid value ${JSON.stringify(text)}: ${problem}`, problem);
    }
    return value;
  };
}

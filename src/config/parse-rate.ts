import { ConfigValueError } from './errors';
import { parseSize } from './parse-size';

/** Parses a byte rate: a size per second, `1MiB`, `1MiB/s` or `1048576`; 0 means unlimited. */
export function parseRate(text: string): number {
  const size = typeof text === 'string' ? text.trim().replace(/\/s$/i, '') : text;
  try {
    return parseSize(size);
  } catch (err) {
    const problem = `${(err as ConfigValueError).detail} per second (optionally with "/s"); 0 means unlimited`;
    throw new ConfigValueError(`Invalid rate ${JSON.stringify(text)}: ${problem}`, problem);
  }
}

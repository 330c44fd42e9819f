import { ConfigValueError } from './errors';
import { parseSize } from './parse-size';

/**
 * The smallest segment accepted. A segment holds its entries' framing (a 24-byte header each)
 * and a 72-byte seal: below about 100 bytes no entry fits at all, and the queue would refuse
 * every hand-off at run time. 1 KiB is a round floor well above that overhead.
 */
export const MIN_SEGMENT_SIZE = 1024;

/** Parses `HH_MAX_SEGMENT_SIZE`: a size of at least MIN_SEGMENT_SIZE bytes. */
export function parseSegmentSize(text: string): number {
  const value = parseSize(text);
  if (value < MIN_SEGMENT_SIZE) {
    const problem = `must be at least ${MIN_SEGMENT_SIZE} bytes (a segment holds whole entries with their framing)`;
    throw new ConfigValueError(`Invalid value ${JSON.stringify(text)}: ${problem}`, problem);
  }
  return value;
}

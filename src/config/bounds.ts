import { ConfigValueError } from './errors';

/** Where a parsed number must lie; each bound is optional. */
export interface Bounds {
  /** Greater than this. */
  above?: number;
  /** At least this. */
  atLeast?: number;
  /** At most this. */
  atMost?: number;
}

function outside(value: number, b: Bounds): boolean {
  return (
    (b.above !== undefined && !(value > b.above)) ||
    (b.atLeast !== undefined && !(value >= b.atLeast)) ||
    (b.atMost !== undefined && !(value <= b.atMost))
  );
}

/**
 * The one "parse, then check bounds" step: `parse`, then refuse a value outside `bounds` with
 * `problem`, which says what is wrong and why without repeating the value.
 */
export function bounded(
  parse: (text: string) => number,
  bounds: Bounds,
  problem: string,
): (text: string) => number {
  return (text: string): number => {
    const value = parse(text);
    if (outside(value, bounds)) {
      throw new ConfigValueError(`Invalid value ${JSON.stringify(text)}: ${problem}`, problem);
    }
    return value;
  };
}

/**
 * `parse` refusing 0: a segment, batch or body of 0 bytes holds nothing, and a 0 ms interval or
 * timeout turns a timer into a busy loop.
 */
export function positive(parse: (text: string) => number): (text: string) => number {
  return bounded(parse, { above: 0 }, 'must be greater than 0');
}

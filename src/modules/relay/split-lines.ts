const NEWLINE = 0x0a;
const SPACE = 0x20;
const TAB = 0x09;
const QUOTE = 0x22;
const HASH = 0x23;
const COMMA = 0x2c;
const EQUALS = 0x3d;
const BACKSLASH = 0x5c;

/**
 * Cuts a line-protocol body into pieces of at most `maxBytes`, only between points, so that a
 * write larger than one queue segment can still be handed off (as several entries, in order)
 * and every piece parses alone. A string field value may hold newlines (`s="a\nb"`), so a
 * newline ends a point only outside a quoted field value and when not escaped by a backslash.
 * The pieces are views of `body` and join back to it byte for byte. Null when one point alone is
 * larger than `maxBytes`: no cut can make it fit.
 */
export function splitLines(body: Buffer, maxBytes: number): Buffer[] | null {
  const ends = pointEndsOf(body);
  const pieces: Buffer[] = [];
  let start = 0;
  let lastEnd = 0;
  for (const end of ends) {
    if (end - start > maxBytes) {
      if (lastEnd <= start) return null;
      pieces.push(body.subarray(start, lastEnd));
      start = lastEnd;
      if (end - start > maxBytes) return null;
    }
    lastEnd = end;
  }
  if (body.length - start > maxBytes) {
    if (lastEnd <= start || body.length - lastEnd > maxBytes) return null;
    pieces.push(body.subarray(start, lastEnd));
    start = lastEnd;
  }
  if (start < body.length) pieces.push(body.subarray(start));
  return pieces;
}

/**
 * The offset just past every newline that ends a point (a body's last point may end without one).
 * Without quotes or backslashes every newline ends a point: the fast byte search will do.
 */
export function pointEndsOf(body: Buffer): Iterable<number> {
  const plain = body.indexOf(QUOTE) < 0 && body.indexOf(BACKSLASH) < 0;
  return plain ? newlines(body) : pointEnds(body);
}

/** The offset just past every newline. */
function* newlines(body: Buffer): Generator<number> {
  let at = body.indexOf(NEWLINE);
  while (at >= 0) {
    yield at + 1;
    at = body.indexOf(NEWLINE, at + 1);
  }
}

/**
 * The offset just past every newline that ends a point, read as InfluxDB's parser reads lines:
 * a backslash escapes the next byte; after the first unescaped space come the fields, where a
 * `"` after `=` opens a string value that runs to the next unescaped `"`; a `#` line is a
 * comment.
 */
function* pointEnds(body: Buffer): Generator<number> {
  let i = 0;
  while (i < body.length) {
    // One point (or comment) from i.
    let s = i;
    while (s < body.length && (body[s] === SPACE || body[s] === TAB)) s++;
    if (body[s] === HASH) {
      const end = body.indexOf(NEWLINE, s);
      if (end < 0) return;
      yield (i = end + 1);
      continue;
    }
    let section = 0; // 0 measurement and tags, 1 fields, 2 timestamp
    let inValue = false;
    let quoted = false;
    let j = i;
    for (; j < body.length; j++) {
      const c = body[j];
      if (c === BACKSLASH) {
        j++;
        continue;
      }
      if (quoted) {
        if (c === QUOTE) quoted = false;
        continue;
      }
      if (c === NEWLINE) break;
      if (c === SPACE) {
        if (j > s && section < 2) section++;
        inValue = false;
      } else if (section === 1 && c === EQUALS) inValue = true;
      else if (section === 1 && c === COMMA) inValue = false;
      else if (section === 1 && inValue && c === QUOTE) quoted = true;
    }
    if (j >= body.length) return;
    yield (i = j + 1);
  }
}

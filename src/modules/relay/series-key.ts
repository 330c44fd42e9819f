/**
 * The lane of a line-protocol point: a hash of its database, retention policy and canonical
 * series key (measurement and tag set sorted by tag key), so that every write of one series
 * goes to one lane and two writes of a series never race.
 *
 * The key is read the way InfluxDB 1.x scans it: it ends at the first unescaped space, a
 * backslash always takes the byte after it, and tags are split at unescaped commas. Escapes are
 * normalised (`\,` `\ ` in the measurement, `\,` `\=` `\ ` in tags, any other backslash kept as
 * written), so two spellings of one series hash alike.
 */

const SPACE = 0x20;
const TAB = 0x09;
const COMMA = 0x2c;
const EQUALS = 0x3d;
const BACKSLASH = 0x5c;
const HASH = 0x23;
const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/** FNV-1a over `bytes[start, end)`, continuing from `seed`. */
function fnv(bytes: Uint8Array, start: number, end: number, seed: number): number {
  let h = seed;
  for (let i = start; i < end; i++) {
    h ^= bytes[i];
    h = Math.imul(h, FNV_PRIME);
  }
  return h >>> 0;
}

/** The seed every key of one (db, rp) starts from. */
export function targetSeed(db: string, rp: string): number {
  const bytes = Buffer.from(`${db}\0${rp}\0`, 'utf8');
  return fnv(bytes, 0, bytes.length, FNV_OFFSET);
}

/** Where the key of the line starting at `start` (before `end`) begins; -1 for a blank or comment line. */
export function keyStart(body: Uint8Array, start: number, end: number): number {
  let i = start;
  while (i < end && (body[i] === SPACE || body[i] === TAB || body[i] === 0x0d)) i++;
  if (i >= end || body[i] === HASH) return -1;
  return i;
}

/**
 * The hash of the series key of the line `body[start, end)` under `seed` (see targetSeed), or
 * -1 for a blank line or a comment (InfluxDB skips them; any lane will do).
 */
export function seriesHash(body: Uint8Array, start: number, end: number, seed: number): number {
  const from = keyStart(body, start, end);
  if (from < 0) return -1;
  // Fast path: no backslash and tag keys already in order, the raw key is the canonical one.
  let i = from;
  let escaped = false;
  let sorted = true;
  let prevKey = -1;
  let prevKeyEnd = -1;
  let segment = -1; // start of the current tag, -1 while in the measurement
  let segmentKeyEnd = -1;
  for (; i < end; i++) {
    const c = body[i];
    if (c === BACKSLASH) {
      escaped = true;
      i++;
      continue;
    }
    if (c === SPACE) break;
    if (c === COMMA) {
      if (segment >= 0) {
        if (!keyAfter(body, prevKey, prevKeyEnd, segment, segmentKeyEnd)) sorted = false;
        prevKey = segment;
        prevKeyEnd = segmentKeyEnd;
      }
      segment = i + 1;
      segmentKeyEnd = -1;
    } else if (c === EQUALS && segment >= 0) {
      // A second '=' in a tag is part of its value: the canonical form escapes it.
      if (segmentKeyEnd < 0) segmentKeyEnd = i;
      else escaped = true;
    }
  }
  const keyEnd = Math.min(i, end);
  if (segment >= 0 && !keyAfter(body, prevKey, prevKeyEnd, segment, segmentKeyEnd)) sorted = false;
  if (!escaped && sorted) return fnv(body, from, keyEnd, seed);
  const canonical = canonicalKey(Buffer.from(body.buffer, body.byteOffset + from, keyEnd - from));
  return fnv(canonical, 0, canonical.length, seed);
}

/** True when the tag key at [b, bEnd) sorts strictly after the one at [a, aEnd) (a < 0: none). */
function keyAfter(body: Uint8Array, a: number, aEnd: number, b: number, bEnd: number): boolean {
  if (a < 0) return true;
  // A tag with no '=' is malformed (the node refuses it): any lane is fine, take the slow path.
  if (aEnd < 0 || bEnd < 0) return false;
  const la = aEnd - a;
  const lb = bEnd - b;
  const n = Math.min(la, lb);
  for (let k = 0; k < n; k++) {
    const d = body[a + k] - body[b + k];
    if (d !== 0) return d < 0;
  }
  return la < lb;
}

/** Splits at unescaped `separator` (a backslash takes the byte after it, as InfluxDB scans). */
function splitUnescaped(text: string, separator: string): string[] {
  const parts: string[] = [];
  let from = 0;
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '\\') {
      i++;
    } else if (text[i] === separator) {
      parts.push(text.slice(from, i));
      from = i + 1;
    }
  }
  parts.push(text.slice(from));
  return parts;
}

function normalise(text: string, specials: RegExp): string {
  // Unescape what is an escape here, then escape it again: one spelling per content.
  return text.replace(specials, (m) => m.slice(1)).replace(/[, =]/g, (c) => `\\${c}`);
}

/**
 * The canonical key: measurement, then tags sorted by (normalised) key, each part with its
 * escapes normalised. Equal to the raw key when that has no backslash and sorted tags.
 */
export function canonicalKey(raw: Buffer): Buffer {
  const [measurement, ...tags] = splitUnescaped(raw.toString('utf8'), ',');
  const normalMeasurement = measurement
    .replace(/\\[, ]/g, (m) => m.slice(1))
    .replace(/[, ]/g, (c) => `\\${c}`);
  const pairs = tags.map((tag) => {
    const [key, ...rest] = splitUnescaped(tag, '=');
    const k = normalise(key, /\\[,= ]/g);
    const v = rest.length === 0 ? '' : normalise(rest.join('='), /\\[,= ]/g);
    return { k: Buffer.from(k, 'utf8'), text: rest.length === 0 ? k : `${k}=${v}` };
  });
  pairs.sort((x, y) => Buffer.compare(x.k, y.k));
  return Buffer.from([normalMeasurement, ...pairs.map((p) => p.text)].join(','), 'utf8');
}

import { promisify } from 'node:util';
import { gunzip as gunzipCallback } from 'node:zlib';
import type { LanePiece, PartitionedEntry } from '../replay/replay-lanes';
import { everyLineTimestamped } from './line-timestamps';
import { seriesHash, targetSeed } from './series-key';
import { pointEndsOf } from './split-lines';
import { decodeRelayEntry, type RelayEntry } from './statement-envelope';
import type { WriteTarget } from './write-target';

const gunzip = promisify(gunzipCallback);
const NEWLINE_BYTE = 0x0a;
/** The newline added after a body's last point when it has none (one shared buffer). */
export const LINE_END = Buffer.from('\n');
const BARRIER = { barrier: true } as const;

/** The points of one handed-off write that fall in one lane: plain text, views of its body. */
export interface LaneWrite {
  target: WriteTarget;
  /** Each point ends with a newline. */
  parts: Buffer[];
  bytes: number;
}

/**
 * How a relay queue entry goes out in lanes. A write is split by the series of its points (see
 * series-key), so each lane gets the points of its series in the order written. Barriers, sent
 * alone once every lane drained: statements (a `CREATE DATABASE` must precede the writes that
 * need it, a `DROP` must follow those before it); a body with a timestamp-less point (the node
 * stamps all points of one request with one time, so it must stay one request, as sent); and
 * anything that does not decode or inflate (the in-order send reports it).
 */
export async function partitionRelayEntry(
  entry: Buffer,
  lanes: number,
): Promise<PartitionedEntry<LaneWrite>> {
  let decoded: RelayEntry;
  try {
    decoded = decodeRelayEntry(entry);
  } catch {
    return BARRIER;
  }
  if (decoded.kind !== 'write') return BARRIER;
  let body = decoded.body;
  if (decoded.encoding === 'gzip') {
    try {
      body = await gunzip(body);
    } catch {
      return BARRIER;
    }
  }
  if (!everyLineTimestamped(body)) return BARRIER;
  const target = { db: decoded.db, rp: decoded.rp, precision: decoded.precision };
  return { pieces: splitByLane(target, body, lanes) };
}

/** The points of `body` by lane; runs of consecutive points of one lane stay one view. */
export function splitByLane(
  target: WriteTarget,
  body: Buffer,
  lanes: number,
): LanePiece<LaneWrite>[] {
  const seed = targetSeed(target.db, target.rp);
  const writes: (LaneWrite | undefined)[] = new Array<LaneWrite | undefined>(lanes);
  const runStart = new Array<number>(lanes).fill(-1);
  const runEnd = new Array<number>(lanes).fill(-1);
  const closeRun = (lane: number) => {
    if (runStart[lane] < 0) return;
    const write = (writes[lane] ??= { target, parts: [], bytes: 0 });
    write.parts.push(body.subarray(runStart[lane], runEnd[lane]));
    write.bytes += runEnd[lane] - runStart[lane];
    runStart[lane] = -1;
  };
  let start = 0;
  const place = (end: number) => {
    const lineEnd = end > start && body[end - 1] === NEWLINE_BYTE ? end - 1 : end;
    const hash = seriesHash(body, start, lineEnd, seed);
    if (hash >= 0) {
      const lane = hash % lanes;
      if (runStart[lane] >= 0 && runEnd[lane] !== start) closeRun(lane);
      if (runStart[lane] < 0) runStart[lane] = start;
      runEnd[lane] = end;
      if (lineEnd === end) {
        // The body's last point has no newline: end it, or the next piece runs into it.
        closeRun(lane);
        writes[lane]!.parts.push(LINE_END);
        writes[lane]!.bytes += 1;
      }
    }
    start = end;
  };
  for (const end of pointEndsOf(body)) place(end);
  if (start < body.length) place(body.length);
  const pieces: LanePiece<LaneWrite>[] = [];
  for (let lane = 0; lane < lanes; lane++) {
    closeRun(lane);
    const piece = writes[lane];
    if (piece) pieces.push({ lane, piece });
  }
  return pieces;
}

import type { SegmentReader } from './segment-reader';
import type { SegmentSummary } from './segment-format';

export interface ScanResult extends SegmentSummary {
  /** End of the last whole record (entry or seal): where a torn tail is truncated. */
  validEnd: number;
  /** Offset of the seal when the segment has one. */
  sealAt: number | null;
  /** Entries and payload bytes strictly before `headOffset`. */
  entriesBefore: number;
  bytesBefore: number;
  /** Whether `headOffset` is a place a record (or the end) starts, i.e. a position we could have written. */
  headIsBoundary: boolean;
  lastTime: number;
}

/**
 * Reads every record of one segment: only the tail segment on each open, and a sealed-looking
 * segment without a valid seal (a crash right after a roll) once. Corrupt regions followed by a
 * valid record are stepped over (they are reported when the head reaches them); damage with no
 * valid record after it is a torn end, and `validEnd` says where the good data stops.
 */
export async function scanSegment(
  reader: SegmentReader,
  size: number,
  headOffset: number,
): Promise<ScanResult> {
  const r: ScanResult = {
    entries: 0,
    payloadBytes: 0,
    firstTime: 0,
    maxTime: 0,
    lastTime: 0,
    validEnd: 0,
    sealAt: null,
    entriesBefore: 0,
    bytesBefore: 0,
    headIsBoundary: headOffset === 0,
  };
  let offset = 0;
  while (offset < size) {
    if (offset === headOffset) r.headIsBoundary = true;
    const rec = await reader.readAt(offset, size);
    if (rec.type === 'end') break;
    if (rec.type === 'corrupt') {
      if (!rec.resynced) break;
      offset = rec.next;
      continue;
    }
    if (rec.type === 'seal') {
      r.sealAt = offset;
      r.validEnd = rec.next;
      break;
    }
    if (r.entries === 0) r.firstTime = rec.appendedAt;
    r.entries++;
    r.payloadBytes += rec.payload.length;
    r.maxTime = Math.max(r.maxTime, rec.appendedAt);
    r.lastTime = rec.appendedAt;
    if (offset < headOffset) {
      r.entriesBefore++;
      r.bytesBefore += rec.payload.length;
    }
    offset = rec.next;
    r.validEnd = offset;
  }
  if (headOffset === r.validEnd && r.sealAt === null) r.headIsBoundary = true;
  return r;
}

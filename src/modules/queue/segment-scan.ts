import { RecordStatus, type SegmentReader } from './segment-reader';
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
 *
 * Records are parsed in the reader's window without a promise each; only a window refill awaits
 * (and the next window is already being read meanwhile).
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
    let status = reader.tryRecord(offset, size);
    if (status === RecordStatus.NeedRead || status === RecordStatus.Invalid)
      status = await reader.nextRecord(offset, size);
    if (status === RecordStatus.End) break;
    if (status === RecordStatus.Corrupt) {
      if (!reader.resynced) break;
      offset = reader.next;
      continue;
    }
    if (status === RecordStatus.Seal) {
      r.sealAt = offset;
      r.validEnd = reader.next;
      break;
    }
    const { appendedAt, length } = reader.header;
    if (r.entries === 0) r.firstTime = appendedAt;
    r.entries++;
    r.payloadBytes += length;
    if (appendedAt > r.maxTime) r.maxTime = appendedAt;
    r.lastTime = appendedAt;
    if (offset < headOffset) {
      r.entriesBefore++;
      r.bytesBefore += length;
    }
    offset = reader.next;
    r.validEnd = offset;
  }
  if (headOffset === r.validEnd && r.sealAt === null) r.headIsBoundary = true;
  return r;
}

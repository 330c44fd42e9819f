/** Consecutive segment ids missing from a queue directory, `from` to `to` inclusive. */
export interface SegmentRange {
  from: number;
  to: number;
}

/**
 * The ids missing between the segment files present (ascending). Segments are numbered without
 * gaps and only ever unlinked from the front, in order, so a hole in the middle is a file that
 * was deleted or lost. `sealedLast`: the last file present carries a seal, so a successor
 * exists or existed (a roll creates the successor's file, its directory entry synced, before it
 * writes the seal; a roll that cannot create it writes no seal): its absence is a missing tail.
 */
export function missingSegments(ids: readonly number[], sealedLast: boolean): SegmentRange[] {
  const out: SegmentRange[] = [];
  for (let i = 1; i < ids.length; i++) {
    if (ids[i] > ids[i - 1] + 1) out.push({ from: ids[i - 1] + 1, to: ids[i] - 1 });
  }
  if (sealedLast && ids.length > 0) {
    const next = ids[ids.length - 1] + 1;
    out.push({ from: next, to: next });
  }
  return out;
}

export function countSegments(ranges: readonly SegmentRange[]): number {
  return ranges.reduce((n, r) => n + r.to - r.from + 1, 0);
}

/** "3", "3-5", joined by ", ". */
export function formatSegmentRanges(ranges: readonly SegmentRange[]): string {
  return ranges.map((r) => (r.from === r.to ? `${r.from}` : `${r.from}-${r.to}`)).join(', ');
}

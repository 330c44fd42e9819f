import { type Head } from './position-file';
import { type QueueBacklog } from './queue-types';
import { type SegmentReader } from './segment-reader';
import { SEAL_SIZE } from './segment-format';

/** What the queue knows of one segment file without reading it. */
export interface Segment {
  id: number;
  /** Bytes written (seal included); a reader never reads past it. */
  size: number;
  entries: number;
  payloadBytes: number;
  firstTime: number;
  maxTime: number;
  /** The seal is on disk: no entry will follow; the head may pass to the next segment. */
  sealed: boolean;
  /** The file exists; until then the head cannot move onto it. */
  created: boolean;
}

/** A walk from the head: where it is, and what it moved past. */
export interface Cursor extends Head {
  /** Entries/payload bytes this walk moved past (dropped from the backlog when committed). */
  dropEntries: number;
  dropBytes: number;
}

/** The one way to build a Head (the position file's record, without its seq). */
export function headAt(segment: number, offset = 0, consumedEntries = 0, consumedBytes = 0): Head {
  return { segment, offset, consumedEntries, consumedBytes };
}

/** `h` as a plain Head: a cursor's walk counters stay behind. */
export function copyHead(h: Head): Head {
  return headAt(h.segment, h.offset, h.consumedEntries, h.consumedBytes);
}

export function isAhead(a: Head, b: Head): boolean {
  return a.segment > b.segment || (a.segment === b.segment && a.offset > b.offset);
}

/** Makes `to` the same walk as `from`, field by field (no new object on the read loop). */
export function setCursor(to: Cursor, from: Cursor): void {
  to.segment = from.segment;
  to.offset = from.offset;
  to.consumedEntries = from.consumedEntries;
  to.consumedBytes = from.consumedBytes;
  to.dropEntries = from.dropEntries;
  to.dropBytes = from.dropBytes;
}

/** Moves `cur` past the entry `reader` just parsed. */
export function moveOver(cur: Cursor, reader: SegmentReader): void {
  const length = reader.header.length;
  cur.offset = reader.next;
  cur.consumedEntries++;
  cur.consumedBytes += length;
  cur.dropEntries++;
  cur.dropBytes += length;
}

export function emptySegment(id: number): Segment {
  return {
    id,
    size: 0,
    entries: 0,
    payloadBytes: 0,
    firstTime: 0,
    maxTime: 0,
    sealed: false,
    created: false,
  };
}

/** Where a segment's entries end: before its seal, if it has one. */
export function dataEnd(seg: Segment): number {
  return seg.sealed ? seg.size - SEAL_SIZE : seg.size;
}

/**
 * The queue's bookkeeping, no I/O: the segments from the head to the tail, the head, and the
 * counts derived from them (backlog, bytes on disk, bytes promised to appends in flight).
 */
export class SegmentLedger {
  segments: Segment[] = [];
  head: Head = headAt(1);
  /** Bumped at every head move: a walk remembered at another version is stale. */
  headVersion = 0;
  /** Append time of the head entry, null when there is none. */
  headTime: number | null = null;
  unreadEntries = 0;
  unreadBytes = 0;
  /** Bytes on disk over all segments. */
  usage = 0;
  /** `usage` plus the bytes of appends not yet written: what maxSize is checked against. */
  reservedUsage = 0;
  /** Bytes of the tail segment, written or promised to appends in flight. */
  tailReserved = 0;
  lastModifiedMs = 0;
  corruptSeen = 0;
  /** Corrupt regions already reported: segment -> start offset -> where the next record starts. */
  corruptSkips = new Map<number, Map<number, number>>();

  segmentIndex(id: number): number {
    // Segments are few and sorted; the head is almost always at index 0.
    for (let i = 0; i < this.segments.length; i++) if (this.segments[i].id === id) return i;
    return -1;
  }

  tail(): Segment {
    return this.segments[this.segments.length - 1];
  }

  cursorAtHead(): Cursor {
    const h = this.head;
    // One literal with every field, so all cursors share one shape (a spread made the walk's
    // hot paths several times slower).
    return {
      segment: h.segment,
      offset: h.offset,
      consumedEntries: h.consumedEntries,
      consumedBytes: h.consumedBytes,
      dropEntries: 0,
      dropBytes: 0,
    };
  }

  /** The head becomes `h` (a copy); any remembered peek walk is stale from now on. */
  setHead(h: Head): void {
    this.head = copyHead(h);
    this.headVersion++;
  }

  /** The head moves to `cur`, and the unread counts drop by what the cursor passed. */
  moveHead(cur: Cursor): void {
    this.setHead(cur);
    this.unreadEntries -= cur.dropEntries;
    this.unreadBytes -= cur.dropBytes;
  }

  /** The head is at the end of the tail, nothing unread in it and no append pending for it. */
  tailIsRead(): boolean {
    return this.head.segment === this.tail().id && this.head.offset === this.tailReserved;
  }

  backlog(): QueueBacklog {
    const entries = Math.max(0, this.unreadEntries);
    return {
      entries,
      bytes: entries === 0 ? 0 : Math.max(0, this.unreadBytes),
      oldest: entries === 0 || this.headTime === null ? null : new Date(this.headTime),
    };
  }

  /** After open: bytes on disk and the backlog, from the segment summaries and the head. */
  recount(): void {
    this.unreadEntries = -this.head.consumedEntries;
    this.unreadBytes = -this.head.consumedBytes;
    for (const seg of this.segments) {
      this.usage += seg.size;
      if (seg.id >= this.head.segment) {
        this.unreadEntries += seg.entries;
        this.unreadBytes += seg.payloadBytes;
      }
    }
    this.reservedUsage = this.usage;
    this.tailReserved = this.tail().size;
  }

  /**
   * THE way past a sealed segment: moves `cur` from segment `i` (default: its own) to the start
   * of the next one, when `i` is sealed and the next file exists; false otherwise. Entries the
   * summary promised but corruption ate leave the backlog here, so it stays exact.
   */
  passSealed(cur: Cursor, i = this.segmentIndex(cur.segment)): boolean {
    const seg = this.segments[i];
    const next = this.segments[i + 1];
    if (!seg || !seg.sealed || !next?.created) return false;
    cur.dropEntries += Math.max(0, seg.entries - cur.consumedEntries);
    cur.dropBytes += Math.max(0, seg.payloadBytes - cur.consumedBytes);
    cur.segment = next.id;
    cur.offset = 0;
    cur.consumedEntries = 0;
    cur.consumedBytes = 0;
    return true;
  }

  /** Passes sealed segments while `skip` says so of the one `cur` is in. */
  passSealedWhile(cur: Cursor, skip: (seg: Segment) => boolean): void {
    for (;;) {
      const i = this.segmentIndex(cur.segment);
      const seg = this.segments[i];
      if (!seg || !skip(seg) || !this.passSealed(cur, i)) return;
    }
  }

  /**
   * Moves a cursor at the end of a sealed segment to the start of the next one, so the position
   * stored passes the segment and it can be unlinked. Corrupt bytes left between the last entry
   * and the seal are read (and reported) by a walk before it gets here.
   */
  settle(cur: Cursor): void {
    this.passSealedWhile(cur, (seg) => cur.offset >= dataEnd(seg));
  }
}

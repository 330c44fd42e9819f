import { copyToCorrupt, corruptCopyPath } from './corrupt-copy';
import { mapBounded } from './map-bounded';
import { type PositionFile, type Head } from './position-file';
import { type QueueConfig } from './queue-config';
import { isNoSpace, writeAll, type QueueFileHandle } from './queue-fs';
import { missingSegments, type SegmentRange } from './segment-gaps';
import { dataEnd, headAt, isAhead, type Segment, type SegmentLedger } from './segment-ledger';
import { decodeSeal, encodeSeal, parseSegmentFileName, SEAL_SIZE } from './segment-format';
import { SegmentReader } from './segment-reader';
import { scanSegment, type ScanResult } from './segment-scan';
import { classifyCut } from './torn-tail';

/** Sealed segments whose seals open() reads at once. */
const OPEN_CONCURRENCY = 16;

/** The last segment found at open, scanned whole. */
interface ScannedTail {
  id: number;
  scan: ScanResult;
}

function pickSummary(s: {
  entries: number;
  payloadBytes: number;
  firstTime: number;
  maxTime: number;
}) {
  return {
    entries: s.entries,
    payloadBytes: s.payloadBytes,
    firstTime: s.firstTime,
    maxTime: s.maxTime,
  };
}

/** What open found: the stored (or kept) position, the scanned tail, the missing segments. */
export interface Recovered {
  position: Head | null;
  tail: ScannedTail | null;
  missing: SegmentRange[];
}

/**
 * Open after a clean close, a crash or a power loss: finds the segments and where the head is.
 * Sealed segments are summarised from their seals (a segment left unsealed by a crash after a
 * roll is scanned once and sealed); the last segment is scanned whole and a torn end cut off
 * (kept under corrupt/ first); segments passed by a durable position are unlinked; missing
 * segments are found. The ledger (fresh for this open) receives the segments; once the tail is
 * open for writes, resolveHead() checks the position against them: a position that does not fit falls back to the oldest
 * entry (delivered again rather than lost).
 */
export class QueueRecovery {
  constructor(
    private readonly config: QueueConfig,
    private readonly ledger: SegmentLedger,
  ) {}

  /**
   * Loads the segments into the ledger and returns the head to start from. `kept` is the head a
   * reopen() held in memory: resumed when the files still hold it and it is ahead of the stored
   * one (an advance in 'interval' mode may not have reached the position file).
   */
  async recover(positionFile: PositionFile, kept: Head | null): Promise<Recovered> {
    const { fs, onCorrupt } = this.config;
    const names = await fs.readdir(this.config.dir);
    const ids = names
      .map(parseSegmentFileName)
      .filter((n): n is number => n !== null)
      .sort((a, b) => a - b);

    const loaded = await positionFile.load();
    if (loaded.state === 'garbage') {
      onCorrupt?.({
        segment: 0,
        offset: 0,
        bytes: 0,
        reason: `garbage position file kept as ${loaded.keptAs}`,
      });
    }
    let pos: Head | null = loaded.state === 'ok' ? loaded.position : null;
    if (pos && !ids.includes(pos.segment)) {
      onCorrupt?.({
        segment: pos.segment,
        offset: pos.offset,
        bytes: 0,
        reason: 'position names a missing segment',
      });
      pos = null;
    }
    if (kept && ids.includes(kept.segment) && (!pos || isAhead(kept, pos))) pos = kept;
    if (pos) {
      // Segments before a durable position were passed but not yet unlinked (a crash in between).
      if (pos === kept) await positionFile.write(kept, true);
      else await positionFile.sync();
      for (const id of ids.filter((x) => x < pos!.segment))
        await fs.unlink(this.config.segmentPath(id));
      ids.splice(0, ids.indexOf(pos.segment));
    }

    // Sealed segments cost a few calls each (open, stat, read the seal, close): many at once.
    const segments = this.ledger.segments;
    const sealed = await mapBounded(ids.slice(0, -1), OPEN_CONCURRENCY, (id) =>
      this.loadSealed(id),
    );
    segments.push(...sealed);
    let tail: ScannedTail | null = null;
    if (ids.length > 0) {
      const id = ids[ids.length - 1];
      const headOffset = pos && pos.segment === id ? pos.offset : 0;
      const { seg, scan } = await this.loadTail(id, headOffset);
      segments.push(seg);
      tail = { id, scan };
    }
    const missing = missingSegments(ids, segments[segments.length - 1]?.sealed ?? false);
    return { position: pos, tail, missing };
  }

  /** A non-tail segment: its seal gives the summary; without one (crash after a roll) scan once and seal it. */
  private async loadSealed(id: number): Promise<Segment> {
    const fh = await this.config.fs.open(this.config.segmentPath(id), 'r+');
    let reader: SegmentReader | null = null;
    try {
      const { size } = await fh.stat();
      if (size >= SEAL_SIZE) {
        const bytes = Buffer.alloc(SEAL_SIZE);
        await fh.read(bytes, 0, SEAL_SIZE, size - SEAL_SIZE);
        const summary = decodeSeal(bytes, id, size - SEAL_SIZE);
        if (summary) return { id, size, ...summary, sealed: true, created: true };
      }
      reader = new SegmentReader(fh, id);
      const scan = await scanSegment(reader, size, 0);
      if (scan.sealAt !== null) {
        if (scan.validEnd < size) await this.cutTorn(fh, reader, id, scan.validEnd, size);
        return { id, size: scan.validEnd, ...pickSummary(scan), sealed: true, created: true };
      }
      if (scan.validEnd < size) await this.cutTorn(fh, reader, id, scan.validEnd, size);
      const seal = encodeSeal(id, scan.validEnd, scan, this.config.now());
      await writeAll(fh, [seal], scan.validEnd);
      await fh.datasync();
      return {
        id,
        size: scan.validEnd + seal.length,
        ...pickSummary(scan),
        sealed: true,
        created: true,
      };
    } finally {
      await reader?.idle();
      await fh.close();
    }
  }

  /** The tail segment: scanned whole (one segment at most), a torn end truncated. */
  private async loadTail(id: number, headOffset: number) {
    const fh = await this.config.fs.open(this.config.segmentPath(id), 'r+');
    const reader = new SegmentReader(fh, id);
    try {
      const { size } = await fh.stat();
      const scan = await scanSegment(reader, size, headOffset);
      if (scan.validEnd < size) await this.cutTorn(fh, reader, id, scan.validEnd, size);
      const seg: Segment = {
        id,
        size: scan.validEnd,
        ...pickSummary(scan),
        sealed: scan.sealAt !== null,
        created: true,
      };
      return { seg, scan };
    } finally {
      await reader.idle();
      await fh.close();
    }
  }

  /**
   * Keeps the bytes past the last whole record under corrupt/ (never deleted silently), then cuts
   * them off. A torn write (see classifyCut) is the expected end of a crash and cut quietly; a
   * damaged complete record is reported like any other damage.
   */
  private async cutTorn(
    fh: QueueFileHandle,
    reader: SegmentReader,
    id: number,
    validEnd: number,
    size: number,
  ): Promise<void> {
    const { fs, dir } = this.config;
    const kind = await classifyCut(fh, validEnd, size);
    const ext = kind === 'torn' ? 'torn' : 'bin';
    try {
      await copyToCorrupt(fs, dir, reader, id, validEnd, size - validEnd, ext);
    } catch (err) {
      // A full disk: the bytes stay where they are, past the data end the queue uses, and are
      // overwritten by the next appends (or cut at a later open, when there is room to keep them).
      if (!isNoSpace(err)) throw err;
      await fs.unlink(corruptCopyPath(dir, id, validEnd, ext)).catch(() => undefined);
      return;
    }
    await fh.truncate(validEnd);
    await fh.datasync();
    reader.reset();
    if (kind === 'damaged') {
      this.ledger.corruptSeen++;
      this.config.onCorrupt?.({
        segment: id,
        offset: validEnd,
        bytes: size - validEnd,
        reason: 'damaged last record (a complete record, not a torn write), cut off',
      });
    }
  }

  /**
   * The head to start from: `pos` when it fits the segments found, else the oldest entry (each
   * misfit reported). Called once the tail is open, so there is always a first segment.
   */
  resolveHead(pos: Head | null, tail: ScannedTail | null): Head {
    const segments = this.ledger.segments;
    const oldest = headAt(segments[0].id);
    if (!pos) return oldest;
    const seg = segments.find((s) => s.id === pos.segment);
    if (!seg) return oldest;
    const end = dataEnd(seg);
    const report = (reason: string) =>
      this.config.onCorrupt?.({ segment: seg.id, offset: pos.offset, bytes: 0, reason });
    if (tail && seg.id === tail.id) {
      // The tail was just scanned: trust its counts over the stored ones.
      if (pos.offset >= end) {
        // Whatever lay past the end was torn off: nothing is left there to skip.
        return headAt(seg.id, end, seg.entries, seg.payloadBytes);
      }
      if (!tail.scan.headIsBoundary) {
        report('position is not at a record boundary');
        return oldest;
      }
      return headAt(seg.id, pos.offset, tail.scan.entriesBefore, tail.scan.bytesBefore);
    }
    if (
      pos.offset > end ||
      pos.consumedEntries > seg.entries ||
      pos.consumedBytes > seg.payloadBytes
    ) {
      report('position past the end of its segment');
      return oldest;
    }
    return pos;
  }
}

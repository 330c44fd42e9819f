import { type HeadPosition } from './head-position';
import { type QueueConfig } from './queue-config';
import { type RecordWalker } from './record-walker';
import { type SegmentDisposal } from './segment-disposal';
import { type Cursor, type SegmentLedger } from './segment-ledger';

/**
 * Moving the head: the ledger's counts, the head's append time, the position file per the fsync
 * policy, then the disposal of the segments passed. One per open queue; its callers run in the
 * queue's exclusive chain (commitSync: with the chain idle).
 *
 * A segment the head passes is disposed of only once a position past it is durable (a crash in
 * between must find the entries the stored position points at), but a crossing does not make
 * the position durable itself: an fdatasync per 10 MiB segment was most of what a drain of large
 * entries spent beside a plain read. The passed segment stays in the ledger (counted in usage)
 * until the next durable position: the tick's, an advance's in 'always' mode, a purge's, close's
 * — or the crossing's own when the queue is within two segments of maxSize, where appends need
 * the room now.
 */
export class HeadCommit {
  /** The position file's writer: set at open, once the file is loaded. */
  position: HeadPosition | null = null;

  constructor(
    private readonly config: QueueConfig,
    private readonly ledger: SegmentLedger,
    private readonly walker: RecordWalker,
    private readonly disposal: SegmentDisposal,
  ) {}

  /** Moves the head to `cur`, persists it per the policy, then unlinks segments it passed. */
  async commit(
    cur: Cursor,
    moved: number,
    forceDurable = false,
    nextTime: number | null = null,
  ): Promise<void> {
    const ledger = this.ledger;
    const saved = {
      head: ledger.head,
      headTime: ledger.headTime,
      unreadEntries: ledger.unreadEntries,
      unreadBytes: ledger.unreadBytes,
    };
    ledger.settle(cur);
    const crossed = cur.segment !== ledger.head.segment;
    const durable = forceDurable || (crossed && this.nearlyFull());
    ledger.moveHead(cur);
    let due: boolean | null = null;
    try {
      // The head's append time, for backlog().oldest: known from the peek, or one more parse.
      // (Without a promise when it is at hand: current()+advance() drains call this per entry.)
      let headTime = nextTime ?? this.walker.headEntryTimeSync();
      if (headTime === undefined) headTime = await this.walker.headEntryTime();
      ledger.headTime = headTime;
      due = this.position?.writeDue(moved, durable) ?? null;
      if (due !== null) {
        const written = this.persist(due);
        // The next peek's parsing while the write is in the thread pool (see prewalk()).
        try {
          this.walker.prewalk();
        } catch {
          // Only a head start: the peek walks the entries itself.
        }
        await written;
      }
    } catch (err) {
      // Nothing moved: a retried advance must not skip the entries this one failed to pass.
      ledger.setHead(saved.head);
      ledger.headTime = saved.headTime;
      ledger.unreadEntries = saved.unreadEntries;
      ledger.unreadBytes = saved.unreadBytes;
      throw err;
    }
    ledger.lastModifiedMs = this.config.now();
    // A passed segment's reader goes at once (its windows and descriptor), its file only after a
    // durable position past it.
    if (crossed) await this.closePassedReaders();
    if (due === true) await this.disposePassed();
  }

  /** Segments before the head still on disk: passed, waiting for a durable position. */
  hasPassed(): boolean {
    const first = this.ledger.segments[0];
    return first !== undefined && first.id < this.ledger.head.segment;
  }

  /**
   * The tick's position write: durable in 'interval' mode, and in any mode while passed segments
   * wait for one (so 'never' frees them at the tick too); then those segments disposed of.
   */
  async persistAtTick(durable: boolean): Promise<void> {
    const waiting = this.hasPassed();
    await this.persist(durable || waiting);
    if (durable || waiting) await this.disposePassed();
  }

  /**
   * After a durable position: the advance (or tick) happened, so a failed unlink must not reject
   * it (a retried advance would skip entries). The file stays, counted in diskUsage(), is retried
   * at the next durable position, and close() rejects if it still cannot be removed.
   */
  private async disposePassed(): Promise<void> {
    if (this.hasPassed()) await this.unlinkPassed().catch(() => undefined);
  }

  /** Less than two segments of room under maxSize: a passed segment must go now, not at the tick. */
  private nearlyFull(): boolean {
    const { maxSize, maxSegmentSize } = this.config;
    return this.ledger.reservedUsage + 2 * maxSegmentSize > maxSize;
  }

  private async closePassedReaders(): Promise<void> {
    for (const seg of this.ledger.segments) {
      if (seg.id >= this.ledger.head.segment) break;
      await this.walker.closeReader(seg.id);
    }
  }

  /**
   * commit() when it needs no I/O: no segment crossed, no position write due and the new head's
   * append time at hand. Returns false, having changed nothing but `cur` (settled), when it
   * needs any of them.
   */
  commitSync(cur: Cursor, moved: number, nextTime: number | null): boolean {
    const ledger = this.ledger;
    ledger.settle(cur);
    if (cur.segment !== ledger.head.segment || this.position?.writeDueNow(moved)) return false;
    const headTime = nextTime ?? this.walker.entryTimeSync(cur);
    if (headTime === undefined) return false;
    ledger.moveHead(cur);
    ledger.headTime = headTime;
    this.position?.writeDue(moved, false);
    ledger.lastModifiedMs = this.config.now();
    return true;
  }

  async persist(durable: boolean): Promise<void> {
    await this.position?.write(this.ledger.head, durable);
  }

  /**
   * Disposes of the segments before the head (see SegmentDisposal). Only called once a position
   * past them is durable: a crash in between must find the entries the stored position still
   * points at. A segment that cannot be moved out stays in the list for the next try.
   */
  async unlinkPassed(): Promise<void> {
    const ledger = this.ledger;
    const passed = ledger.segments.filter((s) => s.id < ledger.head.segment);
    if (passed.length === 0) return;
    let firstErr: unknown = null;
    for (const seg of passed) {
      await this.walker.closeReader(seg.id);
      try {
        await this.disposal.dispose(seg.id);
      } catch (err) {
        firstErr ??= err;
        continue;
      }
      ledger.segments.splice(ledger.segmentIndex(seg.id), 1);
      ledger.usage -= seg.size;
      ledger.reservedUsage -= seg.size;
      ledger.corruptSkips.delete(seg.id);
    }
    if (firstErr) throw firstErr;
  }
}

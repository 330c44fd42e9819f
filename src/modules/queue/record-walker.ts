import { copyToCorrupt } from './corrupt-copy';
import { type QueueConfig } from './queue-config';
import { type QueueFileHandle } from './queue-fs';
import { moveOver, setCursor, type Cursor, type SegmentLedger } from './segment-ledger';
import { READ_CHUNK_SIZE, RecordStatus, SegmentReader } from './segment-reader';
import { type WindowPool } from './window-pool';

/**
 * Where a peek's walk ended, `count` entries past the head: advance(n) and a later peek with a
 * skip start from the nearest one instead of walking from the head again.
 */
interface PeekMemo {
  count: number;
  /** Just past the `count`-th entry. */
  cursor: Cursor;
  /** Append time of the entry after them when the peek read it (stopped on maxBytes), else null. */
  nextTime: number | null;
}

/** A walk from the head: where it ended, how many entries it passed. */
interface Walk {
  cur: Cursor;
  walked: number;
  nextTime: number | null;
}

/** A take() under way: the entries taken so far and where the walk stands. */
interface TakeWalk {
  cur: Cursor;
  nextTime: number | null;
  out: Buffer[];
  times: number[];
  bytes: number;
  /** Ended by the budget or the end of the queue. */
  done: boolean;
}

/** An entry of `length` bytes would pass the take's budget (the first one is always taken). */
function overBudget(t: TakeWalk, length: number, maxBytes: number): boolean {
  return t.out.length > 0 && t.bytes + length > maxBytes;
}

/** Adds the entry `reader` just parsed to the take: its payload (a view), its append time. */
function takeEntry(t: TakeWalk, reader: SegmentReader): void {
  t.nextTime = null;
  t.out.push(reader.sharedPayload());
  t.times.push(reader.header.appendedAt);
  t.bytes += reader.header.length;
}

/** Walks remembered at once: a pipelined replayer has two or three batches peeked ahead. */
const MAX_PEEK_MEMOS = 8;

/**
 * The read side: walks records from the head through a bounded window per segment (never a whole
 * segment), steps over corrupt regions (each copied aside and reported once) and into the next
 * segment once a sealed one is read, and remembers its last walks so that advance() and a
 * skipping peek do not walk the same entries again. Its callers run one at a time (the queue's
 * exclusive chain), so the windows are never moved by one walk under another.
 */
export class RecordWalker {
  private readers = new Map<number, { fh: QueueFileHandle; reader: SegmentReader }>();
  /** Peek walks from the head as it was at headVersion === memoVersion (stale otherwise). */
  private peekMemos: PeekMemo[] = [];
  private memoVersion = -1;
  /** The budget of the last take() from the head, for prewalk(). */
  private lastTake: { maxBytes: number; maxEntries: number } | null = null;
  /** A take begun by prewalk() at headVersion `version`. */
  private prewalked: {
    maxBytes: number;
    maxEntries: number;
    version: number;
    take: TakeWalk;
  } | null = null;

  constructor(
    private readonly config: QueueConfig,
    private readonly ledger: SegmentLedger,
    private readonly windows: WindowPool,
  ) {
    // Payloads handed out are valid until the head passes them: windows are reused after that.
    windows.followHead(() => this.ledger.head);
  }

  /**
   * The entries `skip` past the head (at least one when there is one, however large), up to
   * `maxBytes` of payload and `maxEntries` entries. Records lying in a reader's window are parsed
   * without a promise each; payloads are views of the windows they lie in, which are read into
   * again only once the head passed them (see WindowPool). The walk is remembered for advance().
   */
  async take(
    maxBytes: number,
    maxEntries: number,
    times: number[] | null,
    skip: number,
  ): Promise<Buffer[]> {
    // The backlog counts every entry a walk can find (or more, when corruption ate some).
    if (skip > 0 && skip >= this.ledger.unreadEntries) return [];
    this.lastTake = skip === 0 ? { maxBytes, maxEntries } : null;
    let t = this.claimPrewalk(maxBytes, maxEntries, skip);
    if (!t) {
      const walk = await this.walkFromHead(skip);
      if (walk.walked < skip) {
        this.rememberWalk({ count: walk.walked, cursor: walk.cur, nextTime: null });
        await this.trimReaders(walk.cur.segment);
        return [];
      }
      t = { cur: walk.cur, nextTime: walk.nextTime, out: [], times: [], bytes: 0, done: false };
    }
    // One cursor to go back to, overwritten per entry (a copy per entry was garbage per entry).
    const before = { ...t.cur };
    while (!t.done && t.out.length < maxEntries) {
      this.takeRun(t, maxBytes, maxEntries);
      if (t.out.length >= maxEntries) break;
      setCursor(before, t.cur);
      let reader = this.stepSync(t.cur);
      if (reader === undefined) reader = await this.step(t.cur);
      this.addTaken(t, reader, before, maxBytes);
    }
    // (Not push(...t.times): a batch of tiny entries may hold more than a call takes arguments.)
    if (times) for (const at of t.times) times.push(at);
    this.rememberWalk({ count: skip + t.out.length, cursor: t.cur, nextTime: t.nextTime });
    await this.trimReaders(t.cur.segment);
    return t.out;
  }

  /**
   * The read loop's fast lane: takes the entries that lie whole in the window of the reader at
   * `t.cur`, one segment lookup for all of them. It stops, taking nothing more, at whatever
   * needs the general step (a read, the window's or segment's end, a seal, damage or a known
   * corrupt region) and before an entry past the budget, whose step ends the take.
   */
  private takeRun(t: TakeWalk, maxBytes: number, maxEntries: number): void {
    const cur = t.cur;
    const seg = this.ledger.segments[this.ledger.segmentIndex(cur.segment)];
    if (!seg || !seg.created || this.ledger.corruptSkips.has(seg.id)) return;
    const reader = this.readers.get(seg.id)?.reader;
    if (!reader) return;
    const limit = seg.size;
    while (t.out.length < maxEntries) {
      if (reader.tryRecord(cur.offset, limit) !== RecordStatus.Entry) return;
      if (overBudget(t, reader.header.length, maxBytes)) return;
      takeEntry(t, reader);
      moveOver(cur, reader);
    }
  }

  /**
   * Adds the entry `reader` holds to the take, or ends it (`done`) when there is none or it would
   * pass `maxBytes`: `cur` then goes back to `before`, just past the last entry taken, where
   * advance(n) must stop exactly.
   */
  private addTaken(
    t: TakeWalk,
    reader: SegmentReader | null,
    before: Cursor,
    maxBytes: number,
  ): void {
    if (!reader || overBudget(t, reader.header.length, maxBytes)) {
      t.nextTime = reader ? reader.header.appendedAt : null;
      setCursor(t.cur, before);
      t.done = true;
      return;
    }
    takeEntry(t, reader);
  }

  /**
   * Begins, without I/O, the take from the head that the last one from the head (same budget)
   * suggests comes next: run while the position write of an advance is in flight, so that
   * parsing and checking the next batch overlaps the write (a drain of 1 KiB entries writes the
   * position every 1 000 entries, a round trip through the thread pool each). It stops at the
   * first entry that needs a read, and at the end of the queue (appends may follow before the
   * take): take() goes on from there. A head moved since (a failed write puts it back) voids it.
   */
  prewalk(): void {
    this.prewalked = null;
    const last = this.lastTake;
    if (!last) return;
    const t: TakeWalk = {
      cur: this.ledger.cursorAtHead(),
      nextTime: null,
      out: [],
      times: [],
      bytes: 0,
      done: false,
    };
    const before = { ...t.cur };
    while (!t.done && t.out.length < last.maxEntries) {
      this.takeRun(t, last.maxBytes, last.maxEntries);
      if (t.out.length >= last.maxEntries) break;
      setCursor(before, t.cur);
      const reader = this.stepSync(t.cur);
      if (reader === undefined) break;
      if (reader === null) {
        setCursor(t.cur, before);
        break;
      }
      this.addTaken(t, reader, before, last.maxBytes);
    }
    this.prewalked = { ...last, version: this.ledger.headVersion, take: t };
  }

  private claimPrewalk(maxBytes: number, maxEntries: number, skip: number): TakeWalk | null {
    const pre = this.prewalked;
    this.prewalked = null;
    if (
      !pre ||
      skip !== 0 ||
      pre.version !== this.ledger.headVersion ||
      pre.maxBytes !== maxBytes ||
      pre.maxEntries !== maxEntries
    ) {
      return null;
    }
    return pre.take;
  }

  /**
   * The head entry when it lies whole in its reader's window; undefined when that needs I/O. A
   * copy: current() returns an entry the caller owns (one copy is little beside its promise).
   */
  headEntrySync(): Buffer | null | undefined {
    const reader = this.stepSync(this.ledger.cursorAtHead());
    return reader ? Buffer.from(reader.payloadView()) : reader;
  }

  /** headEntryTime() without I/O: undefined when that needs a read. */
  headEntryTimeSync(): number | null | undefined {
    const reader = this.stepSync(this.ledger.cursorAtHead());
    return reader ? reader.header.appendedAt : reader;
  }

  /** The append time of the head entry, null when there is none. */
  async headEntryTime(): Promise<number | null> {
    const probe = this.ledger.cursorAtHead();
    let reader = this.stepSync(probe);
    if (reader === undefined) reader = await this.step(probe);
    return reader ? reader.header.appendedAt : null;
  }

  /**
   * A cursor `n` entries past the head (fewer at the end), walked from the nearest remembered
   * walk; `nextTime` is the append time of the entry after it when a walk knew it.
   */
  async walkFromHead(n: number): Promise<Walk> {
    const walk = this.startWalk(n);
    while (walk.walked < n) {
      let reader = this.stepSync(walk.cur);
      if (reader === undefined) reader = await this.step(walk.cur);
      if (!reader) break;
      walk.walked++;
    }
    return walk;
  }

  /** walkFromHead() without I/O: null when an entry on the way needs a read. */
  walkFromHeadSync(n: number): Walk | null {
    const walk = this.startWalk(n);
    while (walk.walked < n) {
      const reader = this.stepSync(walk.cur);
      if (reader === undefined) return null;
      if (!reader) break;
      walk.walked++;
    }
    return walk;
  }

  private startWalk(n: number): Walk {
    const memo = this.nearestMemo(n);
    const cur = memo ? { ...memo.cursor } : this.ledger.cursorAtHead();
    const walked = memo ? memo.count : 0;
    return { cur, walked, nextTime: memo && walked === n ? memo.nextTime : null };
  }

  /** The append time of the entry at `at` without I/O (null at the end, undefined for a read). */
  entryTimeSync(at: Cursor): number | null | undefined {
    const reader = this.stepSync({
      segment: at.segment,
      offset: at.offset,
      consumedEntries: at.consumedEntries,
      consumedBytes: at.consumedBytes,
      dropEntries: 0,
      dropBytes: 0,
    });
    return reader ? reader.header.appendedAt : reader;
  }

  /** Moves `cur` past the entries appended before `limit` (ms); returns how many. */
  async passOlderThan(cur: Cursor, limit: number): Promise<number> {
    let moved = 0;
    for (;;) {
      const probe = { ...cur };
      const reader = await this.step(probe);
      if (!reader || reader.header.appendedAt >= limit) return moved;
      Object.assign(cur, probe);
      moved++;
    }
  }

  /**
   * The current remembered walks that reached farther than `n` entries. None once the head moved
   * without them (a purge): they count from a head that is gone.
   */
  memosBeyond(n: number): PeekMemo[] {
    if (this.memoVersion !== this.ledger.headVersion) return [];
    return this.peekMemos.filter((m) => m.count > n);
  }

  /**
   * After the head moved `moved` entries to `cur` (settled): the walks that reached farther stay
   * usable, now relative to the new head; `cur`'s drops are what they share up to it.
   */
  rebaseMemos(farther: PeekMemo[], moved: number, cur: Cursor): void {
    this.peekMemos = farther.map((m) => ({
      count: m.count - moved,
      nextTime: m.nextTime,
      cursor: {
        ...m.cursor,
        dropEntries: m.cursor.dropEntries - cur.dropEntries,
        dropBytes: m.cursor.dropBytes - cur.dropBytes,
      },
    }));
    this.memoVersion = this.ledger.headVersion;
  }

  /** The remembered walk reaching farthest without passing `n` entries, if any is current. */
  private nearestMemo(n: number): PeekMemo | null {
    if (this.memoVersion !== this.ledger.headVersion) this.peekMemos = [];
    let best: PeekMemo | null = null;
    for (const m of this.peekMemos) if (m.count <= n && (!best || m.count > best.count)) best = m;
    return best;
  }

  private rememberWalk(memo: PeekMemo): void {
    if (this.memoVersion !== this.ledger.headVersion) this.peekMemos = [];
    this.memoVersion = this.ledger.headVersion;
    const memos = this.peekMemos.filter((m) => m.count !== memo.count);
    memos.push({ ...memo, cursor: { ...memo.cursor } });
    // The oldest walks go first: a pipelined replayer advances past them soonest.
    this.peekMemos = memos.slice(-MAX_PEEK_MEMOS);
  }

  /**
   * step() without I/O, for an entry lying whole in its reader's window: moves `cur` past it and
   * returns the reader holding it (header, payload), null at the end of the queue, or undefined
   * when a read, damage or a reader still to open needs step().
   */
  stepSync(cur: Cursor): SegmentReader | null | undefined {
    const { segments, corruptSkips } = this.ledger;
    for (;;) {
      const i = this.ledger.segmentIndex(cur.segment);
      const seg = segments[i];
      if (!seg || !seg.created) return null;
      if (corruptSkips.size > 0 && corruptSkips.get(seg.id)?.has(cur.offset)) return undefined;
      const reader = this.readers.get(seg.id)?.reader;
      if (!reader) return undefined;
      const status = reader.tryRecordSync(cur.offset, seg.size);
      if (status === RecordStatus.Entry) {
        moveOver(cur, reader);
        return reader;
      }
      if (status !== RecordStatus.End && status !== RecordStatus.Seal) return undefined;
      if (!this.ledger.passSealed(cur, i)) return null;
    }
  }

  /**
   * Reads the entry at `cur` and moves `cur` past it, stepping over corrupt regions (reported
   * once) and into the next segment when this one is sealed and the next exists. Returns the
   * reader holding the entry (valid until its next read), or null at the end.
   */
  async step(cur: Cursor): Promise<SegmentReader | null> {
    const { segments, corruptSkips } = this.ledger;
    for (;;) {
      const i = this.ledger.segmentIndex(cur.segment);
      const seg = segments[i];
      if (!seg || !seg.created) return null;
      const skipTo = corruptSkips.size > 0 ? corruptSkips.get(seg.id)?.get(cur.offset) : undefined;
      if (skipTo !== undefined) {
        cur.offset = skipTo;
        continue;
      }
      const reader = await this.readerFor(seg.id);
      const status = await reader.nextRecord(cur.offset, seg.size);
      if (status === RecordStatus.Entry) {
        moveOver(cur, reader);
        return reader;
      }
      if (status === RecordStatus.Corrupt) {
        const next = reader.next;
        await this.reportCorrupt(seg.id, cur.offset, next, reader.reason);
        cur.offset = next;
        continue;
      }
      if (!this.ledger.passSealed(cur, i)) return null;
    }
  }

  /** Copies a corrupt region aside and reports it, once per region. */
  private async reportCorrupt(
    segment: number,
    offset: number,
    next: number,
    reason: string,
  ): Promise<void> {
    const skips = this.ledger.corruptSkips;
    if (skips.get(segment)?.has(offset)) return;
    const bytes = next - offset;
    const reader = await this.readerFor(segment);
    await copyToCorrupt(this.config.fs, this.config.dir, reader, segment, offset, bytes, 'bin');
    let inSegment = skips.get(segment);
    if (!inSegment) skips.set(segment, (inSegment = new Map()));
    inSegment.set(offset, next);
    this.ledger.corruptSeen++;
    this.config.onCorrupt?.({ segment, offset, bytes, reason });
  }

  private async readerFor(segment: number): Promise<SegmentReader> {
    const open = this.readers.get(segment);
    if (open) return open.reader;
    const fh = await this.config.fs.open(this.config.segmentPath(segment), 'r');
    const reader = new SegmentReader(fh, segment, READ_CHUNK_SIZE, this.windows);
    this.readers.set(segment, { fh, reader });
    return reader;
  }

  /**
   * A peek far ahead may open many segments: keep only the head's and the next one's readers,
   * and the one where the walk ended (`walkEnd`), where the next skipping peek goes on.
   */
  private async trimReaders(walkEnd: number): Promise<void> {
    if (this.readers.size <= 2) return;
    const { segments, head } = this.ledger;
    const at = this.ledger.segmentIndex(head.segment);
    const keep = segments.slice(at, at + 2).map((s) => s.id);
    keep.push(walkEnd);
    for (const id of [...this.readers.keys()]) {
      if (!keep.includes(id)) await this.closeReader(id);
    }
  }

  async closeReader(segment: number): Promise<void> {
    const open = this.readers.get(segment);
    if (!open) return;
    this.readers.delete(segment);
    await open.reader.release();
    await open.fh.close();
  }

  /** Forgets every reader once its reads are done; returns their file handles to close. */
  async detach(): Promise<QueueFileHandle[]> {
    const open = [...this.readers.values()];
    this.readers.clear();
    for (const r of open) await r.reader.idle();
    return open.map((r) => r.fh);
  }
}

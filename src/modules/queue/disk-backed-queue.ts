import { QueueNotOpenError, QueueOpenError } from './errors';
import { HeadCommit } from './head-commit';
import { HeadPosition } from './head-position';
import { LockFile, removeLocked } from './lock-file';
import { PositionFile, type Head } from './position-file';
import { QueueConfig } from './queue-config';
import { isNoSpace, mkdirDurable } from './queue-fs';
import { checkMaxSegmentSize } from './queue-options';
import { QueueRecovery } from './queue-recovery';
import {
  type DiskBackedQueueOptions,
  type PurgeResult,
  type QueueBacklog,
  type QueueEntry,
  type QueuePosition,
} from './queue-types';
import { RecordWalker } from './record-walker';
import { type SegmentRange } from './segment-gaps';
import { copyHead, SegmentLedger } from './segment-ledger';
import { SegmentDisposal } from './segment-disposal';
import { recordSize, SEAL_SIZE } from './segment-format';
import { WindowPool } from './window-pool';
import { TailWriter } from './tail-writer';
import { BatchBufferPool } from './write-batch';

export type * from './queue-types';

/**
 * A durable FIFO of byte entries in numbered segment files. The format and the invariants are
 * in this folder's README.md; this class is the face users hold, over its parts:
 * - SegmentLedger (segment-ledger.ts): segments, head and counts, no I/O;
 * - TailWriter (tail-writer.ts): appends, group commit, roll, syncs, the failed state;
 * - RecordWalker (record-walker.ts): reads from the head, corrupt regions, remembered walks;
 * - QueueRecovery (queue-recovery.ts): what open finds after a close, crash or power loss;
 * - HeadCommit (head-commit.ts): moving the head, the position file, passed segments disposed of
 *   (SegmentDisposal, segment-disposal.ts).
 * It keeps the life cycle (open, close, reopen, the timer tick) and the exclusive chain every
 * read, advance and purge runs in (one at a time).
 */
export class DiskBackedQueue {
  readonly dir: string;
  private readonly config: QueueConfig;
  private readonly disposal: SegmentDisposal;
  private missing: SegmentRange[] = [];

  private state: 'closed' | 'opening' | 'open' | 'closing' = 'closed';
  private opening: Promise<void> | null = null;
  /** reopen() under way: appends made meanwhile wait for it (see append). */
  private reopening: Promise<void> | null = null;
  private closing: Promise<void> | null = null;
  private lock: LockFile | null = null;
  /** reopen(): the head advanced in memory before the failure, resumed if the files still hold it. */
  private keptHead: Head | null = null;

  // The parts, new at every open (see resetState).
  private ledger!: SegmentLedger;
  private walker!: RecordWalker;
  private heads!: HeadCommit;
  private writer!: TailWriter;
  private readonly batchBuffers = new BatchBufferPool();
  private readonly windows = new WindowPool();

  private timer: NodeJS.Timeout | null = null;
  private ticking = false;
  private tickRun: Promise<void> = Promise.resolve();

  private chain: Promise<unknown> = Promise.resolve();
  /** Operations of the chain started or queued and not yet settled. */
  private pending = 0;
  private readonly settledOne = (): void => {
    this.pending--;
  };

  constructor(dir: string, options: DiskBackedQueueOptions = {}) {
    this.config = new QueueConfig(dir, options);
    this.dir = this.config.dir;
    this.disposal = new SegmentDisposal(this.config);
    this.resetState();
  }

  // ---------------------------------------------------------------- lifecycle

  isOpen(): boolean {
    return this.state === 'open';
  }

  /** Open but failed (a write or fdatasync failed): every append rejects until reopened. */
  isFailed(): boolean {
    return this.writer.failure !== null;
  }

  open(): Promise<void> {
    if (this.state === 'open') return Promise.resolve();
    if (this.state === 'opening' && this.opening) return this.opening;
    if (this.state === 'closing' && this.closing) return this.closing.then(() => this.open());
    this.state = 'opening';
    this.opening = this.doOpen().then(
      () => {
        this.state = 'open';
        this.opening = null;
      },
      async (err) => {
        await this.releaseAll().catch(() => undefined);
        this.state = 'closed';
        this.opening = null;
        throw err;
      },
    );
    return this.opening;
  }

  close(): Promise<void> {
    if (this.state === 'closed') return Promise.resolve();
    if (this.closing) return this.closing;
    const wasOpening = this.opening;
    this.state = 'closing';
    this.closing = (async () => {
      if (wasOpening) await wasOpening.catch(() => undefined);
      let first: unknown = null;
      const attempt = async (fn: () => Promise<void>) => {
        try {
          await fn();
        } catch (err) {
          first ??= err;
        }
      };
      await this.tickRun;
      await this.chain.catch(() => undefined);
      await attempt(() => this.writer.drain());
      if (!this.writer.failure) {
        await attempt(() => this.writer.syncSealed());
        await attempt(() => this.writer.syncTailNow());
        await attempt(async () => {
          const cur = this.ledger.cursorAtHead();
          this.ledger.settle(cur);
          this.ledger.setHead(cur);
          await this.heads.persist(true);
        });
        await attempt(() => this.heads.unlinkPassed());
      }
      await attempt(() => this.disposal.settle());
      await attempt(() => this.releaseAll());
      this.state = 'closed';
      this.closing = null;
      if (first) throw first;
    })();
    return this.closing;
  }

  /**
   * Closes a failed queue (or opens a closed one) and opens it again: the tail is scanned anew,
   * so what a failed write or fdatasync left is cut or kept by the same rules as after a crash.
   * The head advanced in memory is resumed when the files still hold it (an advance in
   * 'interval' mode may not have reached the position file yet): entries already delivered are
   * not delivered again. Rejects, and stays closed, while the cause persists.
   */
  reopen(): Promise<void> {
    if (this.reopening) return this.reopening;
    const kept = this.state === 'open' ? copyHead(this.ledger.head) : null;
    this.reopening = (async () => {
      await this.close().catch(() => undefined);
      this.keptHead = kept;
      try {
        await this.open();
      } finally {
        this.keptHead = null;
        this.reopening = null;
      }
    })();
    return this.reopening;
  }

  /**
   * Makes every append resolved so far durable, whatever the fsync policy says about appends: for
   * a caller that is about to forget its own copy of them (a dead-letter requeue). In 'never'
   * mode only the tail is synced (sealed segments were closed unsynced).
   */
  async sync(): Promise<void> {
    this.assertOpen();
    await this.writer.sync();
  }

  /** Deletes the queue's directory (closed first), under its lock: see removeLocked. */
  async remove(): Promise<void> {
    if (this.state !== 'closed') throw new QueueOpenError(this.dir);
    await removeLocked(this.config.fs, this.dir);
  }

  // ---------------------------------------------------------------- accessors (no I/O)

  diskUsage(): number {
    this.assertOpen();
    return this.ledger.usage;
  }

  backlog(): QueueBacklog {
    this.assertOpen();
    return this.ledger.backlog();
  }

  lastModified(): Date {
    this.assertOpen();
    return new Date(this.ledger.lastModifiedMs);
  }

  position(): QueuePosition {
    this.assertOpen();
    return { segment: this.ledger.head.segment, offset: this.ledger.head.offset };
  }

  setMaxSegmentSize(n: number): void {
    this.assertOpen();
    this.config.maxSegmentSize = checkMaxSegmentSize(n);
  }

  /** Segments found missing at the last open (see onMissingSegments). */
  missingSegments(): SegmentRange[] {
    this.assertOpen();
    return this.missing.map((r) => ({ ...r }));
  }

  corruptCount(): number {
    this.assertOpen();
    return this.ledger.corruptSeen;
  }

  // ---------------------------------------------------------------- append

  /** The largest payload `append` takes: a segment holds the entry and its seal. */
  maxEntrySize(): number {
    return this.config.maxSegmentSize - SEAL_SIZE - recordSize(0);
  }

  append(payload: Uint8Array): Promise<void> {
    // Closed only for a reopen (a heal): wait for it, in order, and fail with its error if it fails.
    if (this.reopening) return this.reopening.then(() => this.append(payload));
    try {
      this.assertOpen();
      return this.writer.append(payload);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  // ---------------------------------------------------------------- reads

  current(): Promise<Buffer | null> {
    // The head entry lying whole in its reader's window, with nothing queued before this call:
    // parsed here and now, without a walk to remember or a promise chain.
    if (this.state === 'open' && this.pending === 0) {
      const entry = this.walker.headEntrySync();
      if (entry !== undefined) return Promise.resolve(entry);
    }
    // A copy the caller owns, unlike peek()'s views (see there).
    return this.readHead(0, 1, null, 0).then(([first]) => (first ? Buffer.from(first) : null));
  }

  /**
   * The entries at the head, up to `maxBytes` of payload and `maxEntries` entries (at least one
   * when there is one, however large), without moving the head. With `skip`, they start `skip`
   * entries after the head (none when the backlog has no more), so a replayer can read batch
   * k+1 while batch k is in flight: peek(b, e) → k, peek(b, e, k.length) → k+1, advance(k.length).
   * The walk is remembered, so that advance and the next skipping peek start where it ended.
   *
   * The payloads are views of the read windows, not copies (copying was a tenth of a drain of
   * 1 KiB entries): read-only, since writing into one changes what a later peek of the same
   * entries returns, and valid until `advance` past them is called (or a purge, reopen or
   * close), from when their window may be read into again. Copy one (`Buffer.from`) to keep it.
   */
  peek(maxBytes: number, maxEntries = Infinity, skip = 0): Promise<Buffer[]> {
    return this.readHead(maxBytes, maxEntries, null, skip);
  }

  /** peek() with each entry's append time; `skip` as in peek(). */
  async peekEntries(maxBytes: number, maxEntries = Infinity, skip = 0): Promise<QueueEntry[]> {
    const times: number[] = [];
    const payloads = await this.readHead(maxBytes, maxEntries, times, skip);
    return payloads.map((payload, i) => ({ payload, appendedAt: times[i] }));
  }

  private readHead(
    maxBytes: number,
    maxEntries: number,
    times: number[] | null,
    skip: number,
  ): Promise<Buffer[]> {
    if (!(skip >= 0 && (Number.isInteger(skip) || skip === Infinity))) {
      return Promise.reject(new RangeError(`skip must be a whole number >= 0, got ${skip}`));
    }
    return this.exclusive(() => this.walker.take(maxBytes, maxEntries, times, skip));
  }

  // ---------------------------------------------------------------- advance / purge

  /**
   * Moves the head past `n` entries (fewer when the queue has fewer). After peeks, it starts
   * from the walk of the nearest one; walks that reached farther stay usable, now relative to
   * the new head, so a pipelined replayer never reads an entry twice.
   */
  advance(n = 1): Promise<void> {
    // A fractional count would move past one entry more than asked: refuse it, like peek's skip.
    if (!(Number.isInteger(n) || n === Infinity)) {
      return Promise.reject(new RangeError(`advance takes a whole number of entries, got ${n}`));
    }
    // Nothing queued, the entries to pass in their readers' windows and no write due: moved here
    // and now, without the chain's promises (a current()+advance() drain calls this per entry).
    if (
      this.state === 'open' &&
      this.pending === 0 &&
      !this.writer.failure &&
      this.advanceSync(n)
    ) {
      return Promise.resolve();
    }
    return this.exclusive(async () => {
      if (this.writer.failure) throw this.writer.failure;
      if (n <= 0) return;
      const farther = this.walker.memosBeyond(n);
      const { cur, walked: moved, nextTime } = await this.walker.walkFromHead(n);
      const head = this.ledger.head;
      if (moved === 0 && cur.segment === head.segment && cur.offset === head.offset) return;
      await this.heads.commit(cur, moved, false, nextTime);
      // commit() settled `cur`: its drops are what the farther walks share up to the new head.
      this.walker.rebaseMemos(farther, moved, cur);
    });
  }

  /** advance() when it needs no I/O; false (nothing moved) when it does. */
  private advanceSync(n: number): boolean {
    if (!(n > 0 && n < Infinity)) return false;
    const farther = this.walker.memosBeyond(n);
    const walk = this.walker.walkFromHeadSync(n);
    if (!walk) return false;
    const { cur, walked: moved } = walk;
    const head = this.ledger.head;
    if (moved === 0 && cur.segment === head.segment && cur.offset === head.offset) return true;
    if (!this.heads.commitSync(cur, moved, walk.nextTime)) return false;
    this.walker.rebaseMemos(farther, moved, cur);
    return true;
  }

  purgeOlderThan(t: Date): Promise<PurgeResult> {
    return this.exclusive(async () => {
      if (this.writer.failure) throw this.writer.failure;
      const limit = t.getTime();
      const ledger = this.ledger;
      const cur = ledger.cursorAtHead();
      // Whole segments first: their seal says they hold nothing as new as `t`, no read needed.
      ledger.passSealedWhile(cur, (seg) => seg.maxTime < limit);
      // Then head entries, one by one.
      const moved = await this.walker.passOlderThan(cur, limit);
      // Segments before the head are passed already (waiting for a durable position): not this purge's.
      const from = ledger.head.segment;
      const before = ledger.segments.filter((s) => s.id >= from && s.id < cur.segment).length;
      const result = { entries: cur.dropEntries, bytes: cur.dropBytes, segments: before };
      if (cur.segment !== ledger.head.segment || cur.offset !== ledger.head.offset)
        await this.heads.commit(cur, moved, true);
      return result;
    });
  }

  /** Moves a head left at the end of sealed segments onto the next one, durably; unlinks them. */
  private async passReadSegments(): Promise<void> {
    if (this.writer.failure) return;
    const cur = this.ledger.cursorAtHead();
    this.ledger.settle(cur);
    if (cur.segment !== this.ledger.head.segment) await this.heads.commit(cur, 0, true);
  }

  // ---------------------------------------------------------------- open / tick

  private async doOpen(): Promise<void> {
    this.resetState();
    const { fs, dir } = this.config;
    await mkdirDurable(fs, dir);
    this.lock = new LockFile(fs, dir);
    await this.lock.acquire();
    await this.disposal.removeLeftovers();
    const positionFile = new PositionFile(fs, dir, this.config.now);
    this.heads.position = new HeadPosition(positionFile, this.config);
    const recovery = new QueueRecovery(this.config, this.ledger);
    const found = await recovery.recover(positionFile, this.keptHead);
    this.missing = found.missing;
    if (this.missing.length > 0) this.config.onMissingSegments?.(this.missing);
    await this.writer.openTail();

    const ledger = this.ledger;
    ledger.setHead(recovery.resolveHead(found.position, found.tail));
    ledger.recount();
    const tail = found.tail;
    ledger.lastModifiedMs = tail && tail.scan.entries > 0 ? tail.scan.lastTime : this.config.now();
    ledger.headTime = await this.walker.headEntryTime();
    try {
      await this.heads.persist(true);
    } catch (err) {
      // A full disk must not keep the queue from opening (draining it is what frees space): the
      // position on disk is still a valid one, at or before this head; the next write retries.
      if (!isNoSpace(err)) throw err;
      this.heads.position.markDirty();
    }
    if (this.config.fsync !== 'always') {
      this.timer = setInterval(() => this.tick(), this.config.fsyncIntervalMs);
      this.timer.unref();
    }
  }

  private tick(): void {
    if (this.ticking || this.state !== 'open' || this.writer.failure) return;
    this.writer.tick();
    this.ticking = true;
    const work = async () => {
      await this.writer.syncForTick();
      if (this.heads.position?.behind() || this.heads.hasPassed()) {
        await this.exclusive(() => this.heads.persistAtTick(this.config.fsync === 'interval'));
      }
    };
    this.tickRun = work()
      .catch((err) => {
        // A tick overlapping close() finds the queue closing; close makes everything durable itself.
        if (!(err instanceof QueueNotOpenError)) this.fail(err);
      })
      .finally(() => {
        this.ticking = false;
      });
  }

  // ---------------------------------------------------------------- helpers

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    if (this.state !== 'open') {
      return Promise.reject(new QueueNotOpenError(this.dir));
    }
    // Nothing queued: start at once rather than a promise hop later (a drain calls this twice per
    // batch, current()+advance() twice per entry).
    const run = this.pending === 0 ? fn() : this.chain.then(fn, fn);
    this.pending++;
    this.chain = run.then(this.settledOne, this.settledOne);
    return run;
  }

  /** Marks the queue failed: queued and later appends/advances reject until reopen. */
  private fail(err: unknown): void {
    this.writer.fail(err);
  }

  private assertOpen(): void {
    if (this.state !== 'open') throw new QueueNotOpenError(this.dir);
  }

  /** Fresh parts for an open: nothing of the last one's state carries over. */
  private resetState(): void {
    this.ledger = new SegmentLedger();
    // The new head may be behind the last one (a reopen resumes the durable position).
    this.windows.forgetHeld();
    this.walker = new RecordWalker(this.config, this.ledger, this.windows);
    this.heads = new HeadCommit(this.config, this.ledger, this.walker, this.disposal);
    this.writer = new TailWriter(this.config, this.ledger, this.batchBuffers, () => {
      void this.exclusive(() => this.passReadSegments()).catch((err: unknown) => {
        if (!(err instanceof QueueNotOpenError)) this.fail(err);
      });
    });
    this.batchBuffers.clear();
    this.chain = Promise.resolve();
  }

  private async releaseAll(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    let first: unknown = null;
    const handles = await this.walker.detach();
    handles.push(...this.writer.detach());
    for (const fh of handles) await fh.close().catch((err) => (first ??= err));
    const position = this.heads.position;
    this.heads.position = null;
    if (position) await position.close().catch((err) => (first ??= err));
    if (this.lock) await this.lock.release().catch((err) => (first ??= err));
    this.lock = null;
    if (first) throw first;
  }
}

import { join, resolve } from 'node:path';
import { type FsyncPolicy } from '../../config/defaults';
import {
  QueueFailedError,
  QueueFullError,
  QueueNotOpenError,
  QueueOpenError,
  SegmentFullError,
} from './errors';
import { LockFile } from './lock-file';
import { checkMaxSegmentSize, resolveQueueOptions } from './queue-options';
import { PositionFile, type Head } from './position-file';
import {
  isErrno,
  isNoSpace,
  mkdirDurable,
  nodeQueueFileSystem,
  syncDir,
  writeAll,
  type QueueFileHandle,
  type QueueFileSystem,
} from './queue-fs';
import {
  CORRUPT_DIR,
  decodeSeal,
  encodeSeal,
  parseSegmentFileName,
  recordSize,
  SEAL_SIZE,
  segmentFileName,
} from './segment-format';
import { mapBounded } from './map-bounded';
import { PayloadRun } from './payload-run';
import { READ_CHUNK_SIZE, RecordStatus, SegmentReader, WindowPool } from './segment-reader';
import { missingSegments, type SegmentRange } from './segment-gaps';
import { scanSegment, type ScanResult } from './segment-scan';
import { classifyCut } from './torn-tail';
import { BatchBufferPool, WriteBatch } from './write-batch';

export interface CorruptInfo {
  segment: number;
  offset: number;
  bytes: number;
  reason: string;
}

export interface DiskBackedQueueOptions {
  /** Bytes on disk over all segments; default DEFAULTS.maxSize (10 GiB). */
  maxSize?: number;
  /** Default DEFAULTS.maxSegmentSize (10 MiB); a segment never passes it (seal included). */
  maxSegmentSize?: number;
  /** Default 'interval'. */
  fsync?: FsyncPolicy;
  /** Default 100. */
  fsyncIntervalMs?: number;
  /**
   * In 'interval' and 'never' mode the head position is written every this many advanced entries
   * (default 1000) and on every fsyncIntervalMs tick, whichever comes first. After a process crash
   * at most this many entries (fewer if fewer were advanced in the last tick) are delivered
   * again; after a power loss in 'interval' mode, the entries advanced in the last tick. 'always'
   * makes the position durable before advance() resolves: at most the entries of the advance in
   * flight are delivered again.
   */
  positionSyncEntries?: number;
  /** Clock (ms) stamped into each record; default Date.now. */
  now?: () => number;
  /** Injectable fs layer (defaults to node:fs/promises) so tests can inject ENOSPC / EIO. */
  fs?: QueueFileSystem;
  /** Called for each corrupt region skipped (and for a garbage position file), for metrics/logs. */
  onCorrupt?: (info: CorruptInfo) => void;
  /**
   * Segment files found missing at open, from the head on (a hole in the numbering, or no
   * successor to a sealed last segment): their entries are lost, the queue goes on past them.
   */
  onMissingSegments?: (missing: SegmentRange[]) => void;
}

export interface QueuePosition {
  segment: number;
  offset: number;
}

/** `bytes` counts unread payload bytes; `oldest` is the append time of the head entry. */
export interface QueueBacklog {
  entries: number;
  bytes: number;
  oldest: Date | null;
}

export interface QueueEntry {
  payload: Buffer;
  /** Append time, ms. */
  appendedAt: number;
}

export interface PurgeResult {
  entries: number;
  bytes: number;
  segments: number;
}

interface Segment {
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

interface Cursor extends Head {
  /** Entries/payload bytes this walk moved past (dropped from the backlog when committed). */
  dropEntries: number;
  dropBytes: number;
}

interface Waiter {
  resolve: () => void;
  reject: (err: unknown) => void;
}

/** One positional write in flight: a part of a batch, written at a known offset of the tail. */
interface WriteInFlight {
  batch: WriteBatch<Segment>;
  /** The last part of its batch: the batch lands with it. */
  last: boolean;
  /** Settles with null, or with the error; never rejects. */
  done: Promise<unknown>;
}

type WriteOp =
  | WriteBatch<Segment>
  | { kind: 'roll'; from: Segment; to: Segment }
  | { kind: 'sync'; waiter: Waiter };

const COPY_CHUNK = 1024 * 1024;
/**
 * Writes in flight at once ('interval'/'never': also across batches, so appenders that each await
 * their own append keep the disk busy while the loop checksums the next batch; measured with 1024
 * such appenders: 0.44x of plain 64 KiB writes, against 0.31x with one write in flight).
 */
const MAX_WRITES_IN_FLIGHT = 4;
/**
 * A batch is written in parts of at most this size (whole records), each checksummed just before
 * its write. Smaller parts, to overlap checksums with the writes of one batch, measured slower:
 * a write costs more per call than the checksums they overlap.
 */
const WRITE_PART_BYTES = 1024 * 1024;
/** 'interval': sealed segments left for the tick to sync; past this, a roll syncs the oldest. */
const MAX_UNSYNCED_SEALED = 8;
/** Sealed segments whose seals open() reads at once. */
const OPEN_CONCURRENCY = 16;

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

/** Walks remembered at once: a pipelined replayer has two or three batches peeked ahead. */
const MAX_PEEK_MEMOS = 8;

const yieldToIo = () => new Promise<void>((r) => setImmediate(r));

/**
 * A durable FIFO of byte entries in numbered segment files (see segment-format.ts for the bytes).
 *
 * Writes: appends are framed at once into a batch buffer (sonic-boom style: concurrent appends
 * share one buffer and one promise). The write loop checksums a batch and writes it at its known
 * offset (positional writes), with up to four writes in flight, so the next batch is checksummed
 * while the one before is written; batches settle strictly in order, each once its bytes are in
 * the page cache ('interval', 'never'), or in 'always' mode after one fdatasync for the whole
 * batch (group commit: a batch is written only once the one before it is durable).
 *
 * After a failed write, its batch and every batch written after it reject with the I/O error
 * (their bytes would sit behind a hole), and once the writes in flight are done the file is
 * truncated back to where that batch began, so the queue goes on (a full disk may free up).
 * When the truncate or an fdatasync fails, the state of the file is unknown (a failed fdatasync
 * may have dropped dirty pages): the queue is then failed and every append/advance rejects with
 * QueueFailedError until it is closed and reopened, which re-scans the tail.
 *
 * In 'interval' mode the timer tick makes everything written durable: first the segments sealed
 * since the last tick (not at the roll: a 10 MiB flush there stalled the appends behind it), then
 * the tail, in the write loop once the writes in flight are done.
 *
 * Reads, advances and purges run one at a time (a promise chain) and read through a bounded
 * window per segment, never a whole segment.
 */
export class DiskBackedQueue {
  readonly dir: string;
  private readonly fs: QueueFileSystem;
  private readonly maxSize: number;
  private maxSegmentSize: number;
  private readonly fsync: FsyncPolicy;
  private readonly fsyncIntervalMs: number;
  private readonly positionSyncEntries: number;
  private readonly now: () => number;
  private readonly onCorrupt?: (info: CorruptInfo) => void;
  private readonly onMissingSegments?: (missing: SegmentRange[]) => void;
  private missing: SegmentRange[] = [];

  private state: 'closed' | 'opening' | 'open' | 'closing' = 'closed';
  private opening: Promise<void> | null = null;
  private closing: Promise<void> | null = null;
  private failure: QueueFailedError | null = null;
  private lock: LockFile | null = null;
  private positionFile: PositionFile | null = null;
  /** reopen(): the head advanced in memory before the failure, resumed if the files still hold it. */
  private keptHead: Head | null = null;

  private segments: Segment[] = [];
  private readers = new Map<number, { fh: QueueFileHandle; reader: SegmentReader }>();
  private head: Head = { segment: 1, offset: 0, consumedEntries: 0, consumedBytes: 0 };
  private headTime: number | null = null;
  private unreadEntries = 0;
  private unreadBytes = 0;
  private usage = 0;
  private lastModifiedMs = 0;
  private corruptSeen = 0;
  /** Corrupt regions already reported: segment -> start offset -> where the next record starts. */
  private corruptSkips = new Map<number, Map<number, number>>();
  private headVersion = 0;
  /** Peek walks from the head as it was at headVersion === memoVersion (stale otherwise). */
  private peekMemos: PeekMemo[] = [];
  private memoVersion = -1;
  private advancedSinceWrite = 0;
  private positionDirty = false;
  /** The position was written but not fdatasynced ('interval'): the next tick syncs it. */
  private positionUnsynced = false;

  // Write side.
  private tailFh: QueueFileHandle | null = null;
  private tailReserved = 0;
  private reservedUsage = 0;
  private ops: WriteOp[] = [];
  private readonly batchBuffers = new BatchBufferPool();
  private readonly windows = new WindowPool();
  /** Payloads a peek takes from one window, copied out together (peeks run one at a time). */
  private readonly run = new PayloadRun();
  /** Appends since the last timer tick: a tick that saw none lets the batch buffers go. */
  private appendedSinceTick = 0;
  private flushing = false;
  private inFlight: WriteInFlight[] = [];
  /** The batch whose parts are being written, and where its next part starts. */
  private issuing: { batch: WriteBatch<Segment>; next: number } | null = null;
  /** File offset of the next write to the tail: its size plus the bytes in flight. */
  private writeAt = 0;
  private wake: (() => void) | null = null;
  /** 'interval': sealed segments written since the last tick, open until it has synced them. */
  private unsyncedSealed: QueueFileHandle[] = [];
  private wakeQueued = false;
  private flushIdle: Promise<void> = Promise.resolve();
  private dataDirty = false;
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
    this.dir = resolve(dir);
    this.fs = options.fs ?? nodeQueueFileSystem;
    const resolved = resolveQueueOptions(options);
    this.maxSize = resolved.maxSize;
    this.maxSegmentSize = resolved.maxSegmentSize;
    this.fsync = resolved.fsync;
    this.fsyncIntervalMs = resolved.fsyncIntervalMs;
    this.positionSyncEntries = resolved.positionSyncEntries;
    this.now = options.now ?? Date.now;
    this.onCorrupt = options.onCorrupt;
    this.onMissingSegments = options.onMissingSegments;
  }

  // ---------------------------------------------------------------- lifecycle

  isOpen(): boolean {
    return this.state === 'open';
  }

  /** Open but failed (a write or fdatasync failed): every append rejects until reopened. */
  isFailed(): boolean {
    return this.failure !== null;
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
      await attempt(() => this.drainWrites());
      if (!this.failure) {
        await attempt(() => this.syncSealed());
        await attempt(async () => {
          if (this.tailFh) await this.tailFh.datasync();
        });
        await attempt(async () => {
          const cur = this.cursorAtHead();
          this.settle(cur);
          this.setHead(cur);
          await this.persistHead(true);
        });
        await attempt(() => this.unlinkPassed());
      }
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
  async reopen(): Promise<void> {
    const kept = this.state === 'open' ? { ...this.head } : null;
    await this.close().catch(() => undefined);
    this.keptHead = kept;
    try {
      await this.open();
    } finally {
      this.keptHead = null;
    }
  }

  /**
   * Makes every append resolved so far durable, whatever the fsync policy says about appends: for
   * a caller that is about to forget its own copy of them (a dead-letter requeue). In 'never'
   * mode only the tail is synced (sealed segments were closed unsynced).
   */
  async sync(): Promise<void> {
    this.assertOpen();
    if (this.failure) throw this.failure;
    await this.syncSealed();
    await new Promise<void>((resolve, reject) => {
      this.ops.push({ kind: 'sync', waiter: { resolve, reject } });
      this.kick();
    });
  }

  async remove(): Promise<void> {
    if (this.state !== 'closed') throw new QueueOpenError(this.dir);
    // Take the lock first: removing a directory another process owns would destroy its queue.
    const lock = new LockFile(this.fs, this.dir);
    try {
      await lock.acquire();
    } catch (err) {
      if (isErrno(err, 'ENOENT')) return;
      throw err;
    }
    try {
      await this.fs.rm(this.dir);
    } finally {
      await lock.release();
    }
  }

  // ---------------------------------------------------------------- accessors (no I/O)

  diskUsage(): number {
    this.assertOpen();
    return this.usage;
  }

  backlog(): QueueBacklog {
    this.assertOpen();
    const entries = Math.max(0, this.unreadEntries);
    return {
      entries,
      bytes: entries === 0 ? 0 : Math.max(0, this.unreadBytes),
      oldest: entries === 0 || this.headTime === null ? null : new Date(this.headTime),
    };
  }

  lastModified(): Date {
    this.assertOpen();
    return new Date(this.lastModifiedMs);
  }

  position(): QueuePosition {
    this.assertOpen();
    return { segment: this.head.segment, offset: this.head.offset };
  }

  setMaxSegmentSize(n: number): void {
    this.assertOpen();
    this.maxSegmentSize = checkMaxSegmentSize(n);
  }

  /** Segments found missing at the last open (see onMissingSegments). */
  missingSegments(): SegmentRange[] {
    this.assertOpen();
    return this.missing.map((r) => ({ ...r }));
  }

  corruptCount(): number {
    this.assertOpen();
    return this.corruptSeen;
  }

  // ---------------------------------------------------------------- append

  /** The largest payload `append` takes: a segment holds the entry and its seal. */
  maxEntrySize(): number {
    return this.maxSegmentSize - SEAL_SIZE - recordSize(0);
  }

  append(payload: Uint8Array): Promise<void> {
    try {
      this.assertOpen();
      if (this.failure) throw this.failure;
      const size = recordSize(payload.length);
      if (size + SEAL_SIZE > this.maxSegmentSize)
        throw new SegmentFullError(size, this.maxSegmentSize);
      const roll =
        this.tailReserved > 0 && this.tailReserved + size + SEAL_SIZE > this.maxSegmentSize;
      // A tail read to its end is freed by the roll (see roll()): without this, a queue whose
      // maxSize is below two segments refused every roll once it had been full, even empty.
      const freed = roll && this.tailIsRead() ? this.tailReserved : 0;
      if (this.reservedUsage - freed + size + (roll ? SEAL_SIZE : 0) > this.maxSize) {
        throw new QueueFullError(this.dir, this.maxSize);
      }
      if (roll) this.queueRoll();
      const batch = this.openBatch(size);
      batch.add(payload, this.now(), this.batchBuffers);
      this.tailReserved += size;
      this.reservedUsage += size;
      this.appendedSinceTick++;
      this.kick();
      return batch.done;
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** The head is at the end of the tail, nothing unread in it and no append pending for it. */
  private tailIsRead(): boolean {
    const tail = this.segments[this.segments.length - 1];
    return this.head.segment === tail.id && this.head.offset === this.tailReserved;
  }

  /** The batch still filling for the tail segment, or a new one: its records share one write. */
  private openBatch(size: number): WriteBatch<Segment> {
    const seg = this.segments[this.segments.length - 1];
    const last = this.ops[this.ops.length - 1];
    if (last instanceof WriteBatch && last.seg === seg && last.fits(size)) return last;
    const batch = new WriteBatch(seg, this.batchBuffers.take(size));
    this.ops.push(batch);
    return batch;
  }

  private queueRoll(): void {
    const from = this.segments[this.segments.length - 1];
    const to = emptySegment(from.id + 1);
    this.segments.push(to);
    this.ops.push({ kind: 'roll', from, to });
    this.reservedUsage += SEAL_SIZE;
    this.tailReserved = 0;
  }

  private kick(): void {
    if (this.flushing) {
      this.wakeSoon();
      return;
    }
    this.flushing = true;
    this.flushIdle = new Promise<void>((resolve) => {
      // Start on the next turn so appends made in the same tick share the first write.
      setImmediate(() => void this.flushLoop().finally(resolve));
    });
  }

  /**
   * Wakes a write loop waiting on writes in flight, on the next turn (so the appends of this tick
   * share a batch), to start the new batch beside them.
   */
  private wakeSoon(): void {
    if (!this.wake || this.wakeQueued) return;
    this.wakeQueued = true;
    setImmediate(() => {
      this.wakeQueued = false;
      const wake = this.wake;
      this.wake = null;
      wake?.();
    });
  }

  private async drainWrites(): Promise<void> {
    while (this.flushing) await this.flushIdle;
  }

  /**
   * Writes the queued batches, up to MAX_WRITES_IN_FLIGHT positional writes at once, and settles
   * them in order; a roll or a tail sync waits until no write is in flight.
   */
  private async flushLoop(): Promise<void> {
    try {
      for (;;) {
        this.issueWrites();
        if (this.inFlight.length > 0) {
          await this.settleNextWrite();
          continue;
        }
        const op = this.ops.shift();
        if (!op) break;
        if (op instanceof WriteBatch) {
          // issueWrites() leaves a batch only when the queue failed or is closing.
          this.dropBatch(op, this.failure ?? new QueueNotOpenError(this.dir));
        } else if (op.kind === 'roll') await this.roll(op.from, op.to);
        else await this.syncTail(op.waiter);
        // Let the callers of the op just done queue their next appends before the next write.
        if (this.ops.length > 0) await yieldToIo();
      }
    } finally {
      this.flushing = false;
    }
  }

  /**
   * Starts writes while there is room in flight: the next part of the batch being written, else
   * the next queued batch (in 'always' mode only once the one before is durable: one fdatasync
   * per batch). Each part is checksummed right before its write, while earlier writes run.
   */
  private issueWrites(): void {
    const fh = this.tailFh;
    while (this.inFlight.length < MAX_WRITES_IN_FLIGHT) {
      if (!this.issuing) {
        const op = this.ops[0];
        if (!(op instanceof WriteBatch) || this.failure || !fh) return;
        if (this.fsync === 'always' && this.inFlight.length > 0) return;
        this.ops.shift();
        if (this.inFlight.length === 0) this.writeAt = op.seg.size;
        this.issuing = { batch: op, next: 0 };
      }
      const { batch, next: from } = this.issuing;
      const to = batch.checksumUpTo(from + WRITE_PART_BYTES);
      const last = to >= batch.length;
      const done = writeAll(fh!, [batch.buf.subarray(from, to)], this.writeAt).then(
        () => null,
        (err: unknown) => err ?? new Error('write failed'),
      );
      this.writeAt += to - from;
      this.inFlight.push({ batch, last, done });
      if (last) this.issuing = null;
      else this.issuing.next = to;
    }
  }

  /** Waits for the oldest write in flight and settles it, or for a wake to start more writes. */
  private async settleNextWrite(): Promise<void> {
    const oldest = this.inFlight[0];
    const canStartMore =
      this.fsync !== 'always' && !this.issuing && this.inFlight.length < MAX_WRITES_IN_FLIGHT;
    if (canStartMore) {
      const woken = new Promise<'wake'>((resolve) => (this.wake = () => resolve('wake')));
      const first = await Promise.race([oldest.done, woken]);
      this.wake = null;
      if (first === 'wake') return;
    }
    const err = await oldest.done;
    this.inFlight.shift();
    if (err !== null) await this.failWrites(oldest.batch, err);
    else if (oldest.last) await this.landBatch(oldest.batch);
  }

  /** Every byte of `batch` is written (and every batch before it): account for it, resolve. */
  private async landBatch(batch: WriteBatch<Segment>): Promise<void> {
    const seg = batch.seg;
    const bytes = batch.length;
    if (this.failure) {
      // A tick's fdatasync failed while this batch was in flight: its bytes may not stay.
      this.dropBatch(batch, this.failure);
      return;
    }
    if (this.fsync === 'always') {
      try {
        await this.tailFh!.datasync();
      } catch (err) {
        this.batchBuffers.give(batch.buf);
        batch.reject(err);
        this.fail(err);
        return;
      }
    } else {
      this.dataDirty = true;
    }
    const wasEmpty = this.unreadEntries <= 0;
    if (seg.entries === 0) seg.firstTime = batch.firstTime;
    seg.entries += batch.count;
    seg.payloadBytes += batch.payloadBytes;
    seg.maxTime = Math.max(seg.maxTime, batch.maxTime);
    seg.size += bytes;
    this.usage += bytes;
    this.unreadEntries += batch.count;
    this.unreadBytes += batch.payloadBytes;
    if (wasEmpty) this.headTime = batch.firstTime;
    this.lastModifiedMs = batch.lastTime;
    this.batchBuffers.give(batch.buf);
    batch.resolve();
  }

  /**
   * A write of `failed` was refused. It and every batch written after it reject with the error,
   * even those whose own writes landed: nothing may follow a hole. Once every write in flight
   * is done, the file is cut back to where `failed` began (the tail's size: batches land in
   * order), so the queue goes on from there (a full disk may free up).
   */
  private async failWrites(failed: WriteBatch<Segment>, err: unknown): Promise<void> {
    const rejected = [failed];
    for (const w of this.inFlight.splice(0)) {
      await w.done;
      if (!rejected.includes(w.batch)) rejected.push(w.batch);
    }
    if (this.issuing) {
      if (!rejected.includes(this.issuing.batch)) rejected.push(this.issuing.batch);
      this.issuing = null;
    }
    for (const batch of rejected) this.dropBatch(batch, err);
    const seg = failed.seg;
    this.writeAt = seg.size;
    try {
      await this.tailFh!.truncate(seg.size);
    } catch (truncErr) {
      this.fail(truncErr);
    }
  }

  /** A batch that will not be written: its reservation back, its buffer to the pool, rejected. */
  private dropBatch(batch: WriteBatch<Segment>, err: unknown): void {
    this.releaseReservation(batch.seg, batch.length);
    this.batchBuffers.give(batch.buf);
    batch.reject(err);
  }

  /** A failed batch gives its reservation back; a roll it caused stays (an underfull segment). */
  private releaseReservation(seg: Segment, bytes: number): void {
    this.reservedUsage -= bytes;
    if (seg === this.segments[this.segments.length - 1]) {
      this.tailReserved = Math.max(seg.size, this.tailReserved - bytes);
    }
  }

  private async roll(from: Segment, to: Segment): Promise<void> {
    if (this.failure) return;
    try {
      const fh = this.tailFh;
      if (!fh) throw new QueueNotOpenError(this.dir);
      const seal = encodeSeal(from.id, from.size, from, this.now());
      try {
        await writeAll(fh, [seal], from.size);
      } catch (err) {
        // A full disk meets the seal as often as an entry: treat it like a failed append.
        await fh.truncate(from.size);
        this.abortRoll(from, err);
        return;
      }
      from.size += seal.length;
      from.sealed = true;
      this.usage += seal.length;
      this.tailFh = null;
      if (this.fsync === 'interval') {
        // Durable by the next tick, like the tail, not now: a 10 MiB flush per roll would stall
        // the appends behind it. The handle stays open until the tick has synced it.
        this.unsyncedSealed.push(fh);
        this.dataDirty = true;
        if (this.unsyncedSealed.length > MAX_UNSYNCED_SEALED) await this.syncSealed(1);
      } else {
        try {
          if (this.fsync === 'always') await fh.datasync();
        } finally {
          // Closed also when the sync fails: nothing else holds this handle any more.
          await fh.close();
        }
      }
      this.tailFh = await this.fs.open(this.segmentPath(to.id), 'wx');
      if (this.fsync !== 'never') await syncDir(this.fs, this.dir);
      to.created = true;
    } catch (err) {
      this.fail(err);
      return;
    }
    // A segment sealed with everything in it read is passed and unlinked now, not at the next
    // advance (which may be long in coming while the node is down): append() counted it freed.
    if (this.head.segment === from.id && this.head.offset >= dataEnd(from)) {
      void this.exclusive(() => this.passReadSegments()).catch((err: unknown) => {
        if (!(err instanceof QueueNotOpenError)) this.fail(err);
      });
    }
  }

  /** Moves a head left at the end of sealed segments onto the next one, durably; unlinks them. */
  private async passReadSegments(): Promise<void> {
    if (this.failure) return;
    const cur = this.cursorAtHead();
    this.settle(cur);
    if (cur.segment !== this.head.segment) await this.commit(cur, 0, true);
  }

  /**
   * Gives up a roll whose seal could not be written: `from` stays the tail, and every append
   * queued behind the roll (all meant for later segments) rejects with the same error; the next
   * append tries the roll again.
   */
  private abortRoll(from: Segment, err: unknown): void {
    this.ops = this.ops.filter((op) => {
      if (op instanceof WriteBatch) op.reject(err);
      return !(op instanceof WriteBatch) && op.kind === 'sync';
    });
    this.segments.splice(this.segmentIndex(from.id) + 1);
    this.tailReserved = from.size;
    this.reservedUsage = this.usage;
  }

  private async syncTail(waiter: Waiter): Promise<void> {
    try {
      if (this.failure) throw this.failure;
      this.dataDirty = false;
      if (this.tailFh) await this.tailFh.datasync();
      waiter.resolve();
    } catch (err) {
      waiter.reject(err);
      this.fail(err);
    }
  }

  /**
   * fdatasyncs and closes the oldest `count` sealed segments still waiting for it ('interval').
   * Each is taken off the list before its sync, so a roll and a tick never sync the same one.
   */
  private async syncSealed(count = Infinity): Promise<void> {
    const handles = this.unsyncedSealed.splice(0, count);
    let first: unknown = null;
    for (const fh of handles) {
      if (first === null) {
        try {
          await fh.datasync();
        } catch (err) {
          // Appends that resolved may have lost their bytes: the queue fails at once.
          first = err;
          this.fail(err);
        }
      }
      await fh.close().catch((err: unknown) => (first ??= err));
    }
    if (first !== null) throw first;
  }

  /** Marks the queue failed: queued and later appends/advances reject until reopen. */
  private fail(err: unknown): void {
    if (this.failure) return;
    this.failure = err instanceof QueueFailedError ? err : new QueueFailedError(this.dir, err);
    const queued = this.ops.splice(0);
    for (const op of queued) {
      if (op instanceof WriteBatch) op.reject(this.failure);
      else if (op.kind === 'sync') op.waiter.reject(this.failure);
    }
  }

  // ---------------------------------------------------------------- reads

  current(): Promise<Buffer | null> {
    // The head entry lying whole in its reader's window, with nothing queued before this call:
    // parsed here and now, without a walk to remember, a slab or a promise chain.
    if (this.state === 'open' && this.pending === 0) {
      const reader = this.stepSync(this.cursorAtHead());
      if (reader === null) return Promise.resolve(null);
      if (reader) return Promise.resolve(Buffer.from(reader.payloadView()));
    }
    return this.readHead(0, 1, null, 0).then(([first]) => first ?? null);
  }

  /**
   * The entries at the head, up to `maxBytes` of payload and `maxEntries` entries (at least one
   * when there is one, however large), without moving the head. With `skip`, they start `skip`
   * entries after the head (none when the backlog has no more), so a replayer can read batch
   * k+1 while batch k is in flight: peek(b, e) → k, peek(b, e, k.length) → k+1, advance(k.length).
   * The walk is remembered, so that advance and the next skipping peek start where it ended.
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

  /**
   * The entries `skip` past the head (at least one when there is one, however large). Records
   * lying in a reader's window are parsed without a promise each; payloads are copied out of the
   * window into shared slabs, since the window is reused. The walk is remembered for advance().
   */
  private readHead(
    maxBytes: number,
    maxEntries: number,
    times: number[] | null,
    skip: number,
  ): Promise<Buffer[]> {
    if (!(skip >= 0 && (Number.isInteger(skip) || skip === Infinity))) {
      return Promise.reject(new RangeError(`skip must be a whole number >= 0, got ${skip}`));
    }
    return this.exclusive(async () => {
      const out: Buffer[] = [];
      // The backlog counts every entry a walk can find (or more, when corruption ate some).
      if (skip > 0 && skip >= this.unreadEntries) return out;
      const walk = await this.walkFromHead(skip);
      const { cur, walked } = walk;
      let nextTime = walk.nextTime;
      if (walked < skip) {
        this.rememberWalk({ count: walked, cursor: cur, nextTime: null });
        await this.trimReaders(cur.segment);
        return out;
      }
      let bytes = 0;
      let taken = 0;
      const run = this.run;
      run.clear();
      while (taken < maxEntries) {
        const { segment, offset, consumedEntries, consumedBytes, dropEntries, dropBytes } = cur;
        let reader = this.stepSync(cur);
        if (reader === undefined) {
          // The read may move the window under the payloads of the run: copy them out first.
          run.flush(out);
          reader = await this.step(cur);
        }
        const length = reader ? reader.header.length : 0;
        if (!reader || (taken > 0 && bytes + length > maxBytes)) {
          nextTime = reader ? reader.header.appendedAt : null;
          // Back to just past the last entry taken: advance(n) must stop exactly there.
          Object.assign(cur, {
            segment,
            offset,
            consumedEntries,
            consumedBytes,
            dropEntries,
            dropBytes,
          });
          break;
        }
        nextTime = null;
        run.add(reader.window, reader.payloadStart, length, out);
        taken++;
        bytes += length;
        times?.push(reader.header.appendedAt);
      }
      run.flush(out);
      this.rememberWalk({ count: walked + out.length, cursor: cur, nextTime });
      await this.trimReaders(cur.segment);
      return out;
    });
  }

  /** The remembered walk reaching farthest without passing `n` entries, if any is current. */
  /**
   * A cursor `n` entries past the head (fewer at the end), walked from the nearest remembered
   * walk; `nextTime` is the append time of the entry after it when a walk knew it.
   */
  private async walkFromHead(
    n: number,
  ): Promise<{ cur: Cursor; walked: number; nextTime: number | null }> {
    const memo = this.nearestMemo(n);
    const cur = memo ? { ...memo.cursor } : this.cursorAtHead();
    let walked = memo ? memo.count : 0;
    const nextTime = memo && walked === n ? memo.nextTime : null;
    while (walked < n) {
      let reader = this.stepSync(cur);
      if (reader === undefined) reader = await this.step(cur);
      if (!reader) break;
      walked++;
    }
    return { cur, walked, nextTime };
  }

  private nearestMemo(n: number): PeekMemo | null {
    if (this.memoVersion !== this.headVersion) this.peekMemos = [];
    let best: PeekMemo | null = null;
    for (const m of this.peekMemos) if (m.count <= n && (!best || m.count > best.count)) best = m;
    return best;
  }

  private rememberWalk(memo: PeekMemo): void {
    if (this.memoVersion !== this.headVersion) this.peekMemos = [];
    this.memoVersion = this.headVersion;
    const memos = this.peekMemos.filter((m) => m.count !== memo.count);
    memos.push({ ...memo, cursor: { ...memo.cursor } });
    // The oldest walks go first: a pipelined replayer advances past them soonest.
    this.peekMemos = memos.slice(-MAX_PEEK_MEMOS);
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
    return this.exclusive(async () => {
      if (this.failure) throw this.failure;
      if (n <= 0) return;
      const farther = this.peekMemos.filter((m) => m.count > n);
      const { cur, walked: moved, nextTime } = await this.walkFromHead(n);
      if (moved === 0 && cur.segment === this.head.segment && cur.offset === this.head.offset)
        return;
      await this.commit(cur, moved, false, nextTime);
      // commit() settled `cur`: its drops are what the farther walks share up to the new head.
      this.peekMemos = farther.map((m) => ({
        count: m.count - moved,
        nextTime: m.nextTime,
        cursor: {
          ...m.cursor,
          dropEntries: m.cursor.dropEntries - cur.dropEntries,
          dropBytes: m.cursor.dropBytes - cur.dropBytes,
        },
      }));
      this.memoVersion = this.headVersion;
    });
  }

  purgeOlderThan(t: Date): Promise<PurgeResult> {
    return this.exclusive(async () => {
      if (this.failure) throw this.failure;
      const limit = t.getTime();
      const cur = this.cursorAtHead();
      // Whole segments first: their seal says they hold nothing as new as `t`, no read needed.
      for (;;) {
        const i = this.segmentIndex(cur.segment);
        const seg = this.segments[i];
        const next = this.segments[i + 1];
        if (!seg || !seg.sealed || !next?.created || seg.maxTime >= limit) break;
        cur.dropEntries += seg.entries - cur.consumedEntries;
        cur.dropBytes += seg.payloadBytes - cur.consumedBytes;
        Object.assign(cur, { segment: next.id, offset: 0, consumedEntries: 0, consumedBytes: 0 });
      }
      // Then head entries, one by one.
      let moved = 0;
      for (;;) {
        const probe = { ...cur };
        const reader = await this.step(probe);
        if (!reader || reader.header.appendedAt >= limit) break;
        Object.assign(cur, probe);
        moved++;
      }
      const before = this.segments.filter((s) => s.id < cur.segment).length;
      const result = { entries: cur.dropEntries, bytes: cur.dropBytes, segments: before };
      if (cur.segment !== this.head.segment || cur.offset !== this.head.offset)
        await this.commit(cur, moved, true);
      return result;
    });
  }

  /** Moves the head to `cur`, persists it per the policy, then unlinks segments it passed. */
  private async commit(
    cur: Cursor,
    moved: number,
    forceDurable = false,
    nextTime: number | null = null,
  ): Promise<void> {
    const saved = {
      head: this.head,
      headTime: this.headTime,
      unreadEntries: this.unreadEntries,
      unreadBytes: this.unreadBytes,
    };
    this.settle(cur);
    const crossed = cur.segment !== this.head.segment;
    this.setHead(cur);
    this.unreadEntries -= cur.dropEntries;
    this.unreadBytes -= cur.dropBytes;
    try {
      // The head's append time, for backlog().oldest: known from the peek, or one more parse.
      if (nextTime !== null) this.headTime = nextTime;
      else {
        const probe = this.cursorAtHead();
        let reader = this.stepSync(probe);
        if (reader === undefined) reader = await this.step(probe);
        this.headTime = reader ? reader.header.appendedAt : null;
      }
      this.advancedSinceWrite += moved;
      if (crossed || forceDurable || this.fsync === 'always') {
        await this.persistHead(true);
      } else if (this.advancedSinceWrite >= this.positionSyncEntries) {
        await this.persistHead(false);
      } else {
        this.positionDirty = true;
      }
    } catch (err) {
      // Nothing moved: a retried advance must not skip the entries this one failed to pass.
      this.setHead(saved.head);
      this.headTime = saved.headTime;
      this.unreadEntries = saved.unreadEntries;
      this.unreadBytes = saved.unreadBytes;
      throw err;
    }
    this.lastModifiedMs = this.now();
    // The advance happened (its position is durable), so a failed unlink must not reject it: a
    // retried advance would skip entries. The file stays, counted in diskUsage(), is retried at
    // the next segment crossing, and close() rejects if it still cannot be removed.
    if (crossed) await this.unlinkPassed().catch(() => undefined);
  }

  private async persistHead(durable: boolean): Promise<void> {
    if (!this.positionFile) return;
    await this.positionFile.write(this.head, durable);
    this.advancedSinceWrite = 0;
    this.positionDirty = false;
    this.positionUnsynced = !durable;
  }

  /**
   * Unlinks the segments before the head. Only called once a position past them is durable
   * (lesson 10). A segment whose unlink fails stays in the list for the next try.
   */
  private async unlinkPassed(): Promise<void> {
    const passed = this.segments.filter((s) => s.id < this.head.segment);
    if (passed.length === 0) return;
    let firstErr: unknown = null;
    for (const seg of passed) {
      await this.closeReader(seg.id);
      try {
        await this.fs.unlink(this.segmentPath(seg.id));
      } catch (err) {
        if (!isErrno(err, 'ENOENT')) {
          firstErr ??= err;
          continue;
        }
      }
      this.segments.splice(this.segmentIndex(seg.id), 1);
      this.usage -= seg.size;
      this.reservedUsage -= seg.size;
      this.corruptSkips.delete(seg.id);
    }
    if (firstErr) throw firstErr;
  }

  // ---------------------------------------------------------------- walking records

  /**
   * Moves a cursor at the end of a sealed segment to the start of the next one, so the position
   * stored passes the segment and it can be unlinked. Corrupt bytes left between the last entry
   * and the seal are read (and reported) by step() before it gets here.
   */
  private settle(cur: Cursor): void {
    for (;;) {
      const i = this.segmentIndex(cur.segment);
      const seg = this.segments[i];
      const next = this.segments[i + 1];
      if (!seg || !seg.sealed || !next?.created || cur.offset < dataEnd(seg)) return;
      cur.dropEntries += Math.max(0, seg.entries - cur.consumedEntries);
      cur.dropBytes += Math.max(0, seg.payloadBytes - cur.consumedBytes);
      Object.assign(cur, { segment: next.id, offset: 0, consumedEntries: 0, consumedBytes: 0 });
    }
  }

  private cursorAtHead(): Cursor {
    const h = this.head;
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
  private setHead(h: Head): void {
    this.head = {
      segment: h.segment,
      offset: h.offset,
      consumedEntries: h.consumedEntries,
      consumedBytes: h.consumedBytes,
    };
    this.headVersion++;
  }

  /**
   * step() without I/O, for an entry lying whole in its reader's window: moves `cur` past it and
   * returns the reader holding it (header, payload), null at the end of the queue, or undefined
   * when a read, damage or a reader still to open needs step().
   */
  private stepSync(cur: Cursor): SegmentReader | null | undefined {
    for (;;) {
      const i = this.segmentIndex(cur.segment);
      const seg = this.segments[i];
      if (!seg || !seg.created) return null;
      if (this.corruptSkips.size > 0 && this.corruptSkips.get(seg.id)?.has(cur.offset))
        return undefined;
      const reader = this.readers.get(seg.id)?.reader;
      if (!reader) return undefined;
      const status = reader.tryRecord(cur.offset, seg.size);
      if (status === RecordStatus.Entry) {
        moveOver(cur, reader);
        return reader;
      }
      if (status !== RecordStatus.End && status !== RecordStatus.Seal) return undefined;
      if (!this.passSegment(cur, i)) return null;
    }
  }

  /**
   * Reads the entry at `cur` and moves `cur` past it, stepping over corrupt regions (reported
   * once) and into the next segment when this one is sealed and the next exists. Returns the
   * reader holding the entry (valid until its next read), or null at the end.
   */
  private async step(cur: Cursor): Promise<SegmentReader | null> {
    for (;;) {
      const i = this.segmentIndex(cur.segment);
      const seg = this.segments[i];
      if (!seg || !seg.created) return null;
      const skipTo =
        this.corruptSkips.size > 0 ? this.corruptSkips.get(seg.id)?.get(cur.offset) : undefined;
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
      if (!this.passSegment(cur, i)) return null;
    }
  }

  /**
   * At the end of segment `i`'s data (its seal, or what is written so far): moves `cur` to the
   * next segment when this one is sealed and the next exists; false otherwise.
   */
  private passSegment(cur: Cursor, i: number): boolean {
    const seg = this.segments[i];
    const next = this.segments[i + 1];
    if (!seg.sealed || !next?.created) return false;
    // Entries the summary promised but corruption ate leave the backlog here, so it stays exact.
    cur.dropEntries += Math.max(0, seg.entries - cur.consumedEntries);
    cur.dropBytes += Math.max(0, seg.payloadBytes - cur.consumedBytes);
    cur.segment = next.id;
    cur.offset = 0;
    cur.consumedEntries = 0;
    cur.consumedBytes = 0;
    return true;
  }

  private async reportCorrupt(
    segment: number,
    offset: number,
    next: number,
    reason: string,
  ): Promise<void> {
    if (this.corruptSkips.get(segment)?.has(offset)) return;
    const bytes = next - offset;
    await this.copyAside(segment, offset, bytes, 'bin');
    let inSegment = this.corruptSkips.get(segment);
    if (!inSegment) this.corruptSkips.set(segment, (inSegment = new Map()));
    inSegment.set(offset, next);
    this.corruptSeen++;
    this.onCorrupt?.({ segment, offset, bytes, reason });
  }

  /** Copies damaged bytes to corrupt/<segment>-<offset>.<ext> in bounded chunks. */
  private async copyAside(
    segment: number,
    offset: number,
    bytes: number,
    ext: string,
  ): Promise<void> {
    const reader = await this.readerFor(segment);
    await mkdirDurable(this.fs, join(this.dir, CORRUPT_DIR));
    const out = await this.fs.open(join(this.dir, CORRUPT_DIR, `${segment}-${offset}.${ext}`), 'w');
    try {
      for (let done = 0; done < bytes;) {
        const chunk = await reader.readBytes(offset + done, Math.min(COPY_CHUNK, bytes - done));
        if (chunk.length === 0) break;
        await writeAll(out, [chunk], done);
        done += chunk.length;
      }
      await out.sync();
    } finally {
      await out.close();
    }
    // The copy's directory entry too: the segment holding the original is unlinked later.
    await syncDir(this.fs, join(this.dir, CORRUPT_DIR));
  }

  private async readerFor(segment: number): Promise<SegmentReader> {
    const open = this.readers.get(segment);
    if (open) return open.reader;
    const fh = await this.fs.open(this.segmentPath(segment), 'r');
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
    const at = this.segmentIndex(this.head.segment);
    const keep = this.segments.slice(at, at + 2).map((s) => s.id);
    keep.push(walkEnd);
    for (const id of [...this.readers.keys()]) {
      if (!keep.includes(id)) await this.closeReader(id);
    }
  }

  private async closeReader(segment: number): Promise<void> {
    const open = this.readers.get(segment);
    if (!open) return;
    this.readers.delete(segment);
    await open.reader.release();
    await open.fh.close();
  }

  // ---------------------------------------------------------------- open / recovery

  private async doOpen(): Promise<void> {
    this.resetState();
    await mkdirDurable(this.fs, this.dir);
    this.lock = new LockFile(this.fs, this.dir);
    await this.lock.acquire();
    const names = await this.fs.readdir(this.dir);
    const ids = names
      .map(parseSegmentFileName)
      .filter((n): n is number => n !== null)
      .sort((a, b) => a - b);

    this.positionFile = new PositionFile(this.fs, this.dir, this.now);
    const loaded = await this.positionFile.load();
    if (loaded.state === 'garbage') {
      this.onCorrupt?.({
        segment: 0,
        offset: 0,
        bytes: 0,
        reason: `garbage position file kept as ${loaded.keptAs}`,
      });
    }
    let pos: Head | null = loaded.state === 'ok' ? loaded.position : null;
    if (pos && !ids.includes(pos.segment)) {
      this.onCorrupt?.({
        segment: pos.segment,
        offset: pos.offset,
        bytes: 0,
        reason: 'position names a missing segment',
      });
      pos = null;
    }
    const kept = this.keptHead;
    if (kept && ids.includes(kept.segment) && (!pos || isAhead(kept, pos))) pos = kept;
    if (pos) {
      // Segments before a durable position were passed but not yet unlinked (a crash in between).
      if (pos === kept) await this.positionFile.write(kept, true);
      else await this.positionFile.sync();
      for (const id of ids.filter((x) => x < pos!.segment))
        await this.fs.unlink(this.segmentPath(id));
      ids.splice(0, ids.indexOf(pos.segment));
    }

    // Sealed segments cost a few calls each (open, stat, read the seal, close): many at once.
    const sealed = await mapBounded(ids.slice(0, -1), OPEN_CONCURRENCY, (id) =>
      this.loadSealed(id),
    );
    this.segments.push(...sealed);
    let scanned: { id: number; scan: ScanResult } | null = null;
    if (ids.length > 0) {
      const id = ids[ids.length - 1];
      const headOffset = pos && pos.segment === id ? pos.offset : 0;
      const { seg, scan } = await this.loadTail(id, headOffset);
      this.segments.push(seg);
      scanned = { id, scan };
    }
    this.missing = missingSegments(ids, this.segments[this.segments.length - 1]?.sealed ?? false);
    if (this.missing.length > 0) this.onMissingSegments?.(this.missing);
    const last = this.segments[this.segments.length - 1];
    if (!last || last.sealed) {
      const seg = emptySegment((last?.id ?? 0) + 1);
      this.tailFh = await this.fs.open(this.segmentPath(seg.id), 'wx');
      await syncDir(this.fs, this.dir);
      seg.created = true;
      this.segments.push(seg);
    }
    const tail = this.segments[this.segments.length - 1];
    if (!this.tailFh) this.tailFh = await this.fs.open(this.segmentPath(tail.id), 'r+');

    this.setHead(this.resolveHead(pos, scanned));
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
    this.tailReserved = tail.size;
    this.lastModifiedMs = scanned && scanned.scan.entries > 0 ? scanned.scan.lastTime : this.now();
    const probe = this.cursorAtHead();
    const first = await this.step(probe);
    this.headTime = first ? first.header.appendedAt : null;
    try {
      await this.persistHead(true);
    } catch (err) {
      // A full disk must not keep the queue from opening (draining it is what frees space): the
      // position on disk is still a valid one, at or before this head; the next write retries.
      if (!isNoSpace(err)) throw err;
      this.positionDirty = true;
    }
    if (this.fsync !== 'always') {
      this.timer = setInterval(() => this.tick(), this.fsyncIntervalMs);
      this.timer.unref();
    }
  }

  /** A non-tail segment: its seal gives the summary; without one (crash after a roll) scan once and seal it. */
  private async loadSealed(id: number): Promise<Segment> {
    const fh = await this.fs.open(this.segmentPath(id), 'r+');
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
        if (scan.validEnd < size) await this.truncateTorn(fh, reader, id, scan.validEnd, size);
        return { id, size: scan.validEnd, ...pickSummary(scan), sealed: true, created: true };
      }
      if (scan.validEnd < size) await this.truncateTorn(fh, reader, id, scan.validEnd, size);
      const seal = encodeSeal(id, scan.validEnd, scan, this.now());
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
    const fh = await this.fs.open(this.segmentPath(id), 'r+');
    const reader = new SegmentReader(fh, id);
    try {
      const { size } = await fh.stat();
      const scan = await scanSegment(reader, size, headOffset);
      if (scan.validEnd < size) await this.truncateTorn(fh, reader, id, scan.validEnd, size);
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
  private async truncateTorn(
    fh: QueueFileHandle,
    reader: SegmentReader,
    id: number,
    validEnd: number,
    size: number,
  ): Promise<void> {
    const kind = await classifyCut(fh, validEnd, size);
    const ext = kind === 'torn' ? 'torn' : 'bin';
    const copy = join(this.dir, CORRUPT_DIR, `${id}-${validEnd}.${ext}`);
    try {
      await this.keepCut(reader, copy, validEnd, size);
    } catch (err) {
      // A full disk: the bytes stay where they are, past the data end the queue uses, and are
      // overwritten by the next appends (or cut at a later open, when there is room to keep them).
      if (!isNoSpace(err)) throw err;
      await this.fs.unlink(copy).catch(() => undefined);
      return;
    }
    await fh.truncate(validEnd);
    await fh.datasync();
    reader.reset();
    if (kind === 'damaged') {
      this.corruptSeen++;
      this.onCorrupt?.({
        segment: id,
        offset: validEnd,
        bytes: size - validEnd,
        reason: 'damaged last record (a complete record, not a torn write), cut off',
      });
    }
  }

  /** Copies the bytes from `validEnd` to `size` to `copy`, durably (file and directory entry). */
  private async keepCut(
    reader: SegmentReader,
    copy: string,
    validEnd: number,
    size: number,
  ): Promise<void> {
    await mkdirDurable(this.fs, join(this.dir, CORRUPT_DIR));
    const out = await this.fs.open(copy, 'w');
    try {
      for (let done = 0; done < size - validEnd;) {
        const chunk = await reader.readBytes(
          validEnd + done,
          Math.min(COPY_CHUNK, size - validEnd - done),
        );
        if (chunk.length === 0) break;
        await writeAll(out, [chunk], done);
        done += chunk.length;
      }
      await out.sync();
    } finally {
      await out.close();
    }
    // The copy's directory entry too, before the only other copy is cut off.
    await syncDir(this.fs, join(this.dir, CORRUPT_DIR));
  }

  private resolveHead(pos: Head | null, tail: { id: number; scan: ScanResult } | null): Head {
    const oldest: Head = {
      segment: this.segments[0].id,
      offset: 0,
      consumedEntries: 0,
      consumedBytes: 0,
    };
    if (!pos) return oldest;
    const seg = this.segments.find((s) => s.id === pos.segment);
    if (!seg) return oldest;
    const end = dataEnd(seg);
    if (tail && seg.id === tail.id) {
      // The tail was just scanned: trust its counts over the stored ones.
      if (pos.offset >= end) {
        // Whatever lay past the end was torn off: nothing is left there to skip.
        return {
          segment: seg.id,
          offset: end,
          consumedEntries: seg.entries,
          consumedBytes: seg.payloadBytes,
        };
      }
      if (!tail.scan.headIsBoundary) {
        this.onCorrupt?.({
          segment: seg.id,
          offset: pos.offset,
          bytes: 0,
          reason: 'position is not at a record boundary',
        });
        return oldest;
      }
      return {
        segment: seg.id,
        offset: pos.offset,
        consumedEntries: tail.scan.entriesBefore,
        consumedBytes: tail.scan.bytesBefore,
      };
    }
    if (
      pos.offset > end ||
      pos.consumedEntries > seg.entries ||
      pos.consumedBytes > seg.payloadBytes
    ) {
      this.onCorrupt?.({
        segment: seg.id,
        offset: pos.offset,
        bytes: 0,
        reason: 'position past the end of its segment',
      });
      return oldest;
    }
    return pos;
  }

  private tick(): void {
    if (this.ticking || this.state !== 'open' || this.failure) return;
    // An idle queue holds no batch buffers (a relay has one queue per node).
    if (this.appendedSinceTick === 0 && !this.flushing) this.batchBuffers.clear();
    this.appendedSinceTick = 0;
    this.ticking = true;
    const work = async () => {
      if (this.dataDirty && this.fsync === 'interval') {
        this.dataDirty = false;
        // Sealed segments first: none of them is written any more, so no need to wait for writes.
        await this.syncSealed();
        // The tail in the write loop, once the writes in flight are done (measured: an fdatasync
        // beside the writes slows them as much as it saves).
        await new Promise<void>((resolve, reject) => {
          this.ops.push({ kind: 'sync', waiter: { resolve, reject } });
          this.kick();
        });
      }
      if (this.positionDirty || this.advancedSinceWrite > 0 || this.positionUnsynced) {
        await this.exclusive(() => this.persistHead(this.fsync === 'interval'));
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

  private assertOpen(): void {
    if (this.state !== 'open') throw new QueueNotOpenError(this.dir);
  }

  private segmentIndex(id: number): number {
    // Segments are few and sorted; the head is almost always at index 0.
    for (let i = 0; i < this.segments.length; i++) if (this.segments[i].id === id) return i;
    return -1;
  }

  private segmentPath(id: number): string {
    return join(this.dir, segmentFileName(id));
  }

  private resetState(): void {
    this.failure = null;
    this.segments = [];
    this.readers = new Map();
    this.head = { segment: 1, offset: 0, consumedEntries: 0, consumedBytes: 0 };
    this.headTime = null;
    this.unreadEntries = 0;
    this.unreadBytes = 0;
    this.usage = 0;
    this.corruptSeen = 0;
    this.corruptSkips = new Map();
    this.peekMemos = [];
    this.headVersion++;
    this.advancedSinceWrite = 0;
    this.positionDirty = false;
    this.tailFh = null;
    this.tailReserved = 0;
    this.reservedUsage = 0;
    this.ops = [];
    this.inFlight = [];
    this.unsyncedSealed = [];
    this.issuing = null;
    this.writeAt = 0;
    this.batchBuffers.clear();
    this.dataDirty = false;
    this.chain = Promise.resolve();
  }

  private async releaseAll(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    let first: unknown = null;
    const open = [...this.readers.values()];
    this.readers.clear();
    for (const r of open) await r.reader.idle();
    const handles = open.map((r) => r.fh);
    handles.push(...this.unsyncedSealed.splice(0));
    if (this.tailFh) handles.push(this.tailFh);
    this.tailFh = null;
    for (const fh of handles) await fh.close().catch((err) => (first ??= err));
    if (this.positionFile) await this.positionFile.close().catch((err) => (first ??= err));
    this.positionFile = null;
    if (this.lock) await this.lock.release().catch((err) => (first ??= err));
    this.lock = null;
    if (first) throw first;
  }
}

function isAhead(a: Head, b: Head): boolean {
  return a.segment > b.segment || (a.segment === b.segment && a.offset > b.offset);
}

/** Moves `cur` past the entry `reader` just parsed. */
function moveOver(cur: Cursor, reader: SegmentReader): void {
  const length = reader.header.length;
  cur.offset = reader.next;
  cur.consumedEntries++;
  cur.consumedBytes += length;
  cur.dropEntries++;
  cur.dropBytes += length;
}

function emptySegment(id: number): Segment {
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
function dataEnd(seg: Segment): number {
  return seg.sealed ? seg.size - SEAL_SIZE : seg.size;
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

import { QueueFailedError, QueueFullError, QueueNotOpenError, SegmentFullError } from './errors';
import { type QueueConfig } from './queue-config';
import { syncDir, writeAll, type QueueFileHandle } from './queue-fs';
import { dataEnd, emptySegment, type Segment, type SegmentLedger } from './segment-ledger';
import { encodeSeal, recordSize, SEAL_SIZE } from './segment-format';
import { UnsyncedSealed } from './unsynced-sealed';
import { type BatchBufferPool, WriteBatch } from './write-batch';

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

const yieldToIo = () => new Promise<void>((r) => setImmediate(r));

/**
 * The write side: appends, group commit, the roll to a new segment, and the syncs.
 *
 * Appends are framed at once into a batch buffer (sonic-boom style: concurrent appends share one
 * buffer and one promise). The write loop checksums a batch and writes it at its known offset
 * (positional writes), with up to four writes in flight, so the next batch is checksummed while
 * the one before is written; batches settle strictly in order, each once its bytes are in the
 * page cache ('interval', 'never'), or in 'always' mode after one fdatasync for the whole batch
 * (group commit: a batch is written only once the one before it is durable).
 *
 * After a failed write, its batch and every batch written after it reject with the I/O error
 * (their bytes would sit behind a hole), and once the writes in flight are done the file is
 * truncated back to where that batch began, so the queue goes on (a full disk may free up).
 * When the truncate or an fdatasync fails, the state of the file is unknown (a failed fdatasync
 * may have dropped dirty pages): the writer is then failed (`failure`) and every append/advance
 * rejects with QueueFailedError until the queue is closed and reopened, which re-scans the tail.
 *
 * In 'interval' mode the timer tick makes everything written durable: first the segments sealed
 * since the last tick (not at the roll: a 10 MiB flush there stalled the appends behind it), then
 * the tail, in the write loop once the writes in flight are done.
 */
export class TailWriter {
  /** Set when the file's state is unknown: everything rejects with it until reopen. */
  failure: QueueFailedError | null = null;
  /** The tail segment's file, open for writes; set at open. */
  tailFh: QueueFileHandle | null = null;
  private ops: WriteOp[] = [];
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
  private readonly sealed = new UnsyncedSealed((err) => this.fail(err));
  private wakeQueued = false;
  private flushIdle: Promise<void> = Promise.resolve();
  /** Bytes written since the last tail sync ('interval'). */
  private dataDirty = false;

  constructor(
    private readonly config: QueueConfig,
    private readonly ledger: SegmentLedger,
    private readonly batchBuffers: BatchBufferPool,
    /** A roll sealed the segment the head had read to its end: the queue passes it. */
    private readonly onSealedRead: () => void,
  ) {}

  /** Opens the tail for appends: a new segment after a sealed last one (or in an empty dir). */
  async openTail(): Promise<void> {
    const { fs } = this.config;
    const last = this.ledger.segments[this.ledger.segments.length - 1];
    if (!last || last.sealed) {
      const seg = emptySegment((last?.id ?? 0) + 1);
      this.tailFh = await fs.open(this.config.segmentPath(seg.id), 'wx');
      await syncDir(fs, this.config.dir);
      seg.created = true;
      this.ledger.segments.push(seg);
    }
    const tail = this.ledger.tail();
    if (!this.tailFh) this.tailFh = await fs.open(this.config.segmentPath(tail.id), 'r+');
  }

  append(payload: Uint8Array): Promise<void> {
    if (this.failure) throw this.failure;
    const { maxSize, maxSegmentSize } = this.config;
    const ledger = this.ledger;
    const size = recordSize(payload.length);
    if (size + SEAL_SIZE > maxSegmentSize) throw new SegmentFullError(size, maxSegmentSize);
    const roll = ledger.tailReserved > 0 && ledger.tailReserved + size + SEAL_SIZE > maxSegmentSize;
    // A tail read to its end is freed by the roll (see roll()): without this, a queue whose
    // maxSize is below two segments refused every roll once it had been full, even empty.
    const freed = roll && ledger.tailIsRead() ? ledger.tailReserved : 0;
    if (ledger.reservedUsage - freed + size + (roll ? SEAL_SIZE : 0) > maxSize) {
      throw new QueueFullError(this.config.dir, maxSize);
    }
    if (roll) this.queueRoll();
    const batch = this.openBatch(size);
    batch.add(payload, this.config.now(), this.batchBuffers);
    ledger.tailReserved += size;
    ledger.reservedUsage += size;
    this.appendedSinceTick++;
    this.kick();
    return batch.done;
  }

  /** Makes every append resolved so far durable (sealed segments, then the tail). */
  async sync(): Promise<void> {
    if (this.failure) throw this.failure;
    await this.syncAll();
  }

  /** The timer tick: an idle queue lets its batch buffers go (a relay has one queue per node). */
  tick(): void {
    if (this.appendedSinceTick === 0 && !this.flushing) this.batchBuffers.clear();
    this.appendedSinceTick = 0;
  }

  /** 'interval': what the tick makes durable, when anything was written since the last one. */
  async syncForTick(): Promise<void> {
    if (!this.dataDirty || this.config.fsync !== 'interval') return;
    this.dataDirty = false;
    await this.syncAll();
  }

  private async syncAll(): Promise<void> {
    // Sealed segments first: none of them is written any more, so no need to wait for writes.
    await this.syncSealed();
    // The tail in the write loop, once the writes in flight are done (measured: an fdatasync
    // beside the writes slows them as much as it saves).
    await new Promise<void>((resolve, reject) => {
      this.ops.push({ kind: 'sync', waiter: { resolve, reject } });
      this.kick();
    });
  }

  /** At close: waits until the write loop has nothing left. */
  async drain(): Promise<void> {
    while (this.flushing) await this.flushIdle;
  }

  /** At close: the tail's bytes durable. */
  async syncTailNow(): Promise<void> {
    if (this.tailFh) await this.tailFh.datasync();
  }

  /** Hands over every file handle the writer holds, for the queue to close. */
  detach(): QueueFileHandle[] {
    const handles = this.sealed.detach();
    if (this.tailFh) handles.push(this.tailFh);
    this.tailFh = null;
    return handles;
  }

  /** Marks the queue failed: queued and later appends/advances reject until reopen. */
  fail(err: unknown): void {
    if (this.failure) return;
    this.failure =
      err instanceof QueueFailedError ? err : new QueueFailedError(this.config.dir, err);
    const queued = this.ops.splice(0);
    for (const op of queued) {
      if (op instanceof WriteBatch) op.reject(this.failure);
      else if (op.kind === 'sync') op.waiter.reject(this.failure);
    }
  }

  /** fdatasyncs and closes the oldest `count` sealed segments still waiting for it ('interval'). */
  syncSealed(count = Infinity): Promise<void> {
    return this.sealed.sync(count);
  }

  /** The batch still filling for the tail segment, or a new one: its records share one write. */
  private openBatch(size: number): WriteBatch<Segment> {
    const seg = this.ledger.tail();
    const last = this.ops[this.ops.length - 1];
    if (last instanceof WriteBatch && last.seg === seg && last.fits(size)) return last;
    const batch = new WriteBatch(seg, this.batchBuffers.take(size));
    this.ops.push(batch);
    return batch;
  }

  private queueRoll(): void {
    const from = this.ledger.tail();
    const to = emptySegment(from.id + 1);
    this.ledger.segments.push(to);
    this.ops.push({ kind: 'roll', from, to });
    this.ledger.reservedUsage += SEAL_SIZE;
    this.ledger.tailReserved = 0;
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
          this.dropBatch(op, this.failure ?? new QueueNotOpenError(this.config.dir));
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
        if (this.config.fsync === 'always' && this.inFlight.length > 0) return;
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
      this.config.fsync !== 'always' &&
      !this.issuing &&
      this.inFlight.length < MAX_WRITES_IN_FLIGHT;
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
    if (this.config.fsync === 'always') {
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
    const ledger = this.ledger;
    const wasEmpty = ledger.unreadEntries <= 0;
    if (seg.entries === 0) seg.firstTime = batch.firstTime;
    seg.entries += batch.count;
    seg.payloadBytes += batch.payloadBytes;
    seg.maxTime = Math.max(seg.maxTime, batch.maxTime);
    seg.size += bytes;
    ledger.usage += bytes;
    ledger.unreadEntries += batch.count;
    ledger.unreadBytes += batch.payloadBytes;
    if (wasEmpty) ledger.headTime = batch.firstTime;
    ledger.lastModifiedMs = batch.lastTime;
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
    this.ledger.reservedUsage -= bytes;
    if (seg === this.ledger.tail()) {
      this.ledger.tailReserved = Math.max(seg.size, this.ledger.tailReserved - bytes);
    }
  }

  /**
   * Seals `from` and makes `to` the tail. The successor's file is created (and its directory
   * entry synced) BEFORE the seal is written: a sealed segment is then always followed by a file,
   * so recovery can keep reading a sealed last segment with no successor as a deleted (lost)
   * tail. In the other order a create failing for want of descriptors or space left exactly that
   * state and a false "entries are lost" alarm at the next open. A failed create or directory
   * sync fails the queue before any seal (the reopen finds `from` unsealed, alone or before an
   * empty successor, which recovery seals like any segment a crash left unsealed after a roll);
   * a failed seal write undoes the roll (successor unlinked, `from` stays the tail).
   */
  private async roll(from: Segment, to: Segment): Promise<void> {
    if (this.failure) return;
    const { fs, fsync } = this.config;
    const fh = this.tailFh;
    if (!fh) {
      this.fail(new QueueNotOpenError(this.config.dir));
      return;
    }
    const nextPath = this.config.segmentPath(to.id);
    let next: QueueFileHandle;
    try {
      next = await fs.open(nextPath, 'wx');
    } catch (err) {
      // No seal written: the reopen finds `from` still the unsealed tail.
      this.fail(err);
      return;
    }
    try {
      if (fsync !== 'never') await syncDir(fs, this.config.dir);
      const seal = encodeSeal(from.id, from.size, from, this.config.now());
      try {
        await writeAll(fh, [seal], from.size);
      } catch (err) {
        // A full disk meets the seal as often as an entry: treat it like a failed append.
        await fh.truncate(from.size);
        await next.close();
        await fs.unlink(nextPath);
        this.abortRoll(from, err);
        return;
      }
      from.size += SEAL_SIZE;
      from.sealed = true;
      this.ledger.usage += SEAL_SIZE;
      this.tailFh = next;
      to.created = true;
      if (fsync === 'interval') {
        // Durable by the next tick, like the tail, not now (see UnsyncedSealed).
        this.dataDirty = true;
        await this.sealed.add(fh);
      } else {
        try {
          if (fsync === 'always') await fh.datasync();
        } finally {
          // Closed also when the sync fails: nothing else holds this handle any more.
          await fh.close();
        }
      }
    } catch (err) {
      if (this.tailFh !== next) await next.close().catch(() => undefined);
      this.fail(err);
      return;
    }
    // A segment sealed with everything in it read is passed and unlinked now, not at the next
    // advance (which may be long in coming while the node is down): append() counted it freed.
    const head = this.ledger.head;
    if (head.segment === from.id && head.offset >= dataEnd(from)) this.onSealedRead();
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
    this.ledger.segments.splice(this.ledger.segmentIndex(from.id) + 1);
    this.ledger.tailReserved = from.size;
    this.ledger.reservedUsage = this.ledger.usage;
  }

  private async syncTail(waiter: Waiter): Promise<void> {
    try {
      if (this.failure) throw this.failure;
      this.dataDirty = false;
      // Segments sealed since the tick synced the sealed list (a roll while this sync waited
      // its turn) go first: the tail durable before an older segment is a gap after a power loss.
      await this.syncSealed();
      if (this.tailFh) await this.tailFh.datasync();
      waiter.resolve();
    } catch (err) {
      waiter.reject(err);
      this.fail(err);
    }
  }
}

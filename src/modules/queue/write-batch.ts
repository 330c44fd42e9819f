import { checksumGroupAt, frameRecordInto, KIND_ENTRY, recordSize } from './segment-format';

/** A batch stops growing here: bounded memory per write (a larger single record gets its own). */
export const MAX_BATCH_BYTES = 4 * 1024 * 1024;
const FIRST_BATCH_BYTES = 256 * 1024;
/** Buffers kept for reuse: the ones being written and the one filling behind them. */
const POOL_SIZE = 3;

/**
 * Appends waiting for one write: their records framed straight into one buffer (no buffer per
 * record, no concatenation), and one promise that every append of the batch returns, settled
 * once the write (and in 'always' mode its fdatasync) is done. A batch is open until the write
 * loop takes it; after that nothing joins it. The loop checksums the records just before it writes
 * them (checksumUpTo), so that checksumming one batch overlaps the writes of the batches before.
 */
export class WriteBatch<S> {
  length = 0;
  count = 0;
  payloadBytes = 0;
  firstTime = 0;
  lastTime = 0;
  maxTime = 0;
  /** Records before this offset have their checksum. */
  checksummed = 0;
  readonly done: Promise<void>;
  resolve!: () => void;
  reject!: (err: unknown) => void;

  constructor(
    /** The segment these records go to. */
    readonly seg: S,
    public buf: Buffer,
  ) {
    this.done = new Promise<void>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
  }

  /** Whether a record of `size` bytes may still join (growing the buffer up to MAX_BATCH_BYTES). */
  fits(size: number): boolean {
    return this.length + size <= Math.max(this.buf.length, MAX_BATCH_BYTES);
  }

  add(payload: Uint8Array, time: number, pool: BatchBufferPool): void {
    const end = this.length + recordSize(payload.length);
    if (end > this.buf.length) this.buf = pool.grow(this.buf, this.length, end);
    this.length = frameRecordInto(this.buf, this.length, KIND_ENTRY, payload, time);
    if (this.count === 0) this.firstTime = time;
    this.count++;
    this.payloadBytes += payload.length;
    this.lastTime = time;
    if (time > this.maxTime) this.maxTime = time;
  }

  /**
   * Groups and checksums whole records from `checksummed` on until at least `end` (or the last
   * record); returns the new `checksummed`, a group boundary: bytes before it are ready to be
   * written. Groups never span two batches: a batch's write may fail alone.
   */
  checksumUpTo(end: number): number {
    let at = this.checksummed;
    const stop = Math.min(end, this.length);
    while (at < stop) at = checksumGroupAt(this.buf, at, this.length);
    this.checksummed = at;
    return at;
  }
}

/**
 * Batch buffers for reuse, so a steady stream of appends allocates nothing per batch. Buffers
 * keep the size they grew to (up to MAX_BATCH_BYTES); clear() drops them when the queue idles.
 */
export class BatchBufferPool {
  private free: Buffer[] = [];

  take(size: number): Buffer {
    const i = this.free.findIndex((b) => b.length >= size);
    if (i >= 0) return this.free.splice(i, 1)[0];
    return Buffer.allocUnsafeSlow(Math.max(size, FIRST_BATCH_BYTES));
  }

  /** A larger buffer holding the first `used` bytes of `buf` (rare once the pool holds grown buffers). */
  grow(buf: Buffer, used: number, needed: number): Buffer {
    const size = Math.max(needed, Math.min(MAX_BATCH_BYTES, buf.length * 2));
    const bigger = Buffer.allocUnsafeSlow(size);
    buf.copy(bigger, 0, 0, used);
    return bigger;
  }

  give(buf: Buffer): void {
    if (buf.length > MAX_BATCH_BYTES) return;
    if (this.free.length < POOL_SIZE) this.free.push(buf);
    else {
      // Keep the largest ones: they are the ones a steady stream needs.
      const smallest = this.free.reduce((m, b, i) => (b.length < this.free[m].length ? i : m), 0);
      if (this.free[smallest].length < buf.length) this.free[smallest] = buf;
    }
  }

  clear(): void {
    this.free = [];
  }
}

import type { QueueFileHandle } from './queue-fs';
import {
  checksumMatches,
  decodeHeaderInto,
  decodeSealPayload,
  HEADER_SIZE,
  KIND_SEAL,
  newHeader,
  type RecordHeader,
  type SegmentSummary,
} from './segment-format';
import { type WindowPool } from './window-pool';

/**
 * Bounded reads: memory stays flat however large the backlog (three windows per open reader).
 * Each read call costs the main thread tens of microseconds (the hand-off to the thread pool and
 * back). 1 MiB: once windows were reused, 1 MiB reads drained 64 KiB entries ~15 % faster than
 * 512 KiB ones (bench, 1 GiB); 2 MiB were no faster and cost more memory.
 */
export const READ_CHUNK_SIZE = 1024 * 1024;
/**
 * Room in front of each window for the unread tail of the previous one: a record cut by the end
 * of a window is completed by copying its start in front of the read-ahead, not by reading again.
 * With 64 KiB, a 256 KiB write body (a Telegraf batch) cut by a window's end dropped the reads
 * ahead and read again, and those entries drained at half the speed. A record larger than this
 * cut by a window's end is read again from its start (1 MiB of carry room drained no faster).
 */
const CARRY_SIZE = 512 * 1024;
/** Loads loadWhole() makes for one record before it gives up (see there). */
const MAX_LOADS_PER_RECORD = 8;
/** Reads in flight ahead of a reader's window (see readAhead). */
const READ_AHEAD = 2;

export type ReadResult =
  | { type: 'entry'; payload: Buffer; appendedAt: number; next: number }
  | { type: 'seal'; summary: SegmentSummary; next: number }
  /** `offset` is at or past `limit`: nothing more to read here (yet). */
  | { type: 'end' }
  /**
   * Bytes [offset, next) are not a valid record. `next` is the next offset where a valid record
   * (magic, sane header, matching checksum) starts, or `limit` when none does (`resynced` false).
   */
  | { type: 'corrupt'; next: number; reason: string; resynced: boolean };

/** What tryRecord()/next() found; the details are in the reader's fields. */
export enum RecordStatus {
  /** An entry: `header`, `next`, and the payload via payloadView() / sharedPayload(). */
  Entry,
  /** The segment's seal: `summary`, `next`. */
  Seal,
  /** `offset` is at or past `limit`. */
  End,
  /** Not a valid record: `reason`. (next() turns this into Corrupt.) */
  Invalid,
  /** Only tryRecord(): the record does not lie whole in the window; call next(). */
  NeedRead,
  /** Only next(): bytes [offset, next) are damaged; `resynced` as in ReadResult. */
  Corrupt,
}

interface ReadAhead {
  /** File offset the read starts at; its bytes land at CARRY_SIZE in `buf`. */
  at: number;
  /** Bytes asked for. */
  size: number;
  buf: Buffer;
  done: Promise<number>;
  /** Bytes read, once the read succeeded (null before): the window may move onto it without a promise. */
  bytes: number | null;
  error: unknown;
  /** Set by reset(): the file changed underneath, whatever this read returns is discarded. */
  stale: boolean;
}

/**
 * Reads the records of one segment file through a bounded window (three buffers: the window and
 * the two reads ahead filling behind it, so reads overlap parsing), reused from read to read.
 * A window a payload was handed out of goes to the pool's held windows when the reader moves on,
 * and is read into again only once the queue's head passed that payload.
 *
 * tryRecord() parses synchronously when the record lies whole in the window: the read loop of the
 * queue makes no promise per record. What it finds is left in this reader's fields; payloadView()
 * is only valid until the window moves, sharedPayload() until the head passes the entry.
 * readAt() is the plain API for offline tools: a result object with a payload of its own.
 *
 * `limit` is how many bytes of the file may be read: the written size of a segment still being
 * appended to, so a reader never sees a record that is only half written.
 */
export class SegmentReader {
  /** Window: file bytes [winStart, winStart + winEnd - winFrom) are in win[winFrom, winEnd). */
  private win: Buffer = Buffer.alloc(0);
  private winFrom = 0;
  private winEnd = 0;
  private winStart = 0;
  /** A payload view of the window was handed out: it is read into again only once the head passed it. */
  private winShared = false;
  /** File offset just past the last payload handed out of the window. */
  private winMark = 0;
  /** Window-sized buffers free for the next read. */
  private spares: Buffer[] = [];
  /** Reads ahead of the window, in file order, each starting where the one before ends. */
  private aheads: ReadAhead[] = [];
  /** Changes whenever the window's bytes change, so the verified group is only trusted in its window. */
  private gen = 0;
  /** The last record group whose checksum matched: [verifiedFrom, verifiedTo) of window `verifiedGen`. */
  private verifiedFrom = -1;
  private verifiedTo = -1;
  private verifiedGen = -1;
  /** Headers of a group being verified (not `header`, which holds the record asked for). */
  private readonly groupHeader: RecordHeader = newHeader();

  /** Filled by tryRecord()/next(). */
  readonly header: RecordHeader = newHeader();
  summary: SegmentSummary | null = null;
  next = 0;
  reason = '';
  resynced = false;
  private payloadAt = 0;
  /** What tryRecord() needed in the window when it answered NeedRead: `needed` bytes from `needAt`. */
  private needAt = 0;
  private needed = 0;

  constructor(
    private readonly fh: QueueFileHandle,
    readonly segment: number,
    private readonly chunkSize = READ_CHUNK_SIZE,
    private readonly pool: WindowPool | null = null,
  ) {}

  // ---------------------------------------------------------------- the record loop

  /**
   * The record at `offset`, parsed in the window without I/O; NeedRead when it is not in the
   * window whole (with its group, when that still needs its checksum). The group of the record
   * last checked is remembered with the window: its other records, and a record parsed again (a
   * peek stops on the entry past its budget, and the next peek or advance starts there), are
   * not checksummed again.
   */
  tryRecord(offset: number, limit: number): RecordStatus {
    if (offset >= limit) return RecordStatus.End;
    if (limit - offset < HEADER_SIZE) return this.invalid('truncated header');
    const at = offset - this.winStart + this.winFrom;
    if (offset < this.winStart || at + HEADER_SIZE > this.winEnd) {
      return this.needRead(offset, HEADER_SIZE);
    }
    const h = decodeHeaderInto(this.win, at, this.header);
    if (typeof h === 'string') return this.invalid(h);
    const size = HEADER_SIZE + h.length;
    if (offset + size > limit) return this.invalid('record runs past the end');
    if (at + size > this.winEnd) return this.needRead(offset, size);
    const trusted =
      this.gen === this.verifiedGen &&
      offset + size <= this.verifiedTo &&
      offset - h.back === this.verifiedFrom;
    if (!trusted) {
      const status = this.verifyGroup(offset - h.back, offset, limit);
      if (status !== null) return status;
    }
    this.next = offset + size;
    this.payloadAt = at + HEADER_SIZE;
    if (h.kind === KIND_SEAL) {
      this.summary = decodeSealPayload(this.payloadView(), this.segment, offset);
      if (!this.summary) return this.invalid('seal of another segment or offset');
      return RecordStatus.Seal;
    }
    return RecordStatus.Entry;
  }

  /**
   * Checks the group led by the record at `leader`, which must hold a record starting at
   * `offset`: walks its headers, then one crc32 over the whole group. Null when it holds, else
   * NeedRead (the group is not in the window whole) or Invalid.
   */
  private verifyGroup(leader: number, offset: number, limit: number): RecordStatus | null {
    if (leader < 0) return this.invalid('follower without its group');
    if (leader < this.winStart) return this.needRead(leader, offset + HEADER_SIZE - leader);
    const g = this.groupHeader;
    const base = this.winFrom - this.winStart;
    let crc = 0;
    let count = 1;
    let found = false;
    let p = leader;
    for (let i = 0; i < count; i++) {
      if (p + HEADER_SIZE > limit) return this.invalid('record runs past the end');
      if (p + HEADER_SIZE + base > this.winEnd)
        return this.needRead(leader, p + HEADER_SIZE - leader);
      const h = decodeHeaderInto(this.win, p + base, g);
      if (typeof h === 'string') return this.invalid(h);
      if (i === 0) {
        if (h.count === 0) return this.invalid('follower without its group');
        count = h.count;
        crc = h.crc;
      } else if (h.count !== 0 || h.back !== p - leader) {
        return this.invalid('broken record group');
      }
      if (p === offset) found = true;
      const end = p + HEADER_SIZE + h.length;
      if (end > limit) return this.invalid('record runs past the end');
      if (end + base > this.winEnd) return this.needRead(leader, end - leader);
      p = end;
    }
    if (!found) return this.invalid('not a record boundary');
    g.crc = crc;
    if (!checksumMatches(this.win, leader + base, g, p + base)) {
      return this.invalid('checksum mismatch');
    }
    this.verifiedFrom = leader;
    this.verifiedTo = p;
    this.verifiedGen = this.gen;
    return null;
  }

  private needRead(at: number, bytes: number): RecordStatus {
    this.needAt = at;
    this.needed = bytes;
    return RecordStatus.NeedRead;
  }

  /** tryRecord() with reads as needed; damage is resynced past and answered as Corrupt. */
  async nextRecord(offset: number, limit: number): Promise<RecordStatus> {
    let status = await this.loadWhole(offset, limit);
    // The file holds fewer bytes than `limit` promised: nothing whole can be read here.
    if (status === RecordStatus.NeedRead) {
      status = this.invalid(
        this.needed === HEADER_SIZE ? 'truncated header' : 'record runs past the end',
      );
    }
    if (status !== RecordStatus.Invalid) return status;
    const reason = this.reason;
    const next = await this.resync(offset + 1, limit);
    this.reason = reason;
    this.next = next;
    this.resynced = next < limit;
    return RecordStatus.Corrupt;
  }

  /** The payload of the entry just parsed, as a view of the window (valid until it moves). */
  payloadView(): Buffer {
    return this.win.subarray(this.payloadAt, this.payloadAt + this.header.length);
  }

  /**
   * The payload of the entry just parsed as a view that stays valid until the queue's head passes
   * the entry: the window is marked handed out up to it, and when the reader moves on the pool
   * holds it until then (see WindowPool). Copying payloads out was a tenth of a drain of 1 KiB
   * entries; a fresh window per read instead made the kernel fault in new memory at every read.
   */
  sharedPayload(): Buffer {
    this.winShared = true;
    if (this.next > this.winMark) this.winMark = this.next;
    return this.payloadView();
  }

  /** One record as a result object that owns its payload: the API of offline tools. */
  async readAt(offset: number, limit: number): Promise<ReadResult> {
    const status = await this.nextRecord(offset, limit);
    switch (status) {
      case RecordStatus.Entry:
        return {
          type: 'entry',
          payload: Buffer.from(this.payloadView()),
          appendedAt: this.header.appendedAt,
          next: this.next,
        };
      case RecordStatus.Seal:
        return { type: 'seal', summary: this.summary!, next: this.next };
      case RecordStatus.End:
        return { type: 'end' };
      default:
        return { type: 'corrupt', next: this.next, reason: this.reason, resynced: this.resynced };
    }
  }

  // ---------------------------------------------------------------- raw bytes and lifecycle

  /** Raw bytes [offset, offset + length), for copying damaged regions aside. */
  async readBytes(offset: number, length: number): Promise<Buffer> {
    const out = Buffer.allocUnsafe(length);
    return out.subarray(0, await this.readFully(out, 0, length, offset));
  }

  /** Forgets the window: used after the file was truncated underneath it. */
  reset(): void {
    this.retireWindow();
    this.win = Buffer.alloc(0);
    this.winFrom = this.winEnd = this.winStart = 0;
    this.gen++;
    for (const a of this.aheads) a.stale = true;
  }

  /** Waits for a read-ahead in flight, so the file handle can be closed under no read. */
  async idle(): Promise<void> {
    for (const a of this.aheads) await a.done;
  }

  /** Done with this reader: waits for a read in flight, then gives its buffers to the pool. */
  async release(): Promise<void> {
    await this.idle();
    // First the window leaves: to the spares given below, or held by the pool for its payloads.
    this.reset();
    const standard = CARRY_SIZE + this.chunkSize;
    const bufs = new Set([...this.spares, ...this.aheads.map((a) => a.buf)]);
    this.aheads = [];
    this.spares = [];
    for (const b of bufs) if (b.length === standard) this.pool?.give(b);
  }

  /**
   * The window is left: back among the spares, or, when payloads were handed out of it, held by
   * the pool until the head passed them (without a pool, the garbage collector's).
   */
  private retireWindow(): void {
    const win = this.win;
    const shared = this.winShared;
    const mark = this.winMark;
    this.winShared = false;
    this.winMark = 0;
    if (win.length !== CARRY_SIZE + this.chunkSize) return;
    if (!shared) this.spares.push(win);
    else this.pool?.hold(win, this.segment, mark);
  }

  // ---------------------------------------------------------------- windows

  private invalid(reason: string): RecordStatus {
    this.reason = reason;
    return RecordStatus.Invalid;
  }

  private get winEndOffset(): number {
    return this.winStart + this.winEnd - this.winFrom;
  }

  /**
   * tryRecord() after as many reads as it takes: the first read may bring only the header, and
   * the header may announce a record larger than that read (a 370 KB relay hand-off), or a
   * group starting before the window (a head in the middle of a group). NeedRead
   * after a read that made the window no larger means the file is shorter than `limit` said.
   */
  private async loadWhole(offset: number, limit: number): Promise<RecordStatus> {
    let status = this.tryRecord(offset, limit);
    let asked = 0;
    let askedAt = -1;
    // A few loads at most (the header, the record, its group from the leader); the cap ends a
    // walk between a follower and its leader in a file shorter than `limit` said.
    for (
      let loads = 0;
      loads < MAX_LOADS_PER_RECORD &&
      status === RecordStatus.NeedRead &&
      (this.needed > asked || this.needAt !== askedAt);
      loads++
    ) {
      asked = this.needed;
      askedAt = this.needAt;
      await this.load(askedAt, asked, limit);
      status = this.tryRecord(offset, limit);
    }
    return status;
  }

  /** Makes the window hold [offset, offset + length) (as much of it as the file has). */
  private async load(offset: number, length: number, limit: number): Promise<void> {
    const sequential =
      this.winEnd > this.winFrom && offset >= this.winStart && offset <= this.winEndOffset;
    const ahead = this.aheads[0];
    if (ahead) {
      await ahead.done;
      if (this.moveOnto(ahead, offset, length, limit)) return;
      // Not usable (or not enough): the reads ahead are dropped once done, and a failed one is
      // retried below by a plain read, whose error reaches the caller.
      await this.dropAheads();
    }
    const size = Math.max(length, Math.min(this.chunkSize, limit - offset));
    const buf = this.bufferFor(size);
    const got = await this.readFully(buf, CARRY_SIZE, size, offset);
    this.setWindow(buf, CARRY_SIZE, CARRY_SIZE + got, offset);
    // Read ahead only for a reader walking forward: a one-off look (open's head probe) reads once.
    if (sequential) this.readAhead(limit);
  }

  /**
   * Moves the window onto `ahead` (the first read ahead, done) when it continues the window,
   * with the unread end of the window carried in front of its bytes. True when the window then
   * holds [offset, offset + length) (as much of it as `limit` allows).
   */
  private moveOnto(ahead: ReadAhead, offset: number, length: number, limit: number): boolean {
    const carry = this.winEndOffset - offset;
    const usable =
      ahead.bytes !== null &&
      !ahead.stale &&
      this.winEnd > this.winFrom &&
      offset >= this.winStart &&
      carry >= 0 &&
      ahead.at === this.winEndOffset &&
      carry <= CARRY_SIZE;
    if (!usable) return false;
    this.aheads.shift();
    this.win.copy(ahead.buf, CARRY_SIZE - carry, this.winEnd - carry, this.winEnd);
    this.setWindow(ahead.buf, CARRY_SIZE - carry, CARRY_SIZE + ahead.bytes!, offset);
    if (this.winEndOffset < offset + Math.min(length, limit - offset)) return false;
    this.readAhead(limit);
    return true;
  }

  /**
   * tryRecord() that also moves the window onto reads ahead already done, still without a
   * promise: a walk goes on past the end of a window when the next one is there.
   */
  tryRecordSync(offset: number, limit: number): RecordStatus {
    let status = this.tryRecord(offset, limit);
    for (let loads = 0; loads < MAX_LOADS_PER_RECORD && status === RecordStatus.NeedRead; loads++) {
      const ahead = this.aheads[0];
      if (!ahead || !this.moveOnto(ahead, this.needAt, this.needed, limit)) break;
      status = this.tryRecord(offset, limit);
    }
    return status;
  }

  private setWindow(buf: Buffer, from: number, end: number, start: number): void {
    if (this.win !== buf) this.retireWindow();
    this.win = buf;
    this.winFrom = from;
    this.winEnd = end;
    this.winStart = start;
    this.gen++;
  }

  /** A buffer with room for CARRY_SIZE + size, never the window itself. */
  private bufferFor(size: number): Buffer {
    if (size <= this.chunkSize) {
      const spare = this.spares.pop();
      if (spare) return spare;
      return this.pool
        ? this.pool.take(CARRY_SIZE + this.chunkSize)
        : Buffer.allocUnsafeSlow(CARRY_SIZE + this.chunkSize);
    }
    // A record larger than a window: a buffer of its own, dropped when the window moves on.
    return Buffer.allocUnsafeSlow(CARRY_SIZE + size);
  }

  /**
   * Keeps READ_AHEAD reads in flight past the window: a window is parsed faster than the thread
   * pool reads the next one when the machine is busy, and one read ahead left the drain waiting.
   */
  private readAhead(limit: number): void {
    while (this.aheads.length < READ_AHEAD) {
      const last = this.aheads[this.aheads.length - 1];
      const at = last ? last.at + last.size : this.winEndOffset;
      const size = Math.min(this.chunkSize, limit - at);
      if (size <= 0) return;
      const buf = this.bufferFor(size);
      const ahead: ReadAhead = {
        at,
        size,
        buf,
        done: Promise.resolve(0),
        bytes: null,
        error: null,
        stale: false,
      };
      // The error is kept, not thrown here: it reaches a caller only if these bytes are needed.
      ahead.done = this.readFully(buf, CARRY_SIZE, size, at).then(
        (bytes) => (ahead.bytes = bytes),
        (err: unknown) => {
          ahead.error = err;
          return 0;
        },
      );
      this.aheads.push(ahead);
    }
  }

  /** Waits for the reads ahead and keeps their buffers for later reads. */
  private async dropAheads(): Promise<void> {
    const dropped = this.aheads.splice(0);
    for (const a of dropped) {
      await a.done;
      if (a.buf.length === CARRY_SIZE + this.chunkSize) this.spares.push(a.buf);
    }
  }

  private async readFully(
    buf: Buffer,
    from: number,
    length: number,
    position: number,
  ): Promise<number> {
    let done = 0;
    while (done < length) {
      const { bytesRead } = await this.fh.read(buf, from + done, length - done, position + done);
      if (bytesRead === 0) break;
      done += bytesRead;
    }
    return done;
  }

  /** The first offset at or after `from` where a valid record starts, or `limit`. */
  private async resync(from: number, limit: number): Promise<number> {
    // "HHR": the magics of both layouts start with it; decodeHeader tells them apart.
    const magic = Buffer.from('HHR', 'latin1');
    let at = from;
    while (at + magic.length <= limit) {
      if (at < this.winStart || at + magic.length > this.winEndOffset) {
        await this.load(at, magic.length, limit);
        if (at + magic.length > this.winEndOffset) break;
      }
      const found = this.win.subarray(this.winFrom, this.winEnd).indexOf(magic, at - this.winStart);
      if (found < 0) {
        // Step back so a magic split across two windows is still seen.
        if (this.winEndOffset >= limit) break;
        at = Math.max(at + 1, this.winEndOffset - (magic.length - 1));
        continue;
      }
      const candidate = this.winStart + found;
      const status = await this.loadWhole(candidate, limit);
      if (status === RecordStatus.Entry || status === RecordStatus.Seal) return candidate;
      at = candidate + 1;
    }
    return limit;
  }
}

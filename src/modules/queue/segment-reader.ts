import type { QueueFileHandle } from './queue-fs';
import {
  checksumMatches,
  decodeHeader,
  decodeSealPayload,
  HEADER_SIZE,
  KIND_SEAL,
  RECORD_MAGIC,
  type SegmentSummary,
} from './segment-format';

/** Bounded read-ahead: memory stays flat however large the backlog (one chunk per open reader). */
export const READ_CHUNK_SIZE = 256 * 1024;

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

type Parsed = Exclude<ReadResult, { type: 'corrupt' }> | { type: 'invalid'; reason: string };

const MAGIC_BYTES = Buffer.from([
  (RECORD_MAGIC >>> 24) & 0xff,
  (RECORD_MAGIC >>> 16) & 0xff,
  (RECORD_MAGIC >>> 8) & 0xff,
  RECORD_MAGIC & 0xff,
]);

/**
 * Reads the records of one segment file through a bounded window. Each refill allocates a fresh
 * chunk, so payloads handed out as sub-arrays stay valid after the window moves on (no copy).
 * `limit` is how many bytes of the file may be read: the written size of a segment still being
 * appended to, so a reader never sees a record that is only half written.
 */
export class SegmentReader {
  private buf: Buffer = Buffer.alloc(0);
  private bufStart = 0;

  constructor(
    private readonly fh: QueueFileHandle,
    readonly segment: number,
    private readonly chunkSize = READ_CHUNK_SIZE,
  ) {}

  async readAt(offset: number, limit: number): Promise<ReadResult> {
    const parsed = await this.parseAt(offset, limit);
    if (parsed.type !== 'invalid') return parsed;
    const next = await this.resync(offset + 1, limit);
    return { type: 'corrupt', next, reason: parsed.reason, resynced: next < limit };
  }

  /** Raw bytes [offset, offset + length), for copying damaged regions aside. */
  async readBytes(offset: number, length: number): Promise<Buffer> {
    const out = Buffer.allocUnsafe(length);
    let done = 0;
    while (done < length) {
      const { bytesRead } = await this.fh.read(out, done, length - done, offset + done);
      if (bytesRead === 0) break;
      done += bytesRead;
    }
    return out.subarray(0, done);
  }

  /** Forgets the window: used after the file was truncated underneath it. */
  reset(): void {
    this.buf = Buffer.alloc(0);
    this.bufStart = 0;
  }

  private async parseAt(offset: number, limit: number): Promise<Parsed> {
    if (offset >= limit) return { type: 'end' };
    if (limit - offset < HEADER_SIZE) return { type: 'invalid', reason: 'truncated header' };
    const head = await this.window(offset, HEADER_SIZE, limit);
    if (head.length < HEADER_SIZE) return { type: 'invalid', reason: 'truncated header' };
    const h = decodeHeader(head, 0);
    if (typeof h === 'string') return { type: 'invalid', reason: h };
    const size = HEADER_SIZE + h.length;
    if (offset + size > limit) return { type: 'invalid', reason: 'record runs past the end' };
    const whole = await this.window(offset, size, limit);
    if (whole.length < size) return { type: 'invalid', reason: 'record runs past the end' };
    const payload = whole.subarray(HEADER_SIZE);
    if (!checksumMatches(whole, 0, h, payload))
      return { type: 'invalid', reason: 'checksum mismatch' };
    if (h.kind === KIND_SEAL) {
      const summary = decodeSealPayload(payload, this.segment, offset);
      if (!summary) return { type: 'invalid', reason: 'seal of another segment or offset' };
      return { type: 'seal', summary, next: offset + size };
    }
    return { type: 'entry', payload, appendedAt: h.appendedAt, next: offset + size };
  }

  /** The first offset at or after `from` where a valid record starts, or `limit`. */
  private async resync(from: number, limit: number): Promise<number> {
    let at = from;
    while (at + MAGIC_BYTES.length <= limit) {
      const chunk = await this.window(at, Math.min(this.chunkSize, limit - at), limit);
      let i = chunk.indexOf(MAGIC_BYTES);
      while (i >= 0) {
        const candidate = at + i;
        const parsed = await this.parseAt(candidate, limit);
        if (parsed.type === 'entry' || parsed.type === 'seal') return candidate;
        i = chunk.indexOf(MAGIC_BYTES, i + 1);
      }
      // Overlap by three bytes so a magic split across two chunks is still seen.
      if (at + chunk.length >= limit) break;
      at += Math.max(1, chunk.length - (MAGIC_BYTES.length - 1));
    }
    return limit;
  }

  private async window(offset: number, length: number, limit: number): Promise<Buffer> {
    const end = this.bufStart + this.buf.length;
    if (offset >= this.bufStart && offset + length <= end) {
      return this.buf.subarray(offset - this.bufStart, offset - this.bufStart + length);
    }
    const size = Math.max(length, Math.min(this.chunkSize, limit - offset));
    const fresh = await this.readBytes(offset, size);
    this.buf = fresh;
    this.bufStart = offset;
    return fresh.subarray(0, Math.min(length, fresh.length));
  }
}

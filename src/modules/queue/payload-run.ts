import { HEADER_SIZE } from './segment-format';

/**
 * Payloads of consecutive records of one read window, copied out of it with one copy (the record
 * headers between them included) instead of one copy per entry: for 1 KiB entries the per-call
 * cost of Buffer.copy was a sixth of a drain. Each payload is then a view of that copy.
 */
export class PayloadRun {
  private win: Buffer | null = null;
  private from = 0;
  private to = 0;
  /** Window offsets of the payloads in the run; reused from run to run (no array per run). */
  private readonly starts: number[] = [];
  private readonly ends: number[] = [];

  /** Entries added and not yet flushed. */
  get size(): number {
    return this.starts.length;
  }

  /**
   * Adds the payload `win[at, at + length)`. A payload that does not continue the run (another
   * window, or a gap larger than a header) flushes the run into `out` first.
   */
  add(win: Buffer, at: number, length: number, out: Buffer[]): void {
    if (this.win !== win || at < this.to || at - this.to > HEADER_SIZE) {
      this.flush(out);
      this.win = win;
      this.from = at;
    }
    this.starts.push(at);
    this.ends.push(at + length);
    this.to = at + length;
  }

  /** Copies the run out of its window and appends one Buffer per payload to `out`. */
  flush(out: Buffer[]): void {
    const win = this.win;
    if (win === null) return;
    const from = this.from;
    const copy = Buffer.allocUnsafe(this.to - from);
    win.copy(copy, 0, from, this.to);
    for (let i = 0; i < this.starts.length; i++) {
      out.push(copy.subarray(this.starts[i] - from, this.ends[i] - from));
    }
    this.clear();
  }

  /** Forgets the run without copying it (a walk that failed). */
  clear(): void {
    this.win = null;
    this.starts.length = 0;
    this.ends.length = 0;
  }
}

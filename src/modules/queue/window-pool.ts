/** Where the queue's head stands: a window is free once the head passed its payloads. */
interface HeadMark {
  segment: number;
  offset: number;
}

/** A window payloads were handed out from, free once the head is at or past `end` of `segment`. */
interface HeldWindow {
  buf: Buffer;
  segment: number;
  end: number;
}

/**
 * Window buffers handed from reader to reader, and back to readers once the queue is done with
 * them. A drain opens a reader per segment: buffers allocated per read would be fresh memory the
 * kernel faults in page by page and the GC frees late (a drain into fresh 1 MiB buffers ran at a
 * fifth of the speed of one into reused ones, nearly all of it system time).
 *
 * A window that payloads were handed out from (peek() returns views of it) is held here until
 * the head passed its last such payload: peeked payloads are valid until the queue advances past
 * them, and from then on the window is read into again. Held windows are bounded: a caller that
 * peeks again and again without advancing (a node that keeps failing) makes the oldest ones
 * forgotten, not reused, and they are the garbage collector's once their payloads are dropped.
 */
export class WindowPool {
  private free: Buffer[] = [];
  private held: HeldWindow[] = [];
  private head: () => HeadMark | null = () => null;

  constructor(
    private readonly keep = 6,
    private readonly maxHeld = 16,
  ) {}

  /** The queue's head, asked before each take (a new open brings a new head). */
  followHead(head: () => HeadMark): void {
    this.head = head;
  }

  take(size: number): Buffer {
    this.reclaim();
    const i = this.free.findIndex((b) => b.length === size);
    return i >= 0 ? this.free.splice(i, 1)[0] : Buffer.allocUnsafeSlow(size);
  }

  give(buf: Buffer): void {
    if (this.free.length < this.keep) this.free.push(buf);
  }

  /** `buf` holds payloads up to offset `end` of `segment`: it is reused once the head passed it. */
  hold(buf: Buffer, segment: number, end: number): void {
    this.held.push({ buf, segment, end });
    if (this.held.length > this.maxHeld) this.held.shift();
  }

  /**
   * Forgets every held window without reusing it: the head may move back (a reopen resumes the
   * durable position), and payloads of entries not advanced past must keep their bytes.
   */
  forgetHeld(): void {
    this.held = [];
  }

  private reclaim(): void {
    if (this.held.length === 0) return;
    const head = this.head();
    if (!head) return;
    const kept: HeldWindow[] = [];
    for (const w of this.held) {
      const passed =
        head.segment > w.segment || (head.segment === w.segment && head.offset >= w.end);
      if (passed) this.give(w.buf);
      else kept.push(w);
    }
    this.held = kept;
  }
}

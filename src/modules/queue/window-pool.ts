/**
 * Window buffers handed from reader to reader: a drain opens a reader per segment, and buffers
 * allocated per segment would be garbage waiting for the GC (RSS), not live data. A window a
 * payload was handed out from never comes here (see SegmentReader.sharedPayload).
 */
export class WindowPool {
  private free: Buffer[] = [];

  constructor(private readonly keep = 6) {}

  take(size: number): Buffer {
    const i = this.free.findIndex((b) => b.length === size);
    return i >= 0 ? this.free.splice(i, 1)[0] : Buffer.allocUnsafeSlow(size);
  }

  give(buf: Buffer): void {
    if (this.free.length < this.keep) this.free.push(buf);
  }
}

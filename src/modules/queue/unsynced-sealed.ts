import { type QueueFileHandle } from './queue-fs';

/** Sealed segments left for the tick to sync; past this, a roll syncs the oldest at once. */
const MAX_UNSYNCED_SEALED = 8;

/**
 * 'interval' mode: segments sealed since the last tick, not yet durable. A roll leaves its sealed
 * segment here rather than flushing it (a 10 MiB flush per roll stalled the appends behind it);
 * the handle stays open until the tick (or a sync, or close) has fdatasynced it.
 */
export class UnsyncedSealed {
  private handles: QueueFileHandle[] = [];

  constructor(
    /** A failed fdatasync: appends that resolved may have lost their bytes. */
    private readonly fail: (err: unknown) => void,
  ) {}

  /** Keeps a sealed segment's handle for the next sync; syncs the oldest when too many wait. */
  async add(fh: QueueFileHandle): Promise<void> {
    this.handles.push(fh);
    if (this.handles.length > MAX_UNSYNCED_SEALED) await this.sync(1);
  }

  /**
   * fdatasyncs and closes the oldest `count` sealed segments still waiting for it. Each is taken
   * off the list before its sync, so a roll and a tick never sync the same one.
   */
  async sync(count = Infinity): Promise<void> {
    const handles = this.handles.splice(0, count);
    let first: unknown = null;
    for (const fh of handles) {
      if (first === null) {
        try {
          await fh.datasync();
        } catch (err) {
          // The queue fails at once.
          first = err;
          this.fail(err);
        }
      }
      await fh.close().catch((err: unknown) => (first ??= err));
    }
    if (first !== null) throw first;
  }

  /** Hands over the handles still open, for the queue to close. */
  detach(): QueueFileHandle[] {
    return this.handles.splice(0);
  }
}

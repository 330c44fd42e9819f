import { type Head, type PositionFile } from './position-file';
import { type QueueConfig } from './queue-config';

/**
 * When the head reaches the position file. 'always': before the advance resolves. 'interval' and
 * 'never': every positionSyncEntries advanced entries and at every timer tick (synced there in
 * 'interval' mode). A move onto another segment, a purge and close are always durable at once:
 * the segments passed are unlinked only after that.
 */
export class HeadPosition {
  private advancedSinceWrite = 0;
  private dirty = false;
  /** Written but not fdatasynced ('interval'): the next tick syncs it. */
  private unsynced = false;

  constructor(
    private readonly file: PositionFile,
    private readonly config: QueueConfig,
  ) {}

  async write(head: Head, durable: boolean): Promise<void> {
    await this.file.write(head, durable);
    this.advancedSinceWrite = 0;
    this.dirty = false;
    this.unsynced = !durable;
  }

  /** The head moved `moved` entries to `head`; `durable` forces a synced write now. */
  async moved(head: Head, moved: number, durable: boolean): Promise<void> {
    this.advancedSinceWrite += moved;
    if (durable || this.config.fsync === 'always') {
      await this.write(head, true);
    } else if (this.advancedSinceWrite >= this.config.positionSyncEntries) {
      await this.write(head, false);
    } else {
      this.dirty = true;
    }
  }

  /** A write that could not happen now (a full disk at open): the next tick retries it. */
  markDirty(): void {
    this.dirty = true;
  }

  /** The tick has something to write or sync. */
  behind(): boolean {
    return this.dirty || this.advancedSinceWrite > 0 || this.unsynced;
  }

  close(): Promise<void> {
    return this.file.close();
  }
}

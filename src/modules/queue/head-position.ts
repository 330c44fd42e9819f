import { type Head, type PositionFile } from './position-file';
import { type QueueConfig } from './queue-config';

/**
 * When the head reaches the position file. 'always': before the advance resolves. 'interval' and
 * 'never': every positionSyncEntries advanced entries and at every timer tick (synced there in
 * 'interval' mode). A purge, a roll and close are durable at once; a move onto another segment
 * is not (HeadCommit keeps the passed segment until the next durable position).
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

  /**
   * Counts `moved` advanced entries and says whether the head must be written now: null when
   * not yet (the tick or a later advance writes it), else whether durably (`durable` forces it).
   */
  writeDue(moved: number, durable: boolean): boolean | null {
    this.advancedSinceWrite += moved;
    if (durable || this.config.fsync === 'always') return true;
    if (this.advancedSinceWrite >= this.config.positionSyncEntries) return false;
    this.dirty = true;
    return null;
  }

  /** Whether writeDue(moved, false) would ask for a write now (it changes nothing). */
  writeDueNow(moved: number): boolean {
    return (
      this.config.fsync === 'always' ||
      this.advancedSinceWrite + moved >= this.config.positionSyncEntries
    );
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

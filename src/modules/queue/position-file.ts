import { join } from 'node:path';
import { isErrno, syncDir, type QueueFileHandle, type QueueFileSystem } from './queue-fs';
import {
  CORRUPT_DIR,
  decodePositionFile,
  encodePositionSlot,
  POSITION_FILE,
  POSITION_SLOT_SIZE,
  type PositionRecord,
} from './segment-format';

export type Head = Omit<PositionRecord, 'seq'>;

export type LoadedPosition =
  | { state: 'missing' }
  | { state: 'ok'; position: PositionRecord }
  /** Neither slot was valid; the bytes were moved to `keptAs` and the file starts afresh. */
  | { state: 'garbage'; keptAs: string };

/**
 * The head position, persisted as a checksummed fixed record in one of two alternating slots
 * (see segment-format.ts): an in-place 64-byte write plus fdatasync, cheaper than
 * temp-file + rename + directory fsync, and a torn write only ever damages the slot being
 * written, never the last good one.
 */
export class PositionFile {
  private fh: QueueFileHandle | null = null;
  private seq = 0;

  constructor(
    private readonly fs: QueueFileSystem,
    private readonly dir: string,
    private readonly now: () => number,
  ) {}

  get path(): string {
    return join(this.dir, POSITION_FILE);
  }

  /** Reads the file (keeping garbage under corrupt/) and opens it for writing. */
  async load(): Promise<LoadedPosition> {
    let bytes: Buffer | null = null;
    try {
      bytes = await this.fs.readFile(this.path);
    } catch (err) {
      if (!isErrno(err, 'ENOENT')) throw err;
    }
    let result: LoadedPosition = { state: 'missing' };
    if (bytes !== null) {
      const position = decodePositionFile(bytes);
      if (position) {
        result = { state: 'ok', position };
        this.seq = position.seq;
      } else {
        await this.fs.mkdir(join(this.dir, CORRUPT_DIR));
        const keptAs = join(this.dir, CORRUPT_DIR, `position-${this.now()}.bad`);
        await this.fs.rename(this.path, keptAs);
        result = { state: 'garbage', keptAs };
      }
    }
    if (result.state === 'ok') {
      this.fh = await this.fs.open(this.path, 'r+');
    } else {
      this.fh = await this.fs.open(this.path, 'w+');
      await syncDir(this.fs, this.dir);
    }
    return result;
  }

  /** Writes `head` into the next slot; with `durable`, fdatasyncs before resolving. */
  async write(head: Head, durable: boolean): Promise<void> {
    const fh = this.fh;
    if (!fh) throw new Error('position file is not open');
    const seq = this.seq + 1;
    const slot = encodePositionSlot({ seq, ...head });
    const { bytesWritten } = await fh.writev([slot], (seq % 2) * POSITION_SLOT_SIZE);
    if (bytesWritten !== slot.length)
      throw new Error(`short position write (${bytesWritten} bytes)`);
    this.seq = seq;
    if (durable) await fh.datasync();
  }

  async sync(): Promise<void> {
    if (this.fh) await this.fh.datasync();
  }

  async close(): Promise<void> {
    const fh = this.fh;
    this.fh = null;
    if (fh) await fh.close();
  }
}

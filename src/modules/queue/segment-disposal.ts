import { join } from 'node:path';
import { type QueueConfig } from './queue-config';
import { isErrno, mkdirDurable } from './queue-fs';
import { PASSED_DIR, segmentFileName } from './segment-format';

/**
 * Takes the segments the head passed off the disk. Unlinking a 10 MiB segment costs 4-6 ms here
 * (the kernel frees its cached pages and extents): more than reading it, and a drain that waited
 * for it at every segment crossing spent a third of its time there. So a passed segment leaves
 * the queue's directory at once by a rename into passed/ (well under a millisecond), and its
 * unlink is queued then but not awaited (one at a time, see unlink()): close() waits for the
 * unlinks queued (and retries a failed one), and open() removes what a crash left in passed/ (every file there is behind a
 * durable position: a rename lost to a power loss puts the segment back where recovery unlinks
 * it as passed).
 */
export class SegmentDisposal {
  private readonly inFlight = new Set<Promise<void>>();
  /** Unlinks that failed: retried by settle(). */
  private failed: string[] = [];
  /** The last unlink queued: the next one starts when it is done. */
  private last: Promise<void> = Promise.resolve();
  private dirMade = false;

  constructor(private readonly config: QueueConfig) {}

  private get dir(): string {
    return join(this.config.dir, PASSED_DIR);
  }

  /**
   * Takes segment `id` out of the directory and starts its unlink. Rejects when the rename fails
   * (the segment stays where it is, for the caller to try again); a missing file counts as done.
   */
  async dispose(id: number): Promise<void> {
    const { fs } = this.config;
    if (!this.dirMade) {
      await mkdirDurable(fs, this.dir);
      this.dirMade = true;
    }
    const passed = join(this.dir, segmentFileName(id));
    try {
      await fs.rename(this.config.segmentPath(id), passed);
    } catch (err) {
      if (isErrno(err, 'ENOENT')) return;
      throw err;
    }
    this.unlink(passed);
  }

  /** Waits for the unlinks in flight and tries the failed ones again; rejects if one still fails. */
  async settle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
    const retry = this.failed.splice(0);
    let first: unknown = null;
    for (const path of retry) {
      await this.config.fs.unlink(path).catch((err: unknown) => {
        if (isErrno(err, 'ENOENT')) return;
        first ??= err;
        this.failed.push(path);
      });
    }
    if (first !== null) throw first;
  }

  /** At open: unlinks the files a crash (or a failed unlink) left in passed/. */
  async removeLeftovers(): Promise<void> {
    const { fs } = this.config;
    let names: string[];
    try {
      names = await fs.readdir(this.dir);
    } catch (err) {
      if (isErrno(err, 'ENOENT')) return;
      throw err;
    }
    this.dirMade = true;
    for (const name of names) this.unlink(join(this.dir, name));
    await this.settle();
  }

  /**
   * Queues an unlink behind the ones in flight: one at a time, so a batch of passed segments
   * (disposed of together after one durable position) does not fill the thread pool with
   * unlinks of 4-6 ms each while the drain's reads ahead wait behind them.
   */
  private unlink(path: string): void {
    const done = this.last
      .then(() => this.config.fs.unlink(path))
      .then(
        () => undefined,
        (err: unknown) => {
          if (!isErrno(err, 'ENOENT')) this.failed.push(path);
        },
      );
    this.last = done;
    this.inFlight.add(done);
    void done.finally(() => this.inFlight.delete(done));
  }
}

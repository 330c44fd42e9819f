import { join } from 'node:path';
import { QueueLockedError } from './errors';
import {
  currentLockOwner,
  formatLockOwner,
  isLockOwnerRunning,
  parseLockOwner,
  type LockOwner,
} from './lock-owner';
import { isErrno, isNoSpace, writeAll, type QueueFileSystem } from './queue-fs';
import { LOCK_FILE } from './segment-format';

/** Directories this process holds, so a second open in-process fails without touching the file. */
const heldInProcess = new Set<string>();

/**
 * One owner per queue directory: `<dir>/lock` created with O_EXCL naming the owner (its pid and,
 * on Linux, its start time and the boot id: see lock-owner.ts). A lock whose owner no longer runs
 * is stale (SIGKILLed, or the machine or container restarted and its pid now runs something
 * else) and is taken over, as is one naming this process's pid that this process does not hold
 * (an earlier run under the same pid); another live owner, or this process already holding it,
 * is a QueueLockedError.
 */
export class LockFile {
  private held = false;

  constructor(
    private readonly fs: QueueFileSystem,
    private readonly dir: string,
  ) {}

  get path(): string {
    return join(this.dir, LOCK_FILE);
  }

  async acquire(): Promise<void> {
    if (heldInProcess.has(this.dir)) throw new QueueLockedError(this.dir, process.pid);
    heldInProcess.add(this.dir);
    try {
      await this.create();
      this.held = true;
    } catch (err) {
      heldInProcess.delete(this.dir);
      throw err;
    }
  }

  private async create(): Promise<void> {
    const me = formatLockOwner(await currentLockOwner());
    // Two attempts: the second follows the removal of a stale lock.
    for (let attempt = 0; ; attempt++) {
      try {
        await this.createOwned(me);
        return;
      } catch (err) {
        if (!isErrno(err, 'EEXIST') || attempt > 0) throw err;
      }
      const owner = await this.readOwner();
      // Our own pid in a lock this process does not hold (heldInProcess says so) is stale too:
      // a container restarted after a crash runs the relay under the same pid (often 1).
      if (owner !== null && owner.pid !== process.pid && (await isLockOwnerRunning(owner)))
        throw new QueueLockedError(this.dir, owner.pid);
      // Stale: the owner is gone. A lock file without a readable pid is a crash between create
      // and write. Two processes taking over the same dead pid at the same instant could both
      // succeed; that needs two starts within microseconds of each other and is accepted.
      try {
        await this.fs.unlink(this.path);
      } catch (err) {
        if (!isErrno(err, 'ENOENT')) throw err;
      }
    }
  }

  /**
   * Creates the lock file (O_EXCL: whoever creates it holds it) and writes the owner into it. On
   * a full disk the owner cannot be written: the empty file is kept and held all the same, so a
   * relay can start on a full disk to drain the backlog that would free it. (Another process
   * would take an empty lock for a crash between create and write: two owners need two relays
   * started on one directory while its disk is full.)
   */
  private async createOwned(owner: Buffer): Promise<void> {
    const fh = await this.fs.open(this.path, 'wx');
    let failure: unknown = null;
    try {
      await writeAll(fh, [owner], 0);
    } catch (err) {
      if (!isNoSpace(err)) failure = err;
    }
    await fh.close().catch(() => undefined);
    if (failure !== null) {
      await this.fs.unlink(this.path).catch(() => undefined);
      throw failure;
    }
  }

  private async readOwner(): Promise<LockOwner | null> {
    try {
      return parseLockOwner((await this.fs.readFile(this.path)).toString('utf8'));
    } catch (err) {
      if (isErrno(err, 'ENOENT')) return null;
      throw err;
    }
  }

  async release(): Promise<void> {
    if (!this.held) return;
    this.held = false;
    heldInProcess.delete(this.dir);
    try {
      await this.fs.unlink(this.path);
    } catch (err) {
      if (!isErrno(err, 'ENOENT')) throw err;
    }
  }
}

/**
 * Deletes a queue directory with everything in it, under its lock: removing a directory another
 * process owns would destroy its queue (QueueLockedError). A directory that is gone is done.
 */
export async function removeLocked(fs: QueueFileSystem, dir: string): Promise<void> {
  const lock = new LockFile(fs, dir);
  try {
    await lock.acquire();
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return;
    throw err;
  }
  try {
    await fs.rm(dir);
  } finally {
    await lock.release();
  }
}

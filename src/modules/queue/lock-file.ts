import { join } from 'node:path';
import { QueueLockedError } from './errors';
import { isErrno, type QueueFileSystem } from './queue-fs';
import { LOCK_FILE } from './segment-format';

/** Directories this process holds, so a second open in-process fails without touching the file. */
const heldInProcess = new Set<string>();

/**
 * One owner per queue directory: `<dir>/lock` created with O_EXCL holding the owner's pid. A lock
 * whose pid no longer runs is stale (its owner was SIGKILLed or the machine restarted) and is
 * taken over, as is one naming this process's pid that this process does not hold (an earlier
 * run under the same pid); another live pid, or this process already holding it, is a
 * QueueLockedError.
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
    // Two attempts: the second follows the removal of a stale lock.
    for (let attempt = 0; ; attempt++) {
      try {
        await this.fs.writeFile(this.path, Buffer.from(`${process.pid}\n`), 'wx');
        return;
      } catch (err) {
        if (!isErrno(err, 'EEXIST') || attempt > 0) throw err;
      }
      const pid = await this.readPid();
      // Our own pid in a lock this process does not hold (heldInProcess says so) is stale too:
      // a container restarted after a crash runs the relay under the same pid (often 1).
      if (pid !== null && pid !== process.pid && isAlive(pid))
        throw new QueueLockedError(this.dir, pid);
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

  private async readPid(): Promise<number | null> {
    try {
      const text = (await this.fs.readFile(this.path)).toString('utf8').trim();
      const pid = Number(text);
      return /^\d+$/.test(text) && Number.isSafeInteger(pid) && pid > 0 ? pid : null;
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

/** `kill(pid, 0)` checks existence: ESRCH means gone; EPERM means alive under another user. */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return !isErrno(err, 'ESRCH');
  }
}

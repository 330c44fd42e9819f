import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LOCK_FILE } from '../modules/queue/segment-format';

export type LockStatus =
  { state: 'free' } | { state: 'held'; pid: number } | { state: 'stale'; pid: number | null };

/**
 * Who holds a queue directory, read without taking the lock: the CLI must be usable next to a
 * running relay, so it only reports, and says that what it shows may change while it reads.
 */
export function lockStatus(dir: string): LockStatus {
  let text: string;
  try {
    text = readFileSync(join(dir, LOCK_FILE), 'utf8').trim();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { state: 'free' };
    throw err;
  }
  const pid = /^\d+$/.test(text) ? Number(text) : null;
  if (pid === null || !Number.isSafeInteger(pid) || pid <= 0) return { state: 'stale', pid: null };
  return isAlive(pid) ? { state: 'held', pid } : { state: 'stale', pid };
}

/** `kill(pid, 0)` tests existence: ESRCH means gone, EPERM means alive under another user. */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

export function describeLock(lock: LockStatus): string {
  switch (lock.state) {
    case 'free':
      return 'not held';
    case 'held':
      return `held by running pid ${lock.pid}: read-only view, it may change while read`;
    case 'stale':
      return `stale (${lock.pid === null ? 'no pid' : `pid ${lock.pid} not running`})`;
  }
}

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isLockOwnerRunning, parseLockOwner } from '../modules/queue/lock-owner';
import { LOCK_FILE } from '../modules/queue/segment-format';

export type LockStatus =
  { state: 'free' } | { state: 'held'; pid: number } | { state: 'stale'; pid: number | null };

/**
 * Who holds a queue directory, read without taking the lock: the CLI must be usable next to a
 * running relay, so it only reports, and says that what it shows may change while it reads.
 * The lock is judged as the queue judges it (lock-owner.ts), so a pid reused by another process
 * after a restart shows as stale, not held.
 */
export async function lockStatus(dir: string): Promise<LockStatus> {
  let text: string;
  try {
    text = await readFile(join(dir, LOCK_FILE), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { state: 'free' };
    throw err;
  }
  const owner = parseLockOwner(text);
  if (owner === null) return { state: 'stale', pid: null };
  return (await isLockOwnerRunning(owner))
    ? { state: 'held', pid: owner.pid }
    : { state: 'stale', pid: owner.pid };
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

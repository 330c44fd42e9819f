import { readFile } from 'node:fs/promises';
import { isErrno } from './queue-fs';

/**
 * Who holds a queue's lock, as written in `<dir>/lock`. A pid alone is not enough: after a
 * container restart the dead owner's pid is often reused by an unrelated live process (the `sh`
 * or `npm` that starts the relay). On Linux the process start time and the boot id tell a reused
 * pid apart; where /proc is missing they are absent and the pid alone decides, as it always did.
 *
 *   {"pid":1234,"startTime":"5520930","bootId":"6749c445-…"}\n
 *
 * Lock files written before this format hold the pid alone as decimal text (`1234\n`); they are
 * still read.
 */
export interface LockOwner {
  pid: number;
  /** Field 22 of /proc/<pid>/stat (clock ticks since boot), as decimal text. */
  startTime?: string;
  /** /proc/sys/kernel/random/boot_id when the lock was taken. */
  bootId?: string;
}

const BOOT_ID_PATH = '/proc/sys/kernel/random/boot_id';

export function formatLockOwner(owner: LockOwner): Buffer {
  return Buffer.from(`${JSON.stringify(owner)}\n`, 'utf8');
}

/** The owner a lock file names, or null when it names none (a crash between create and write). */
export function parseLockOwner(text: string): LockOwner | null {
  const trimmed = text.trim();
  if (/^\d+$/.test(trimmed)) return validPid(Number(trimmed)) ? { pid: Number(trimmed) } : null;
  let value: unknown;
  try {
    value = JSON.parse(trimmed);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null) return null;
  const { pid, startTime, bootId } = value as Record<string, unknown>;
  if (typeof pid !== 'number' || !validPid(pid)) return null;
  const owner: LockOwner = { pid };
  if (typeof startTime === 'string' && /^\d+$/.test(startTime)) owner.startTime = startTime;
  if (typeof bootId === 'string' && bootId.length > 0) owner.bootId = bootId;
  return owner;
}

/** This process, as it records itself in a lock it takes. */
export async function currentLockOwner(): Promise<LockOwner> {
  const [startTime, bootId] = await Promise.all([readStartTime(process.pid), readBootId()]);
  return {
    pid: process.pid,
    ...(startTime !== null ? { startTime } : {}),
    ...(bootId !== null ? { bootId } : {}),
  };
}

/**
 * Whether the recorded owner still runs: its pid is alive and, where /proc can tell, the machine
 * has not rebooted since and that pid is still the process that took the lock.
 */
export async function isLockOwnerRunning(owner: LockOwner): Promise<boolean> {
  if (!isAlive(owner.pid)) return false;
  if (owner.bootId !== undefined) {
    const bootId = await readBootId();
    if (bootId !== null && bootId !== owner.bootId) return false;
  }
  if (owner.startTime !== undefined) {
    const startTime = await readStartTime(owner.pid);
    if (startTime !== null && startTime !== owner.startTime) return false;
  }
  return true;
}

/**
 * Field 22 (starttime) of /proc/<pid>/stat, or null where /proc cannot tell. Fields are counted
 * after the last ')': the comm field before it may hold spaces and parentheses.
 */
export async function readStartTime(pid: number): Promise<string | null> {
  const stat = await readProc(`/proc/${pid}/stat`);
  if (stat === null) return null;
  const close = stat.lastIndexOf(')');
  if (close < 0) return null;
  // The first field after the comm is field 3 (state).
  const field = stat
    .slice(close + 1)
    .trim()
    .split(/\s+/)[22 - 3];
  return field !== undefined && /^\d+$/.test(field) ? field : null;
}

async function readBootId(): Promise<string | null> {
  const text = await readProc(BOOT_ID_PATH);
  return text === null || text.trim() === '' ? null : text.trim();
}

/**
 * A /proc file's text, or null where it cannot be read: no /proc (macOS), a process that just
 * exited, or /proc mounted with hidepid. Then the pid alone decides; any other error rejects.
 */
async function readProc(path: string): Promise<string | null> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if (['ENOENT', 'ESRCH', 'EACCES', 'EPERM'].some((code) => isErrno(err, code))) return null;
    throw err;
  }
}

function validPid(pid: number): boolean {
  return Number.isSafeInteger(pid) && pid > 0;
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

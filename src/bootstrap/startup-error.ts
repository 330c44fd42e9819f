import { existsSync, mkdirSync, rmdirSync } from 'node:fs';
import { dirname, resolve, sep } from 'node:path';

/** What an operator can do about each file-system error at start-up. */
const FIXES: Record<string, string> = {
  EACCES: 'make it writable by the relay’s user, or set HH_DATA_DIR to a directory that is',
  EPERM: 'make it writable by the relay’s user, or set HH_DATA_DIR to a directory that is',
  EROFS: 'the file system is read-only: mount it writable or set HH_DATA_DIR to a writable one',
  ENOTDIR: 'a part of the path is a file: move it away or set HH_DATA_DIR to another directory',
  EEXIST: 'a part of the path is a file: move it away or set HH_DATA_DIR to another directory',
  ENOSPC: 'the disk is full: free space on it or set HH_DATA_DIR to another disk',
  EDQUOT: 'the disk quota is used up: raise it or set HH_DATA_DIR to another disk',
  EMFILE: 'too many open files: raise the limit (ulimit -n)',
  ENFILE: 'too many open files on the system: raise fs.file-max',
  EIO: 'the disk reports I/O errors: check it (dmesg) or set HH_DATA_DIR to another disk',
};

export interface DataDirProblem {
  msg: string;
  variable: 'HH_DATA_DIR';
  value: string;
  path: string;
  code: string;
  syscall?: string;
  fix: string;
}

/**
 * A start-up error caused by the data directory, told in the operator's terms: the variable,
 * the path that failed, and what to do. Undefined for any other error.
 */
export function dataDirProblem(err: unknown, dataDir: string): DataDirProblem | undefined {
  const e = err as NodeJS.ErrnoException;
  if (!e || typeof e.code !== 'string' || typeof e.path !== 'string') return undefined;
  const root = resolve(dataDir);
  const path = resolve(e.path);
  // The path itself, inside it (a node's directory), or a parent that mkdir had to create.
  const related = path === root || path.startsWith(root + sep) || root.startsWith(path + sep);
  if (!related) return undefined;
  const code = e.code === 'ENOENT' && e.syscall === 'mkdir' ? mkdirCause(path) : e.code;
  return {
    msg: `HH_DATA_DIR is not usable: ${e.syscall ?? 'access'} ${path} failed with ${code}`,
    variable: 'HH_DATA_DIR',
    value: dataDir,
    path,
    code,
    ...(e.syscall ? { syscall: e.syscall } : {}),
    fix: FIXES[code] ?? 'check the directory and its disk, or set HH_DATA_DIR to another one',
  };
}

/**
 * Node's recursive mkdir reports ENOENT for whatever stopped it below the first missing
 * directory (a read-only file system, a permission): a plain mkdir of that first missing
 * directory tells the real cause. Run once, at a start-up that already failed; a directory it
 * manages to create is removed again.
 */
function mkdirCause(path: string): string {
  let missing = path;
  while (dirname(missing) !== missing && !existsSync(dirname(missing))) missing = dirname(missing);
  try {
    mkdirSync(missing);
    rmdirSync(missing);
    return 'ENOENT';
  } catch (err) {
    return (err as NodeJS.ErrnoException).code ?? 'ENOENT';
  }
}

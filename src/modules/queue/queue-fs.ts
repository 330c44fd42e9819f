import * as fsp from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * The file-system calls the queue makes, as an interface, so tests can inject ENOSPC or EIO at a
 * precise call and check that the error reaches the caller. The default is node:fs/promises.
 */
export interface QueueFileHandle {
  read(
    buffer: Buffer,
    offset: number,
    length: number,
    position: number,
  ): Promise<{ bytesRead: number }>;
  writev(buffers: Buffer[], position: number): Promise<{ bytesWritten: number }>;
  datasync(): Promise<void>;
  sync(): Promise<void>;
  truncate(length: number): Promise<void>;
  stat(): Promise<{ size: number }>;
  close(): Promise<void>;
}

export interface QueueFileSystem {
  open(path: string, flags: string): Promise<QueueFileHandle>;
  mkdir(path: string): Promise<void>;
  readdir(path: string): Promise<string[]>;
  readFile(path: string): Promise<Buffer>;
  writeFile(path: string, data: Uint8Array, flags: string): Promise<void>;
  unlink(path: string): Promise<void>;
  rm(path: string): Promise<void>;
  rename(from: string, to: string): Promise<void>;
}

export const nodeQueueFileSystem: QueueFileSystem = {
  open: (path, flags) => fsp.open(path, flags),
  mkdir: async (path) => {
    await fsp.mkdir(path, { recursive: true });
  },
  readdir: (path) => fsp.readdir(path),
  readFile: (path) => fsp.readFile(path),
  writeFile: (path, data, flags) => fsp.writeFile(path, data, { flag: flags }),
  unlink: (path) => fsp.unlink(path),
  rm: (path) => fsp.rm(path, { recursive: true, force: true }),
  rename: (from, to) => fsp.rename(from, to),
};

/** Makes a directory's entries (created, renamed or unlinked files) durable. */
export async function syncDir(fs: QueueFileSystem, dir: string): Promise<void> {
  const fh = await fs.open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * Creates `dir` (and missing parents) and makes its entry in the parent durable: a directory
 * created and then lost to a power loss would take the files made durable inside it along.
 */
export async function mkdirDurable(fs: QueueFileSystem, dir: string): Promise<void> {
  await fs.mkdir(dir);
  await syncDir(fs, dirname(dir));
}

/** Writes every byte or rejects: a short write is retried from where it stopped. */
export async function writeAll(
  fh: QueueFileHandle,
  buffers: Buffer[],
  position: number,
): Promise<void> {
  let bufs = buffers;
  let pos = position;
  let remaining = bufs.reduce((n, b) => n + b.length, 0);
  while (remaining > 0) {
    // IOV_MAX is 1024 on Linux; libuv splits larger vectors, but bounded batches keep it one call.
    const { bytesWritten } = await fh.writev(bufs, pos);
    if (bytesWritten <= 0) throw new Error('write made no progress');
    remaining -= bytesWritten;
    pos += bytesWritten;
    if (remaining > 0) bufs = dropBytes(bufs, bytesWritten);
  }
}

function dropBytes(bufs: Buffer[], n: number): Buffer[] {
  const out: Buffer[] = [];
  let skip = n;
  for (const b of bufs) {
    if (skip >= b.length) {
      skip -= b.length;
      continue;
    }
    out.push(skip > 0 ? b.subarray(skip) : b);
    skip = 0;
  }
  return out;
}

/** The disk (or the user's quota, or the inodes) is full: the write may work once space is freed. */
export function isNoSpace(err: unknown): boolean {
  return isErrno(err, 'ENOSPC') || isErrno(err, 'EDQUOT');
}

export function isErrno(err: unknown, code: string): boolean {
  return (err as NodeJS.ErrnoException | null)?.code === code;
}

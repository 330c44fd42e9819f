import { basename, dirname } from 'node:path';
import type { QueueFileHandle, QueueFileSystem } from '../../src/modules/queue';
import { errno } from '../support/faulty-fs';

/** A file's bytes: what the page cache holds now, and what an fdatasync made durable. */
interface Inode {
  data: Buffer;
  durable: Buffer;
}

/** A directory's entries: as they are now, and as the last fsync of the directory left them. */
interface Dir {
  entries: Map<string, Inode | Dir>;
  durable: Map<string, Inode | Dir>;
}

const isDir = (n: Inode | Dir | undefined): n is Dir => !!n && 'entries' in n;

/**
 * An in-memory file system that keeps, per file, what was synced and what was not, and per
 * directory which entries were synced. `crash()` is a power loss: every file falls back to its
 * last synced bytes and every directory to its last synced entries (a file created or unlinked
 * since is gone or back); handles opened before it fail with EIO (their process is dead).
 */
export class PowerLossFs {
  private readonly root: Dir = { entries: new Map(), durable: new Map() };
  private epoch = 0;
  /** Completed datasync/fsync calls of files ending in `.seg`, in order. */
  segmentSyncs = 0;

  /**
   * The file system as one process sees it: after a crash, every call it makes fails with EIO
   * (a dead process changes nothing on disk any more), handles and path calls alike.
   */
  session(): QueueFileSystem {
    const epoch = this.epoch;
    const live = <A extends unknown[], R>(fn: (...args: A) => Promise<R>) => {
      return async (...args: A): Promise<R> => {
        this.alive(epoch);
        return fn(...args);
      };
    };
    return {
      open: live((path: string, flags: string) => this.open(path, flags, epoch)),
      mkdir: live((path: string) => this.mkdir(path)),
      readdir: live((path: string) => this.readdir(path)),
      readFile: live((path: string) => this.readFile(path)),
      writeFile: live(async (path: string, data: Uint8Array, flags: string) => {
        const fh = await this.open(path, flags, epoch);
        await fh.writev([Buffer.from(data)], 0);
      }),
      unlink: live((path: string) => this.unlink(path)),
      rm: live((path: string) => this.rm(path)),
      rename: live((from: string, to: string) => this.rename(from, to)),
    };
  }

  /** Creates `path` with every level's entry durable: the disk the queue is given exists. */
  async prepare(path: string): Promise<void> {
    await this.mkdir(path);
    let dir = this.root;
    for (const p of this.parts(path)) {
      dir.durable = new Map(dir.entries);
      dir = dir.entries.get(p) as Dir;
    }
  }

  /**
   * Nothing under `path` is unsynced: file bytes and present directory entries all durable. The lock
   * file is never synced (it holds no data: a crash frees it anyway) and is left out.
   */
  isClean(path: string): boolean {
    const node = this.lookup(path);
    if (!isDir(node)) return false;
    const clean = (dir: Dir): boolean => {
      // An entry unlinked but not yet synced away may come back: harmless (the queue unlinks
      // passed segments again at open), so only entries present must be durable.
      for (const [name, child] of dir.entries) {
        if (name === 'lock') continue;
        if (dir.durable.get(name) !== child) return false;
        if (isDir(child) ? !clean(child) : !child.data.equals(child.durable)) return false;
      }
      return true;
    };
    return clean(node);
  }

  crash(): void {
    this.epoch++;
    const revert = (dir: Dir) => {
      dir.entries = new Map(dir.durable);
      for (const child of dir.entries.values()) {
        if (isDir(child)) revert(child);
        else child.data = Buffer.from(child.durable);
      }
    };
    revert(this.root);
  }

  private parts(path: string): string[] {
    return path.split('/').filter((p) => p.length > 0);
  }

  private lookup(path: string): Inode | Dir | undefined {
    let node: Inode | Dir = this.root;
    for (const p of this.parts(path)) {
      if (!isDir(node)) return undefined;
      const next: Inode | Dir | undefined = node.entries.get(p);
      if (!next) return undefined;
      node = next;
    }
    return node;
  }

  private parent(path: string): Dir {
    const dir = this.lookup(dirname(path));
    if (!isDir(dir)) throw errno('ENOENT');
    return dir;
  }

  private alive(epoch: number): void {
    if (epoch !== this.epoch) throw errno('EIO');
  }

  private async open(path: string, flags: string, epoch: number): Promise<QueueFileHandle> {
    let node = this.lookup(path);
    if (flags.includes('x') && node) throw errno('EEXIST');
    if (!node) {
      if (flags === 'r' || flags === 'r+') throw errno('ENOENT');
      node = { data: Buffer.alloc(0), durable: Buffer.alloc(0) };
      this.parent(path).entries.set(basename(path), node);
    } else if (!isDir(node) && flags.startsWith('w')) {
      node.data = Buffer.alloc(0);
    }
    if (isDir(node)) {
      const dir = node;
      const nope = async () => {
        throw errno('EISDIR');
      };
      return {
        read: nope,
        writev: nope,
        truncate: nope,
        datasync: async () => this.syncDir(dir, epoch),
        sync: async () => this.syncDir(dir, epoch),
        stat: async () => ({ size: 0 }),
        close: async () => undefined,
      };
    }
    const inode = node;
    const isSegment = path.endsWith('.seg');
    const sync = async () => {
      this.alive(epoch);
      inode.durable = Buffer.from(inode.data);
      if (isSegment) this.segmentSyncs++;
    };
    return {
      read: async (buffer, offset, length, position) => {
        this.alive(epoch);
        const n = Math.max(0, Math.min(length, inode.data.length - position));
        if (n > 0) inode.data.copy(buffer, offset, position, position + n);
        return { bytesRead: n };
      },
      writev: async (buffers, position) => {
        this.alive(epoch);
        const bytes = Buffer.concat(buffers);
        const end = position + bytes.length;
        if (end > inode.data.length) {
          const grown = Buffer.alloc(end);
          inode.data.copy(grown);
          inode.data = grown;
        }
        bytes.copy(inode.data, position);
        return { bytesWritten: bytes.length };
      },
      datasync: sync,
      sync,
      truncate: async (length) => {
        this.alive(epoch);
        const cut = Buffer.alloc(length);
        inode.data.copy(cut, 0, 0, Math.min(length, inode.data.length));
        inode.data = cut;
      },
      stat: async () => ({ size: inode.data.length }),
      close: async () => undefined,
    };
  }

  private syncDir(dir: Dir, epoch: number): void {
    this.alive(epoch);
    dir.durable = new Map(dir.entries);
  }

  private async mkdir(path: string): Promise<void> {
    let node: Dir = this.root;
    for (const p of this.parts(path)) {
      let next = node.entries.get(p);
      if (!next) {
        next = { entries: new Map(), durable: new Map() };
        node.entries.set(p, next);
      }
      if (!isDir(next)) throw errno('ENOTDIR');
      node = next;
    }
  }

  private async readdir(path: string): Promise<string[]> {
    const dir = this.lookup(path);
    if (!isDir(dir)) throw errno('ENOENT');
    return [...dir.entries.keys()];
  }

  private async readFile(path: string): Promise<Buffer> {
    const node = this.lookup(path);
    if (!node || isDir(node)) throw errno('ENOENT');
    return Buffer.from(node.data);
  }

  private async unlink(path: string): Promise<void> {
    if (!this.parent(path).entries.delete(basename(path))) throw errno('ENOENT');
  }

  private async rm(path: string): Promise<void> {
    const parent = this.lookup(dirname(path));
    if (isDir(parent)) parent.entries.delete(basename(path));
  }

  private async rename(from: string, to: string): Promise<void> {
    const node = this.lookup(from);
    if (!node) throw errno('ENOENT');
    this.parent(from).entries.delete(basename(from));
    this.parent(to).entries.set(basename(to), node);
  }
}

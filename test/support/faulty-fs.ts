import { basename } from 'node:path';
import {
  nodeQueueFileSystem,
  type QueueFileHandle,
  type QueueFileSystem,
} from '../../src/modules/queue';

export type FaultOp = 'writev' | 'datasync' | 'sync' | 'truncate' | 'unlink' | 'rename' | 'open';

/** An errno-style error as node:fs raises it. */
export function errno(code: string): NodeJS.ErrnoException {
  const err = new Error(`${code}: injected`) as NodeJS.ErrnoException;
  err.code = code;
  return err;
}

/**
 * node:fs/promises with a hook in front of each call: `fault(op, file)` returns an error to throw
 * instead of doing the call (or undefined to let it through). `log` records every call in order.
 */
export class FaultyFs implements QueueFileSystem {
  fault: (op: FaultOp, file: string) => Error | undefined = () => undefined;
  readonly log: string[] = [];
  /** Also log reads as `read <file> <length>` (off by default: drains read a lot). */
  logReads = false;
  /** With logReads, each read's file, position and length, in the order they were issued. */
  readonly reads: { file: string; position: number; length: number }[] = [];
  /** Handles opened and not closed yet, by an id of their own: what a closed queue leaked. */
  private readonly openHandles = new Map<number, string>();
  private handleIds = 0;

  /** The files of the handles still open (once per handle). */
  openFiles(): string[] {
    return [...this.openHandles.values()].sort();
  }

  private check(op: FaultOp, path: string): void {
    const file = basename(path);
    this.log.push(`${op} ${file}`);
    const err = this.fault(op, file);
    if (err) throw err;
  }

  async open(path: string, flags: string): Promise<QueueFileHandle> {
    this.check('open', path);
    const fh = await nodeQueueFileSystem.open(path, flags);
    const id = this.handleIds++;
    this.openHandles.set(id, basename(path));
    return {
      read: (b, o, l, p) => {
        if (this.logReads) {
          this.log.push(`read ${basename(path)} ${l}`);
          this.reads.push({ file: basename(path), position: p, length: l });
        }
        return fh.read(b, o, l, p);
      },
      writev: async (bufs, pos) => {
        this.check('writev', path);
        return fh.writev(bufs, pos);
      },
      datasync: async () => {
        this.check('datasync', path);
        return fh.datasync();
      },
      sync: async () => {
        this.check('sync', path);
        return fh.sync();
      },
      truncate: async (len) => {
        this.check('truncate', path);
        return fh.truncate(len);
      },
      stat: () => fh.stat(),
      close: async () => {
        this.openHandles.delete(id);
        return fh.close();
      },
    };
  }

  mkdir = (p: string) => nodeQueueFileSystem.mkdir(p);
  readdir = (p: string) => nodeQueueFileSystem.readdir(p);
  readFile = (p: string) => nodeQueueFileSystem.readFile(p);
  writeFile = (p: string, d: Uint8Array, f: string) => nodeQueueFileSystem.writeFile(p, d, f);
  rm = (p: string) => nodeQueueFileSystem.rm(p);

  async unlink(path: string): Promise<void> {
    this.check('unlink', path);
    return nodeQueueFileSystem.unlink(path);
  }

  async rename(from: string, to: string): Promise<void> {
    this.check('rename', from);
    return nodeQueueFileSystem.rename(from, to);
  }
}

/** Decides the fate of one segment write: `call` counts them from 0, `write` does the real one. */
export type WriteGate = (call: number, write: () => Promise<void>) => Promise<void>;

/** How a test answers one segment write instead of the real handle (`fh` does the real one). */
export type SegmentWritev = (
  fh: QueueFileHandle,
  bufs: Buffer[],
  pos: number,
) => Promise<{ bytesWritten: number }>;

/** Routes the writes to segment files of queues opened on `fs` from now on through `writev`. */
export function interceptSegmentWrites(fs: FaultyFs, writev: SegmentWritev): void {
  const realOpen = fs.open.bind(fs);
  fs.open = async (path, flags) => {
    const fh = await realOpen(path, flags);
    if (!path.endsWith('.seg')) return fh;
    return { ...fh, writev: (bufs, pos) => writev(fh, bufs, pos) };
  };
}

/**
 * Routes the segment writes of queues opened on `fs` from now on through a gate, so a test can
 * hold one write until the next has started, fail it, or let it land. Returns the setter; each
 * new gate counts its calls from 0. Without a gate, writes go straight through.
 */
export function gateSegmentWrites(fs: FaultyFs): (gate: WriteGate | null) => void {
  let gate: WriteGate | null = null;
  let calls = 0;
  interceptSegmentWrites(fs, async (fh, bufs, pos) => {
    if (!gate) return fh.writev(bufs, pos);
    const bytes = bufs.reduce((n, b) => n + b.length, 0);
    await gate(calls++, async () => {
      await fh.writev(bufs, pos);
    });
    return { bytesWritten: bytes };
  });
  return (g) => {
    gate = g;
    calls = 0;
  };
}

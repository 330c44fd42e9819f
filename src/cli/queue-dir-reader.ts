import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { isValidNodeId } from '../config/node-id';
import { SegmentReader } from '../modules/queue/segment-reader';
import {
  CORRUPT_DIR,
  decodePositionFile,
  parseSegmentFileName,
  POSITION_FILE,
  segmentFileName,
} from '../modules/queue/segment-format';
import { DEAD_LETTER_DIR } from '../modules/replay/dead-letter-queue';
import { NotAQueueError } from './errors';

/**
 * A read-only view of a queue directory for the CLI. It decodes with the queue's own
 * segment-format.ts and SegmentReader (one definition of the format), but opens every file
 * read-only and never takes the lock, truncates a torn tail or moves corrupt bytes aside, as
 * the queue's open would.
 */

export interface HeadPosition {
  segment: number;
  offset: number;
}

export type PositionState = 'ok' | 'missing' | 'unreadable';

/** One record as it lies on disk. */
export type DiskRecord =
  | {
      type: 'entry';
      segment: number;
      offset: number;
      appendedAt: number;
      payload: Buffer;
      unread: boolean;
    }
  | { type: 'seal'; segment: number; offset: number }
  /** Bytes [offset, offset + bytes) are not a valid record; `tornTail` when no valid record follows. */
  | {
      type: 'damage';
      segment: number;
      offset: number;
      bytes: number;
      reason: string;
      tornTail: boolean;
    };

export interface QueueDir {
  /** The node id (the directory's name). */
  node: string;
  dir: string;
  /** Segment numbers in numeric order. */
  segments: number[];
  head: HeadPosition | null;
  positionState: PositionState;
}

function isQueueDir(dir: string): boolean {
  try {
    return readdirSync(dir).some((n) => n === POSITION_FILE || parseSegmentFileName(n) !== null);
  } catch {
    return false;
  }
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/**
 * The queue directories under `dir`: its node subdirectories when it is a data directory, or
 * itself when it is one node's queue directory.
 */
export function findQueueDirs(dir: string): QueueDir[] {
  if (!isDirectory(dir)) throw new NotAQueueError(dir);
  if (isQueueDir(dir)) return [openQueueDir(dir)];
  const nodes = readdirSync(dir)
    .filter((name) => isValidNodeId(name) && isDirectory(join(dir, name)))
    .sort();
  if (nodes.length === 0) throw new NotAQueueError(dir);
  return nodes.map((name) => openQueueDir(join(dir, name)));
}

/** The node's queue in a data directory (or `dir` itself when it is that node's queue). */
export function findNodeQueueDir(dir: string, node: string): QueueDir {
  if (!isDirectory(dir)) throw new NotAQueueError(dir);
  if (isQueueDir(dir) && basename(dir) === node) return openQueueDir(dir);
  const nodeDir = join(dir, node);
  if (!isDirectory(nodeDir)) throw new NotAQueueError(nodeDir);
  return openQueueDir(nodeDir);
}

/** The dead-letter queue inside a node's queue directory, when it has one. */
export function deadLetterQueueDir(queue: QueueDir): QueueDir | null {
  const dir = join(queue.dir, DEAD_LETTER_DIR);
  return isDirectory(dir) ? openQueueDir(dir, `${queue.node}/${DEAD_LETTER_DIR}`) : null;
}

export function openQueueDir(dir: string, node = basename(dir)): QueueDir {
  const segments = readdirSync(dir)
    .map(parseSegmentFileName)
    .filter((n): n is number => n !== null)
    .sort((a, b) => a - b);
  const positionPath = join(dir, POSITION_FILE);
  let positionState: PositionState = 'missing';
  let head: HeadPosition | null = null;
  if (existsSync(positionPath)) {
    const position = decodePositionFile(readFileSync(positionPath));
    positionState = position ? 'ok' : 'unreadable';
    if (position) head = { segment: position.segment, offset: position.offset };
  }
  // Without a readable position the queue starts over from its first segment.
  if (head === null && segments.length > 0) head = { segment: segments[0], offset: 0 };
  return { node, dir, segments, head, positionState };
}

/** Files kept under `<dir>/corrupt/` by the queue (damaged bytes it moved aside). */
export function corruptFileCount(queue: QueueDir): number {
  const dir = join(queue.dir, CORRUPT_DIR);
  return isDirectory(dir) ? readdirSync(dir).length : 0;
}

export function segmentPath(queue: QueueDir, segment: number): string {
  return join(queue.dir, segmentFileName(segment));
}

function isUnread(queue: QueueDir, segment: number, offset: number): boolean {
  const head = queue.head;
  if (!head) return true;
  return segment > head.segment || (segment === head.segment && offset >= head.offset);
}

/** Every record of one segment, in order, damaged regions included. */
export async function* segmentRecords(
  queue: QueueDir,
  segment: number,
): AsyncGenerator<DiskRecord> {
  const fh = await open(segmentPath(queue, segment), 'r');
  try {
    const { size } = await fh.stat();
    const reader = new SegmentReader(fh, segment);
    let offset = 0;
    while (offset < size) {
      const rec = await reader.readAt(offset, size);
      if (rec.type === 'end') return;
      if (rec.type === 'corrupt') {
        yield {
          type: 'damage',
          segment,
          offset,
          bytes: rec.next - offset,
          reason: rec.reason,
          tornTail: !rec.resynced,
        };
      } else if (rec.type === 'seal') {
        yield { type: 'seal', segment, offset };
      } else {
        const unread = isUnread(queue, segment, offset);
        yield {
          type: 'entry',
          segment,
          offset,
          appendedAt: rec.appendedAt,
          payload: rec.payload,
          unread,
        };
      }
      offset = rec.next;
    }
  } finally {
    await fh.close();
  }
}

/** Every record of the queue, segment after segment in numeric order. */
export async function* queueRecords(queue: QueueDir): AsyncGenerator<DiskRecord> {
  for (const segment of queue.segments) yield* segmentRecords(queue, segment);
}

/** Bytes on disk of the queue's segments. */
export function segmentDiskBytes(queue: QueueDir): number {
  return queue.segments.reduce((sum, s) => sum + statSync(segmentPath(queue, s)).size, 0);
}

import { describeLock, lockStatus, type LockStatus } from './lock-status';
import {
  corruptFileCount,
  deadLetterQueueDir,
  findQueueDirs,
  queueRecords,
  segmentDiskBytes,
  type HeadPosition,
  type PositionState,
  type QueueDir,
} from './queue-dir-reader';

export interface NodeReport {
  node: string;
  dir: string;
  lock: LockStatus;
  segments: { count: number; first: number | null; last: number | null };
  diskBytes: number;
  /** The unread entries: what replay has still to send. */
  backlog: { entries: number; bytes: number };
  /** Append times of the oldest and newest unread entry (ISO), null when none. */
  oldest: string | null;
  newest: string | null;
  head: HeadPosition | null;
  position: PositionState;
  deadLetters: number;
  damagedRegions: number;
  /** Files of damaged bytes the queue already moved to corrupt/. */
  corruptFiles: number;
}

interface Backlog {
  entries: number;
  bytes: number;
  oldest: number | null;
  newest: number | null;
  damaged: number;
}

async function backlogOf(queue: QueueDir): Promise<Backlog> {
  const b: Backlog = { entries: 0, bytes: 0, oldest: null, newest: null, damaged: 0 };
  for await (const rec of queueRecords(queue)) {
    if (rec.type === 'damage') b.damaged++;
    if (rec.type !== 'entry' || !rec.unread) continue;
    b.entries++;
    b.bytes += rec.payload.length;
    b.oldest = b.oldest === null ? rec.appendedAt : Math.min(b.oldest, rec.appendedAt);
    b.newest = b.newest === null ? rec.appendedAt : Math.max(b.newest, rec.appendedAt);
  }
  return b;
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export async function inspectNode(queue: QueueDir): Promise<NodeReport> {
  const backlog = await backlogOf(queue);
  const dlq = deadLetterQueueDir(queue);
  const deadLetters = dlq ? (await backlogOf(dlq)).entries : 0;
  return {
    node: queue.node,
    dir: queue.dir,
    lock: await lockStatus(queue.dir),
    segments: {
      count: queue.segments.length,
      first: queue.segments[0] ?? null,
      last: queue.segments[queue.segments.length - 1] ?? null,
    },
    diskBytes: segmentDiskBytes(queue),
    backlog: { entries: backlog.entries, bytes: backlog.bytes },
    oldest: iso(backlog.oldest),
    newest: iso(backlog.newest),
    head: queue.head,
    position: queue.positionState,
    deadLetters,
    damagedRegions: backlog.damaged,
    corruptFiles: corruptFileCount(queue),
  };
}

export async function inspect(dir: string): Promise<NodeReport[]> {
  const reports: NodeReport[] = [];
  for (const queue of findQueueDirs(dir)) reports.push(await inspectNode(queue));
  return reports;
}

export function formatInspect(reports: NodeReport[]): string {
  return reports
    .map((r) => {
      const segments =
        r.segments.count === 0
          ? 'none'
          : `${r.segments.count} (${r.segments.first}..${r.segments.last}), ${r.diskBytes} bytes on disk`;
      const head = r.head ? `segment ${r.head.segment} offset ${r.head.offset}` : 'none';
      const position = r.position === 'ok' ? '' : ` (position file ${r.position})`;
      const lines = [
        `node ${r.node}  ${r.dir}`,
        `  lock:         ${describeLock(r.lock)}`,
        `  segments:     ${segments}`,
        `  backlog:      ${r.backlog.entries} entries, ${r.backlog.bytes} bytes`,
        `  oldest:       ${r.oldest ?? '-'}`,
        `  newest:       ${r.newest ?? '-'}`,
        `  head:         ${head}${position}`,
        `  dead letters: ${r.deadLetters}`,
      ];
      if (r.damagedRegions > 0) {
        lines.push(`  damaged:      ${r.damagedRegions} region(s): run \`hh verify\` for offsets`);
      }
      if (r.corruptFiles > 0) lines.push(`  corrupt/:     ${r.corruptFiles} file(s) set aside`);
      return lines.join('\n');
    })
    .join('\n\n');
}

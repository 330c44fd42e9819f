import {
  formatSegmentRanges,
  missingSegments,
  type SegmentRange,
} from '../modules/queue/segment-gaps';
import { deadLetterQueueDir, findQueueDirs, queueRecords, type QueueDir } from './queue-dir-reader';

export interface Damage {
  node: string;
  segment: number;
  offset: number;
  bytes: number;
  reason: string;
  /** No valid record follows: a write cut short by a crash, which the queue truncates on open. */
  tornTail: boolean;
}

export interface VerifyReport {
  ok: boolean;
  /** Node queue directories, as `inspect` lists them. */
  nodes: number;
  /** Queues read: the nodes' and their dead-letter queues. */
  queues: number;
  deadLetterQueues: number;
  segments: number;
  records: number;
  damage: Damage[];
  /** Queues whose position file has no valid slot (the queue would start from its first segment). */
  unreadablePositions: string[];
  /** Segment files missing from the head on (deleted or lost): their entries are gone. */
  missingSegments: { node: string; segments: SegmentRange[] }[];
}

async function verifyQueue(queue: QueueDir, report: VerifyReport): Promise<void> {
  report.queues++;
  report.segments += queue.segments.length;
  if (queue.positionState === 'unreadable') report.unreadablePositions.push(queue.node);
  let lastIsSeal = false;
  for await (const rec of queueRecords(queue)) {
    lastIsSeal = rec.type === 'seal';
    if (rec.type !== 'damage') {
      report.records++;
      continue;
    }
    const { segment, offset, bytes, reason, tornTail } = rec;
    report.damage.push({ node: queue.node, segment, offset, bytes, reason, tornTail });
  }
  const fromHead = queue.segments.filter((id) => !queue.head || id >= queue.head.segment);
  const missing = missingSegments(fromHead, lastIsSeal);
  if (missing.length > 0) report.missingSegments.push({ node: queue.node, segments: missing });
}

/** Checks the checksum of every record of every queue (dead-letter queues included). */
export async function verify(dir: string): Promise<VerifyReport> {
  const report: VerifyReport = {
    ok: true,
    nodes: 0,
    queues: 0,
    deadLetterQueues: 0,
    segments: 0,
    records: 0,
    damage: [],
    unreadablePositions: [],
    missingSegments: [],
  };
  for (const queue of findQueueDirs(dir)) {
    report.nodes++;
    await verifyQueue(queue, report);
    const dlq = deadLetterQueueDir(queue);
    if (dlq) {
      report.deadLetterQueues++;
      await verifyQueue(dlq, report);
    }
  }
  report.ok =
    report.damage.length === 0 &&
    report.unreadablePositions.length === 0 &&
    report.missingSegments.length === 0;
  return report;
}

export function formatVerify(r: VerifyReport): string {
  const lines = r.damage.map(
    (d) =>
      `DAMAGED node ${d.node} segment ${d.segment} offset ${d.offset}: ${d.reason}, ${d.bytes} bytes` +
      (d.tornTail ? ' (torn tail: truncated when the queue next opens)' : ''),
  );
  for (const node of r.unreadablePositions)
    lines.push(`DAMAGED node ${node}: position file unreadable`);
  for (const m of r.missingSegments)
    lines.push(`MISSING node ${m.node} segments ${formatSegmentRanges(m.segments)}: entries lost`);
  const dead =
    r.deadLetterQueues > 0 ? ` (and ${plural(r.deadLetterQueues, 'dead-letter queue')})` : '';
  const summary = `${plural(r.records, 'record')} in ${plural(r.segments, 'segment')} of ${plural(r.nodes, 'node')}${dead} checked`;
  lines.push(r.ok ? `ok: ${summary}` : `${lines.length} problem(s); ${summary}`);
  return lines.join('\n');
}

function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

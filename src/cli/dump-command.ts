import { isValidNodeId } from '../config/node-id';
import { UsageError } from './errors';
import { findNodeQueueDir, queueRecords } from './queue-dir-reader';

export interface DumpedEntry {
  segment: number;
  offset: number;
  appendedAt: string;
  size: number;
  /** The payload as text (control bytes escaped), or as hex with --hex. */
  payload: string;
}

export interface DumpOptions {
  limit?: number;
  hex: boolean;
}

/**
 * Escapes what would garble a terminal: control bytes other than tab and newline, and invalid
 * UTF-8 (shown as U+FFFD by the decoder). Use --hex for exact bytes.
 */
function asText(payload: Buffer): string {
  // eslint-disable-next-line no-control-regex
  return payload.toString('utf8').replace(/[\x00-\x08\x0b-\x1f\x7f]/g, (c) => {
    return `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`;
  });
}

/** The node's unread entries, oldest first: what replay would send next. */
export async function dump(
  dir: string,
  node: string,
  options: DumpOptions,
): Promise<DumpedEntry[]> {
  if (!isValidNodeId(node)) throw new UsageError(`${JSON.stringify(node)} is not a node id`);
  const queue = findNodeQueueDir(dir, node);
  const out: DumpedEntry[] = [];
  for await (const rec of queueRecords(queue)) {
    if (rec.type !== 'entry' || !rec.unread) continue;
    out.push({
      segment: rec.segment,
      offset: rec.offset,
      appendedAt: new Date(rec.appendedAt).toISOString(),
      size: rec.payload.length,
      payload: options.hex ? rec.payload.toString('hex') : asText(rec.payload),
    });
    // Stops reading as soon as the limit is reached: a dump of a huge backlog stays cheap.
    if (options.limit !== undefined && out.length >= options.limit) break;
  }
  return out;
}

export function formatDump(entries: DumpedEntry[]): string {
  return entries
    .map(
      (e) =>
        `# segment ${e.segment} offset ${e.offset} at ${e.appendedAt} size ${e.size}\n${e.payload}`,
    )
    .join('\n');
}

import { isValidNodeId } from '../config/node-id';
import { UsageError } from './errors';
import { findNodeQueueDir, queueRecords } from './queue-dir-reader';
import {
  describeStatement,
  describeTarget,
  readStoredWrite,
  type StoredStatementTarget,
  type StoredWriteTarget,
} from './stored-write';

export interface DumpedEntry {
  segment: number;
  offset: number;
  appendedAt: string;
  /** Bytes stored (the relay's envelope included). */
  size: number;
  /** The relay write this entry replays as (absent for a payload that is not one). */
  target?: StoredWriteTarget;
  /** The relay statement this entry replays as (the query is the payload). */
  statement?: StoredStatementTarget;
  /**
   * The body as text (a gzip body inflated, control bytes escaped); with --hex, the exact
   * stored bytes, envelope included.
   */
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
    const stored = readStoredWrite(rec.payload);
    out.push({
      segment: rec.segment,
      offset: rec.offset,
      appendedAt: new Date(rec.appendedAt).toISOString(),
      size: rec.payload.length,
      ...(stored.target ? { target: stored.target } : {}),
      ...(stored.statement ? { statement: stored.statement } : {}),
      payload: options.hex ? rec.payload.toString('hex') : asText(stored.body),
    });
    // Stops reading as soon as the limit is reached: a dump of a huge backlog stays cheap.
    if (options.limit !== undefined && out.length >= options.limit) break;
  }
  return out;
}

export function formatDump(entries: DumpedEntry[]): string {
  return entries
    .map((e) => {
      const target = e.target
        ? ` ${describeTarget(e.target)}`
        : e.statement
          ? ` ${describeStatement(e.statement)}`
          : '';
      return `# segment ${e.segment} offset ${e.offset} at ${e.appendedAt} size ${e.size}${target}\n${e.payload}`;
    })
    .join('\n');
}

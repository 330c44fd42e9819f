import { readFileSync } from 'node:fs';

/**
 * Descriptors the relay needs besides client connections: Node's own (event loop, stdio,
 * worker pipes: about 35 at start-up), each node's queue files and connections, segment rolls,
 * and the `df` the disk health check spawns.
 */
const BASE_DESCRIPTORS = 64;
const DESCRIPTORS_PER_NODE = 16;

/** The soft `ulimit -n` of this process; undefined where /proc does not tell (not Linux). */
export function openFilesLimit(limitsFile = '/proc/self/limits'): number | undefined {
  try {
    const line = /^Max open files\s+(\d+|unlimited)\s/m.exec(readFileSync(limitsFile, 'utf8'));
    if (!line || line[1] === 'unlimited') return undefined;
    return Number(line[1]);
  } catch {
    return undefined;
  }
}

/**
 * A warning when HH_MAX_CONNECTIONS lets clients take descriptors the queues need: then idle or
 * slow connections, not the cap, run the process out of files, a segment roll fails (EMFILE),
 * writes answer 503 and new clients wait unanswered in the listen backlog until some close.
 * Undefined when the cap fits (or the limit is unknown).
 */
export function openFilesWarning(
  maxConnections: number,
  nodes: number,
  limit: number | undefined,
): string | undefined {
  if (limit === undefined) return undefined;
  const reserve = BASE_DESCRIPTORS + DESCRIPTORS_PER_NODE * nodes;
  if (maxConnections + reserve <= limit) return undefined;
  return (
    `HH_MAX_CONNECTIONS (${maxConnections}) leaves too few of the ${limit} open files allowed ` +
    `(ulimit -n) for the queues and node connections (about ${reserve}): raise ulimit -n to ` +
    `${maxConnections + reserve} or lower HH_MAX_CONNECTIONS to ${Math.max(1, limit - reserve)}`
  );
}

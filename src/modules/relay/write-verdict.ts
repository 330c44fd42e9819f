import type { WriteConsistency } from '../../config/defaults';

/** What happened to one write on one node. */
export type NodeOutcome =
  | { node: string; kind: 'delivered' }
  /** Stored durably in the node's queue: it was backlogged, or the live write failed transiently. */
  | { node: string; kind: 'handed-off'; reason: string }
  /** The node refused the data (4xx); nothing was queued for it. */
  | { node: string; kind: 'rejected'; status: number; message: string; response?: string }
  /** The hand-off could not be stored (queue full, disk error): this node lost the write. */
  | { node: string; kind: 'failed'; reason: string; code?: string };

export interface WriteVerdict {
  /** 204, the refusing node's 4xx (400, 404 database not found, 401…), 500 or 503. */
  status: number;
  error?: string;
}

const STRENGTH: readonly WriteConsistency[] = ['any', 'one', 'quorum', 'all'];

/** The client's level, lowered to the operator's cap (HH_MAX_CONSISTENCY) when stronger. */
export function cappedConsistency(
  asked: WriteConsistency,
  max: WriteConsistency = 'all',
): WriteConsistency {
  return STRENGTH.indexOf(asked) > STRENGTH.indexOf(max) ? max : asked;
}

/** How many nodes must take a write live for the level to hold. */
export function requiredLive(consistency: WriteConsistency, nodes: number): number {
  switch (consistency) {
    case 'any':
      return 0;
    case 'one':
      return Math.min(1, nodes);
    case 'quorum':
      return Math.floor(nodes / 2) + 1;
    case 'all':
      return nodes;
  }
}

/**
 * The answer to a fanned-out write, checked in this order:
 * 1. a node refused the data → that node's status (400 bad data, 404 database not found, …) and
 *    error: retrying as is is useless;
 * 2. a hand-off could not be stored → 503 naming the node and reason: the client must retry;
 * 3. fewer nodes took it live than the level needs → 500 `partial write` (InfluxDB's cluster
 *    wording); the misses are handed off all the same, so a retry only rewrites the same points
 *    (InfluxDB overwrites a point with the same series and time, so it does not double them);
 * 4. otherwise 204.
 */
export function verdictOf(
  outcomes: readonly NodeOutcome[],
  consistency: WriteConsistency,
): WriteVerdict {
  const rejected = outcomes.find((o) => o.kind === 'rejected');
  if (rejected?.kind === 'rejected') {
    const status = rejected.status >= 400 && rejected.status < 500 ? rejected.status : 400;
    return { status, error: influxErrorText(rejected.response) ?? rejected.message };
  }
  const failed = outcomes.filter((o) => o.kind === 'failed');
  if (failed.length > 0) {
    const reasons = failed.map((f) => `node ${f.node}: ${f.kind === 'failed' ? f.reason : ''}`);
    return { status: 503, error: `hinted handoff failed: ${reasons.join('; ')}` };
  }
  const live = outcomes.filter((o) => o.kind === 'delivered').length;
  const needed = requiredLive(consistency, outcomes.length);
  if (live < needed) {
    return {
      status: 500,
      error:
        `partial write: consistency ${consistency} needs ${needed} of ${outcomes.length} nodes, ` +
        `${live} took the write; the others have it handed off`,
    };
  }
  return { status: 204 };
}

/** The `error` text of an InfluxDB JSON answer, or undefined when the answer is not one. */
export function influxErrorText(response: string | undefined): string | undefined {
  if (!response) return undefined;
  try {
    const parsed = JSON.parse(response) as { error?: unknown };
    return typeof parsed.error === 'string' ? parsed.error : undefined;
  } catch {
    return response.trim() || undefined;
  }
}

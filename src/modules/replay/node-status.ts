import { queueOf, type NodeEntry } from './node-entry';
import type { NodeState, NodeStatus } from './node-status.interface';

/** What health, metrics and the admin routes show of a node. */
export function nodeStatus(e: NodeEntry, maxSize: number): NodeStatus {
  const queue = queueOf(e);
  const open = queue.isOpen();
  const backlog = open ? queue.backlog() : { entries: 0, bytes: 0, oldest: null };
  const dlq = e.replayer.deadLetters;
  const failures = e.replayer.failures();
  const state: NodeState = e.paused
    ? 'paused'
    : !e.configured
      ? 'inactive'
      : failures > 0
        ? 'backing-off'
        : 'up';
  const lastSuccess = e.replayer.lastSuccessAt();
  const lastError = e.replayer.lastError();
  return {
    id: e.id,
    ...(e.url ? { url: stripCredentials(e.url) } : {}),
    state,
    configured: e.configured,
    // A failed queue refuses every hand-off: not open for health, though its backlog shows.
    open: open && !queue.isFailed(),
    backlog: {
      entries: backlog.entries,
      bytes: backlog.bytes,
      oldestAgeSeconds: backlog.oldest
        ? Math.max(0, (Date.now() - backlog.oldest.getTime()) / 1000)
        : null,
    },
    diskBytes: open ? queue.diskUsage() + (dlq?.queue.isOpen() ? dlq.queue.diskUsage() : 0) : 0,
    maxSize,
    deadLetters: dlq?.queue.isOpen() ? dlq.count() : 0,
    backoffMs: e.replayer.backoffMs(),
    ...(lastError ? { lastError, lastErrorAt: e.replayer.lastErrorAt()?.toISOString() } : {}),
    totals: e.replayer.totals(),
    ...(lastSuccess ? { lastSuccessAt: lastSuccess.toISOString() } : {}),
  };
}
function stripCredentials(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    return u.href;
  } catch {
    return url;
  }
}

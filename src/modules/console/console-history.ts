import type { NodeStatus } from '../replay/node-status.interface';
import { RingBuffer } from './ring-buffer';

/** One node at one sampling instant, as the console's charts plot it. */
export interface NodeSample {
  /** Epoch milliseconds. */
  t: number;
  entries: number;
  bytes: number;
  /** Seconds; null when the backlog is empty. */
  oldestAgeSeconds: number | null;
  /** Hand-offs (entries appended to the queue) per second since the previous sample. */
  handoffRate: number;
  /** Entries replayed to the node per second since the previous sample. */
  replayRate: number;
}

/** How far back the time to empty looks: long enough to smooth a batch, short enough to react. */
const DRAIN_WINDOW_MS = 30_000;

/**
 * Per node, the last minutes of backlog and rates, sampled from `HandoffService.nodes()` by the
 * console's sampler. Rates are differences of the service's running totals, so a sample costs
 * nothing on the write path; memory is one ring buffer per node.
 */
export class ConsoleHistory {
  private readonly buffers = new Map<string, RingBuffer<NodeSample>>();
  private readonly previous = new Map<string, { t: number; handedOff: number; replayed: number }>();

  constructor(private readonly capacity: number) {}

  record(t: number, statuses: readonly NodeStatus[]): void {
    const seen = new Set<string>();
    for (const status of statuses) {
      seen.add(status.id);
      const handedOff = status.totals?.handedOffEntries ?? 0;
      const replayed = status.totals?.replayedEntries ?? 0;
      const before = this.previous.get(status.id);
      const seconds = before ? (t - before.t) / 1000 : 0;
      const rate = (now: number, then: number | undefined) =>
        seconds > 0 && then !== undefined ? Math.max(0, now - then) / seconds : 0;
      this.previous.set(status.id, { t, handedOff, replayed });
      let buffer = this.buffers.get(status.id);
      if (!buffer) this.buffers.set(status.id, (buffer = new RingBuffer(this.capacity)));
      buffer.push({
        t,
        entries: status.backlog.entries,
        bytes: status.backlog.bytes,
        oldestAgeSeconds: status.backlog.oldestAgeSeconds,
        handoffRate: rate(handedOff, before?.handedOff),
        replayRate: rate(replayed, before?.replayed),
      });
    }
    // A node removed at run time (its drained directory deleted) leaves the picture.
    for (const id of [...this.buffers.keys()]) {
      if (!seen.has(id)) {
        this.buffers.delete(id);
        this.previous.delete(id);
      }
    }
  }

  /** Samples of `id` taken after `since` (epoch ms), oldest first. */
  samples(id: string, since = -Infinity): NodeSample[] {
    return (this.buffers.get(id)?.toArray() ?? []).filter((s) => s.t > since);
  }

  /**
   * Seconds until the backlog is empty at the rate it shrank over the last half minute; null when
   * it is not shrinking (growing, flat, empty at the last sample, or too little history to tell).
   */
  etaSeconds(id: string): number | null {
    const samples = this.buffers.get(id)?.toArray() ?? [];
    const last = samples.at(-1);
    if (!last || last.entries === 0) return null;
    const first = samples.find((s) => s.t >= last.t - DRAIN_WINDOW_MS) ?? last;
    const seconds = (last.t - first.t) / 1000;
    const drained = first.bytes - last.bytes;
    if (seconds < 2 || drained <= 0) return null;
    return last.bytes / (drained / seconds);
  }
}

import type { Clock } from '../../src/modules/replay/clock';

/** A clock that moves only when the test says so; due timers fire in time order. */
export class ManualClock implements Clock {
  private t: number;
  private seq = 0;
  private readonly timers = new Map<number, { at: number; fn: () => void }>();

  constructor(start = 1_000_000) {
    this.t = start;
  }

  now(): number {
    return this.t;
  }

  setTimeout(fn: () => void, ms: number): unknown {
    const id = ++this.seq;
    this.timers.set(id, { at: this.t + Math.max(0, ms), fn });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.timers.delete(handle as number);
  }

  pending(): number {
    return this.timers.size;
  }

  /** Earliest due time of a pending timer, or null. */
  nextDue(): number | null {
    let best: number | null = null;
    for (const { at } of this.timers.values()) if (best === null || at < best) best = at;
    return best;
  }

  /** Moves time to the next timer, fires it, and lets the promise callbacks it starts run. */
  async runNext(): Promise<void> {
    const due = this.nextDue();
    if (due === null) return;
    await this.advanceTo(due);
  }

  async advance(ms: number): Promise<void> {
    await this.advanceTo(this.t + ms);
  }

  async advanceTo(target: number): Promise<void> {
    for (;;) {
      let nextId: number | null = null;
      let nextAt = Infinity;
      for (const [id, { at }] of this.timers) {
        if (at <= target && at < nextAt) {
          nextAt = at;
          nextId = id;
        }
      }
      if (nextId === null) break;
      const timer = this.timers.get(nextId)!;
      this.timers.delete(nextId);
      this.t = Math.max(this.t, timer.at);
      timer.fn();
      await flushPromises();
    }
    this.t = Math.max(this.t, target);
    await flushPromises();
  }
}

/** Lets queued promise reactions run (several hops of async/await). */
export async function flushPromises(): Promise<void> {
  for (let i = 0; i < 20; i++) await Promise.resolve();
}

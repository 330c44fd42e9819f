/**
 * How many lanes a catch-up may use while live writes flow. Replay and live writes share the
 * relay and the nodes; a catch-up at full width would make every live write wait behind it. So
 * the live writes' latency is watched (a moving average of successful live requests) against
 * its own floor (the lowest average of the last half minute). While live writes flow, lanes
 * start from one (or from where the last batch left them); while the latency stays within
 * `tolerance` of the floor they grow by one per batch up to the maximum; above it they halve,
 * down to one lane and never below: one request at a time is what replay did before lanes,
 * and a catch-up must outrun the live writes that queue behind it (a pause between batches
 * was tried and let the backlog grow without end under a steady live feed). With no live
 * write for a second, a catch-up takes every lane at once.
 */
export interface ReplayShareOptions {
  /** Live latency allowed over its floor before the lanes shrink; default 1.25. */
  tolerance?: number;
  now?: () => number;
}

const IDLE_MS = 1000;
const BUCKET_MS = 5000;
const BUCKETS = 6;
const ALPHA = 0.2;

export class ReplayShare {
  private average = 0;
  private lastLive = Number.NEGATIVE_INFINITY;
  private lanes = 1;
  /** Lowest average per 5-second bucket, newest last. */
  private readonly floors: { bucket: number; value: number }[] = [];
  private readonly tolerance: number;
  private readonly now: () => number;

  constructor(
    private readonly maxLanes: number,
    options: ReplayShareOptions = {},
  ) {
    this.tolerance = options.tolerance ?? 1.25;
    this.now = options.now ?? Date.now;
  }

  /** A live write was answered 2xx after `ms`. */
  recordLive(ms: number): void {
    const at = this.now();
    this.average = this.average === 0 ? ms : this.average + ALPHA * (ms - this.average);
    this.lastLive = at;
    const bucket = Math.floor(at / BUCKET_MS);
    const last = this.floors[this.floors.length - 1];
    if (last?.bucket === bucket) last.value = Math.min(last.value, this.average);
    else this.floors.push({ bucket, value: this.average });
    while (this.floors.length > 0 && this.floors[0].bucket <= bucket - BUCKETS) this.floors.shift();
  }

  /** The lanes of the next replay batch (called once per batch). */
  nextLanes(): number {
    if (this.now() - this.lastLive > IDLE_MS) {
      this.lanes = this.maxLanes;
    } else if (this.average > Math.min(...this.floors.map((f) => f.value)) * this.tolerance) {
      this.lanes = Math.max(1, Math.floor(this.lanes / 2));
    } else {
      this.lanes = Math.min(this.maxLanes, this.lanes + 1);
    }
    return this.lanes;
  }
}

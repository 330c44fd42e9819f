/**
 * How many lanes a catch-up may use while live writes flow. Replay and live writes share the
 * relay and the nodes; a catch-up at full width would make every live write wait behind it. So
 * the live writes' latency is watched (a moving average of successful live requests) against
 * its own floor (the lowest average of the last half minute). While live writes flow, lanes
 * start from one (or from where the last batch left them); while the latency stays within `tolerance` of the floor the
 * lanes grow by one per batch up to the maximum; above it they halve, down to one lane, and
 * then a pause between batches doubles (50 ms up to 2 s) — a catch-up slows down, it never
 * stops. With no live write for a second, a catch-up takes every lane at once.
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
const FIRST_PAUSE_MS = 50;
const MAX_PAUSE_MS = 2000;

export interface ReplayTurn {
  lanes: number;
  /** Wait this long before the batch (0: none). */
  pauseMs: number;
}

export class ReplayShare {
  private average = 0;
  private lastLive = Number.NEGATIVE_INFINITY;
  private lanes = 1;
  private pauseMs = 0;
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

  /** The lanes of the next replay batch, and a pause before it (called once per batch). */
  next(): ReplayTurn {
    if (this.idle()) {
      this.lanes = this.maxLanes;
      this.pauseMs = 0;
      return { lanes: this.lanes, pauseMs: 0 };
    }
    const floor = Math.min(...this.floors.map((f) => f.value));
    if (this.average > floor * this.tolerance) {
      if (this.lanes > 1) this.lanes = Math.floor(this.lanes / 2);
      else this.pauseMs = Math.min(MAX_PAUSE_MS, Math.max(FIRST_PAUSE_MS, this.pauseMs * 2));
    } else if (this.pauseMs > 0) {
      this.pauseMs = this.pauseMs <= FIRST_PAUSE_MS ? 0 : this.pauseMs / 2;
    } else {
      this.lanes = Math.min(this.maxLanes, this.lanes + 1);
    }
    return { lanes: this.lanes, pauseMs: this.pauseMs };
  }

  private idle(): boolean {
    return this.now() - this.lastLive > IDLE_MS;
  }
}

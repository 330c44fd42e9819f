import { EventEmitter } from 'node:events';
import { Kvm, type KV } from '@nats-io/kv';
import { NatsUnavailableError } from './errors';
import type { NatsLink } from './nats-link';
import { nodeStreamNames } from './names';

export const DEFAULT_LEASE_BUCKET = 'hh-leases';

export interface LeaseBucketOptions {
  bucket?: string;
  /** How long a lease lives without a renewal (the bucket's max_age). Default 10 s. */
  ttlMs?: number;
  /** Copies of the bucket: 1, 3 or 5 (default 1). */
  replicas?: number;
}

/**
 * The KV bucket holding every node's replay lease: one key per node, its value the holder's id.
 * The bucket's max_age is the lease's time to live: a key its holder stops renewing is removed
 * by the server, and `create` (which succeeds only when the key does not exist) takes it.
 */
/** An opened lease bucket: its KV, its TTL and the connection it goes through. */
export interface LeaseBucket {
  kv: KV;
  ttlMs: number;
  link: NatsLink;
}

export async function openLeaseBucket(
  link: NatsLink,
  options: LeaseBucketOptions = {},
): Promise<LeaseBucket> {
  const ttlMs = options.ttlMs ?? 10_000;
  if (!(Number.isInteger(ttlMs) && ttlMs >= 1000)) {
    throw new RangeError(`lease TTL must be a whole number of ms of at least 1000, got ${ttlMs}`);
  }
  try {
    const kv = await new Kvm(link.js).create(options.bucket ?? DEFAULT_LEASE_BUCKET, {
      ttl: ttlMs,
      history: 1,
      replicas: options.replicas ?? 1,
    });
    return { kv, ttlMs, link };
  } catch (err) {
    throw new NatsUnavailableError('open the lease bucket', err);
  }
}

/**
 * The lease bucket of a relay started while NATS is down: opened once NATS answers (after
 * `prepare`, which the store uses to open the node streams first, so a lease taken finds the
 * backlog already known). Until then `kv` throws NatsUnavailableError, so no lease is taken;
 * each lease check while connected retries an open that failed.
 */
export class LateLeaseBucket implements LeaseBucket {
  readonly ttlMs: number;
  private opened: KV | undefined;
  private opening: Promise<void> | null = null;

  constructor(
    readonly link: NatsLink,
    private readonly options: LeaseBucketOptions,
    private readonly prepare: () => Promise<void> = async () => undefined,
  ) {
    this.ttlMs = options.ttlMs ?? 10_000;
  }

  get kv(): KV {
    if (this.opened) return this.opened;
    if (this.link.isConnected()) void this.open().catch(() => undefined);
    throw new NatsUnavailableError('the lease bucket is not open yet');
  }

  isOpen(): boolean {
    return this.opened !== undefined;
  }

  /** Opens the bucket (once; a failed open is retried by the next call). */
  open(): Promise<void> {
    if (this.opened) return Promise.resolve();
    this.opening ??= (async () => {
      await this.prepare().catch(() => undefined);
      this.opened = (await openLeaseBucket(this.link, this.options)).kv;
    })().finally(() => (this.opening = null));
    return this.opening;
  }
}

export interface NodeLeaseOptions {
  /** How often the holder renews; default a third of the TTL. */
  renewEveryMs?: number;
  /** How often a relay without the lease tries to take it; default half the TTL. */
  checkEveryMs?: number;
  now?: () => number;
}

export interface NodeLeaseEvents {
  acquired: [];
  /** The lease ran out or someone else holds it: stop replaying now. */
  lost: [reason: string];
  released: [];
}

/**
 * "Exactly one replayer per node across the fleet". Every relay runs one NodeLease per node;
 * `start()` keeps trying to take the lease (every checkEveryMs) and, once held, renews it
 * (every renewEveryMs, an update at the revision it holds, so a renewal can never take over a
 * lease someone else got).
 *
 * The holder counts its lease as valid until TTL after the start of its last successful
 * renewal, and drops it ('lost') at that moment even when it could not hear from NATS: the
 * server removes the key TTL after it stored the renewal, which is later, so two relays never
 * both believe they hold it (with clocks running at the same rate). When the holder dies, its
 * key expires TTL after its last renewal and another relay takes it at its next check: within
 * TTL + checkEveryMs (plus the server's expiry timer).
 */
export class NodeLease extends EventEmitter<NodeLeaseEvents> {
  readonly key: string;
  private readonly ttlMs: number;
  private readonly renewEveryMs: number;
  private readonly checkEveryMs: number;
  private readonly now: () => number;
  private revision = 0;
  private validUntil = 0;
  private timer: NodeJS.Timeout | null = null;
  /** Fires at validUntil: the lease is dropped then even while a renewal hangs. */
  private fence: NodeJS.Timeout | null = null;
  private running = false;
  private busy: Promise<unknown> = Promise.resolve();

  private readonly link: NatsLink;

  constructor(
    private readonly bucket: LeaseBucket,
    readonly nodeId: string,
    /** This relay's id, stored as the lease's value (shown by /hh/nodes). */
    readonly holderId: string,
    options: NodeLeaseOptions = {},
  ) {
    super();
    this.link = bucket.link;
    this.key = nodeStreamNames(nodeId).leaseKey;
    this.ttlMs = bucket.ttlMs;
    this.renewEveryMs = options.renewEveryMs ?? Math.floor(this.ttlMs / 3);
    this.checkEveryMs = options.checkEveryMs ?? Math.floor(this.ttlMs / 2);
    this.now = options.now ?? Date.now;
    if (!(this.renewEveryMs > 0 && this.renewEveryMs < this.ttlMs)) {
      throw new RangeError(`renewEveryMs must be above 0 and below the TTL (${this.ttlMs} ms)`);
    }
  }

  /** The bucket's KV, read at each use: a late bucket has none until NATS answered. */
  private get kv(): KV {
    return this.bucket.kv;
  }

  /** Held, and not past the moment the server may have let it go. */
  isHeld(): boolean {
    return this.revision > 0 && this.now() < this.validUntil;
  }

  /** Takes the lease if nobody holds it; true when this relay holds it now. */
  acquire(): Promise<boolean> {
    return this.serial(async () => {
      if (this.isHeld()) return true;
      if (!this.link.isConnected()) return false;
      const started = this.now();
      try {
        this.revision = await this.kv.create(this.key, this.holderId);
      } catch {
        // Someone holds it (wrong last sequence), or NATS is down: either way, not ours.
        return false;
      }
      this.hold(started);
      this.emit('acquired');
      return true;
    });
  }

  /** Extends the lease held; false (and 'lost') when it is not held any more. */
  renew(): Promise<boolean> {
    return this.serial(async () => {
      if (this.revision === 0) return false;
      if (!this.isHeld()) return this.lose('the lease ran out before it was renewed');
      const started = this.now();
      try {
        const timeout = Math.max(1, this.validUntil - started);
        const revision = await this.kv.update(this.key, this.holderId, this.revision, timeout);
        if (this.revision === 0) return false;
        this.revision = revision;
        this.hold(started);
        return true;
      } catch (err) {
        if (this.revision === 0) return false;
        if (/wrong last sequence/i.test(String(err))) {
          return this.lose('another relay holds the lease');
        }
        // NATS did not answer: still ours until validUntil; the next renewal may get through.
        if (!this.isHeld()) return this.lose(`renewal failed: ${(err as Error).message}`);
        return true;
      }
    });
  }

  /** Gives the lease up at once (a clean shutdown), so another relay need not wait the TTL. */
  release(): Promise<void> {
    return this.serial(async () => {
      if (this.revision === 0) return;
      const revision = this.revision;
      this.clear();
      if (this.link.isConnected()) {
        await Promise.resolve()
          .then(() => this.kv.delete(this.key, { previousSeq: revision }))
          .catch(() => undefined);
      }
      this.emit('released');
    });
  }

  /** Who holds the lease according to NATS (null: nobody); rejects when NATS is down. */
  async holder(): Promise<string | null> {
    if (!this.link.isConnected()) {
      throw new NatsUnavailableError(`read the lease of ${this.nodeId}: not connected`);
    }
    try {
      const entry = await this.kv.get(this.key);
      return entry && entry.operation === 'PUT' ? entry.string() : null;
    } catch (err) {
      throw new NatsUnavailableError(`read the lease of ${this.nodeId}`, err);
    }
  }

  /** Keeps taking (and then renewing) the lease until stop(). */
  start(): void {
    if (this.running) return;
    this.running = true;
    const tick = async () => {
      if (!this.running) return;
      if (this.revision > 0) await this.renew();
      else await this.acquire();
      if (!this.running) return;
      this.timer = setTimeout(tick, this.revision > 0 ? this.renewEveryMs : this.checkEveryMs);
      this.timer.unref();
    };
    void tick();
  }

  /** Stops the loop and releases the lease if held. */
  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.release();
  }

  private hold(renewStarted: number): void {
    this.validUntil = renewStarted + this.ttlMs;
    if (this.fence) clearTimeout(this.fence);
    this.fence = setTimeout(
      () => {
        if (this.revision > 0 && !this.isHeld())
          this.lose('the lease ran out before it was renewed');
      },
      Math.max(0, this.validUntil - this.now()),
    );
    this.fence.unref();
  }

  private clear(): void {
    this.revision = 0;
    this.validUntil = 0;
    if (this.fence) clearTimeout(this.fence);
    this.fence = null;
  }

  private lose(reason: string): false {
    this.clear();
    this.emit('lost', reason);
    return false;
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.busy.then(fn, fn);
    this.busy = result.catch(() => undefined);
    return result;
  }
}

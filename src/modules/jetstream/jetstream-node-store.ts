import { hostname } from 'node:os';
import { join } from 'node:path';
import type { HandoffConfig } from '../../config/handoff-config.interface';
import { QueueRegistry } from '../queue/queue-registry';
import { DEAD_LETTER_DIR, DeadLetterQueue } from '../replay/dead-letter-queue';
import type { LeaseStatus, NodeStore, NodeStoreContext, StoreStatus } from '../replay/node-store';
import { mkdirDurable, nodeQueueFileSystem } from '../queue/queue-fs';
import { CORRUPT_DIR } from '../queue/segment-format';
import { JetStreamQueue, type JetStreamQueueOptions } from './jetstream-queue';
import { JetStreamConfigError, NatsUnavailableError } from './errors';
import { isAuthRefusal, NatsLink, withoutUserInfo, type NatsSettings } from './nats-link';
import { LateLeaseBucket, NodeLease } from './node-lease';

/** This relay's name in the leases: HH_RELAY_ID, else `<hostname>-<pid>`. */
export function relayIdOf(config: HandoffConfig): string {
  return config.relayId ?? `${hostname()}-${process.pid}`;
}

/** The HH_NATS_* settings as the connection takes them. */
export function natsSettingsOf(config: HandoffConfig): NatsSettings {
  return {
    servers: config.natsUrl ?? '',
    token: config.natsToken,
    user: config.natsUser,
    pass: config.natsPassword,
    credsFile: config.natsCreds,
    name: `hinted-handoff ${relayIdOf(config)}`,
  };
}

/**
 * The JetStream store: one NATS connection per process; each node's hints in stream `HH_<node>`
 * and its dead letters in `HHDL_<node>` (limits from HH_MAX_SIZE, HH_MAX_AGE,
 * HH_JETSTREAM_REPLICAS); one replay lease per node in the `hh-leases` bucket (TTL
 * HH_LEASE_TTL). Every relay appends to every node's stream; the lease's holder replays it.
 *
 * Nothing is adopted: a node removed from this relay's configuration may still be configured on
 * another relay, so its stream is never deleted here (max_age ages it out; an operator deletes
 * it with `nats stream rm`).
 */
export class JetStreamNodeStore implements NodeStore {
  readonly kind = 'jetstream' as const;
  readonly agesOutByItself = true;
  private link: NatsLink | undefined;
  private bucket: LateLeaseBucket | undefined;
  private queues: QueueRegistry<JetStreamQueue> | undefined;
  private readonly leases = new Map<string, NodeLease>();
  /** Each node's lease holder as last read from NATS. */
  private readonly holders = new Map<string, string | null>();
  private poll: NodeJS.Timeout | null = null;
  private readonly relayId: string;

  constructor(private readonly context: NodeStoreContext) {
    this.relayId = relayIdOf(context.config);
  }

  /**
   * Connects to NATS and opens the lease bucket. When no server answers (a relay started during
   * a NATS outage) the relay starts anyway: the link keeps trying, queues open without their
   * streams (no backlog known: live writes to nodes that answer go on, hand-offs answer 503),
   * and once NATS answers the streams are opened, then the bucket, and leases are taken.
   * Settings NATS refuses (credentials) and streams it cannot reserve still fail the start.
   */
  async start(): Promise<void> {
    const { config, logger } = this.context;
    const settings = natsSettingsOf(config);
    const servers = withoutUserInfo(config.natsUrl);
    // Nothing of the hints is kept here, but the data directory is the relay's local place
    // (damaged dead letters) and /health checks its disk: it exists, as with the disk store.
    await mkdirDurable(nodeQueueFileSystem, config.dataDir);
    let link: NatsLink;
    try {
      link = await NatsLink.connect(settings);
    } catch (err) {
      if (isAuthRefusal(err)) {
        throw new JetStreamConfigError(
          `NATS refused this relay's credentials (HH_NATS_TOKEN, HH_NATS_USER and ` +
            `HH_NATS_PASSWORD, or HH_NATS_CREDS): ${(err as Error).message}`,
        );
      }
      if (!(err instanceof NatsUnavailableError)) throw err;
      logger.warn(
        `${err.message}; starting without NATS: hand-offs answer 503 until it answers (${servers})`,
      );
      link = NatsLink.connectWhenAvailable(settings);
    }
    const bucket = new LateLeaseBucket(
      link,
      { ttlMs: config.leaseTtlMs, replicas: config.jetstreamReplicas },
      () => this.openStreams(),
    );
    if (link.isConnected()) {
      try {
        await bucket.open();
      } catch (err) {
        await link.close().catch(() => undefined);
        throw err;
      }
    }
    this.link = link;
    this.bucket = bucket;
    link.on('state', (state) => {
      if (state === 'connected') {
        logger.log(`NATS connected (${servers})`);
        if (!bucket.isOpen()) void bucket.open().catch(() => undefined);
      } else logger.warn(`NATS ${state}: hand-offs answer 503 until it is back`);
    });
    this.queues = new QueueRegistry<JetStreamQueue>({
      dataDir: config.dataDir,
      createQueue: (id) => new JetStreamQueue(link, id, this.queueOptions(id)),
    });
    // Who holds each lease, for /hh/nodes: read again every half TTL.
    this.poll = setInterval(() => void this.readHolders(), bucket.ttlMs / 2);
    this.poll.unref();
  }

  queueOf(nodeId: string): Promise<JetStreamQueue> {
    return this.registry().get(nodeId);
  }

  deadLettersOf(nodeId: string): DeadLetterQueue {
    const queue = new JetStreamQueue(this.connection(), nodeId, {
      ...this.queueOptions(nodeId),
      deadLetters: true,
      onExpired: undefined,
    });
    // A damaged dead letter (it never is, on JetStream: no torn writes) is kept on local disk.
    const corruptDir = join(this.context.config.dataDir, nodeId, DEAD_LETTER_DIR, CORRUPT_DIR);
    return new DeadLetterQueue(queue, { corruptDir });
  }

  leaseOf(nodeId: string): NodeLease {
    if (!this.bucket) throw new Error('the JetStream store is not started');
    const lease = new NodeLease(this.bucket, nodeId, this.relayId);
    this.leases.set(nodeId, lease);
    lease.on('acquired', () => this.holders.set(nodeId, this.relayId));
    lease.on('lost', () => this.holders.set(nodeId, null));
    lease.on('released', () => this.holders.set(nodeId, null));
    void this.readHolder(nodeId, lease);
    return lease;
  }

  leaseStatus(nodeId: string): LeaseStatus | undefined {
    const lease = this.leases.get(nodeId);
    if (!lease) return undefined;
    const held = lease.isHeld();
    return { holder: held ? this.relayId : (this.holders.get(nodeId) ?? null), held };
  }

  async stored(): Promise<string[]> {
    return [];
  }

  recordDirOf(): undefined {
    return undefined;
  }

  close(nodeId: string): Promise<void> {
    return this.registry().close(nodeId);
  }

  remove(nodeId: string): Promise<void> {
    return this.registry().remove(nodeId);
  }

  async closeAll(): Promise<void> {
    await this.queues?.closeAll();
  }

  async stop(): Promise<void> {
    if (this.poll) clearInterval(this.poll);
    this.poll = null;
    this.leases.clear();
    // A closing relay closes its own connection: not an outage to warn about.
    this.link?.removeAllListeners('state');
    await this.link?.close();
  }

  status(): StoreStatus {
    const nats = this.link?.state() ?? 'closed';
    return nats === 'connected'
      ? { kind: 'jetstream', nats, server: this.link!.server() }
      : { kind: 'jetstream', nats };
  }

  private queueOptions(nodeId: string): JetStreamQueueOptions {
    const { config, metrics } = this.context;
    return {
      maxSize: config.maxSize,
      maxAgeMs: config.maxAgeMs,
      replicas: config.jetstreamReplicas,
      // What max_age (or an eviction) dropped past the replaying relay's head: purged by age.
      onExpired: (entries) => metrics.purged(nodeId, entries, 'age'),
    };
  }

  /** Opens every open queue's stream (before the leases: a lease taken finds the backlog). */
  private async openStreams(): Promise<void> {
    const queues = this.queues;
    if (!queues) return;
    await Promise.allSettled(queues.ids().map((id) => queues.peek(id)?.openStream()));
  }

  private async readHolders(): Promise<void> {
    await Promise.all([...this.leases].map(([id, lease]) => this.readHolder(id, lease)));
  }

  private async readHolder(nodeId: string, lease: NodeLease): Promise<void> {
    // Not known while NATS is down: null rather than a holder that may have changed.
    const holder = await lease.holder().catch(() => null);
    if (this.leases.get(nodeId) === lease) this.holders.set(nodeId, holder);
  }

  private registry(): QueueRegistry<JetStreamQueue> {
    if (!this.queues) throw new Error('the JetStream store is not started');
    return this.queues;
  }

  private connection(): NatsLink {
    if (!this.link) throw new Error('the JetStream store is not started');
    return this.link;
  }
}

import { hostname } from 'node:os';
import { join } from 'node:path';
import type { HandoffConfig } from '../../config/handoff-config.interface';
import { QueueRegistry } from '../queue/queue-registry';
import { DEAD_LETTER_DIR, DeadLetterQueue } from '../replay/dead-letter-queue';
import type { LeaseStatus, NodeStore, NodeStoreContext, StoreStatus } from '../replay/node-store';
import { CORRUPT_DIR } from '../queue/segment-format';
import { JetStreamQueue, type JetStreamQueueOptions } from './jetstream-queue';
import { NatsLink, type NatsSettings } from './nats-link';
import { NodeLease, openLeaseBucket, type LeaseBucket } from './node-lease';

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
  private bucket: LeaseBucket | undefined;
  private queues: QueueRegistry<JetStreamQueue> | undefined;
  private readonly leases = new Map<string, NodeLease>();
  /** Each node's lease holder as last read from NATS. */
  private readonly holders = new Map<string, string | null>();
  private poll: NodeJS.Timeout | null = null;
  private readonly relayId: string;

  constructor(private readonly context: NodeStoreContext) {
    this.relayId = relayIdOf(context.config);
  }

  async start(): Promise<void> {
    const { config } = this.context;
    const link = await NatsLink.connect(natsSettingsOf(config));
    try {
      this.bucket = await openLeaseBucket(link, {
        ttlMs: config.leaseTtlMs,
        replicas: config.jetstreamReplicas,
      });
    } catch (err) {
      await link.close().catch(() => undefined);
      throw err;
    }
    this.link = link;
    link.on('state', (state) => {
      const servers = config.natsUrl ?? '';
      if (state === 'connected') this.context.logger.log(`NATS connected again (${servers})`);
      else this.context.logger.warn(`NATS ${state}: hand-offs answer 503 until it is back`);
    });
    this.queues = new QueueRegistry<JetStreamQueue>({
      dataDir: config.dataDir,
      createQueue: (id) => new JetStreamQueue(link, id, this.queueOptions(id)),
    });
    // Who holds each lease, for /hh/nodes: read again every half TTL.
    this.poll = setInterval(() => void this.readHolders(), this.bucket.ttlMs / 2);
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

import type { HandoffStore } from '../../config/defaults';
import type { HandoffConfig } from '../../config/handoff-config.interface';
import type { NatsLinkState } from '../jetstream/nats-link';
import type { NodeLease } from '../jetstream/node-lease';
import type { HandoffQueue } from '../queue/handoff-queue.contract';
import { HandoffError } from '../../handoff-error';
import type { DeadLetterQueue } from './dead-letter-queue';
import { DiskNodeStore } from './disk-node-store';
import type { ReplayLogger } from './replay-logger';
import type { ReplayMetrics } from './replay-metrics.interface';

/** What /hh/nodes shows of the store: which one, and with JetStream the NATS connection. */
export interface StoreStatus {
  kind: HandoffStore;
  nats?: NatsLinkState;
  /** The NATS server this relay is connected to now (JetStream store, while connected). */
  server?: string;
}

/** A node's replay lease as /hh/nodes shows it: who holds it, and whether this relay does. */
export interface LeaseStatus {
  /** The holder's relay id as last read from NATS; null when free or unknown (NATS down). */
  holder: string | null;
  held: boolean;
}

/**
 * Where the hand-off service keeps each node's queue and dead letters: the disk store (segment
 * files under HH_DATA_DIR) or the JetStream store (a stream per node, replay leases). The
 * service's code is the same for both; what differs is behind this interface.
 */
export interface NodeStore {
  readonly kind: HandoffStore;
  /**
   * True when the store ages entries out by itself (JetStream's max_age): the age-purge job
   * then leaves the queues alone.
   */
  readonly agesOutByItself: boolean;
  /** Prepares the store before any queue opens (the data directory; the NATS connection). */
  start(): Promise<void>;
  /** The node's queue, opened. */
  queueOf(nodeId: string): Promise<HandoffQueue>;
  /** The node's dead letters (not opened: the replayer opens them). */
  deadLettersOf(nodeId: string): DeadLetterQueue;
  /** The node's replay lease, not started; undefined where one process owns the queue (disk). */
  leaseOf(nodeId: string): NodeLease | undefined;
  /** The lease as /hh/nodes shows it; undefined without leases. */
  leaseStatus(nodeId: string): LeaseStatus | undefined;
  /** Node ids whose queues the store holds, for adopting nodes no longer configured. */
  stored(): Promise<string[]>;
  /** Where the node's node.json goes (its URL, for adoption); undefined: not recorded. */
  recordDirOf(nodeId: string): string | undefined;
  /** Closes the node's queue (its open failed part-way, or it retires). */
  close(nodeId: string): Promise<void>;
  /** Closes the node's queue and deletes everything of it. */
  remove(nodeId: string): Promise<void>;
  /** Closes every queue. */
  closeAll(): Promise<void>;
  /** After closeAll: lets go of the store (the NATS connection). */
  stop(): Promise<void>;
  status(): StoreStatus;
}

/** What a store is built from. */
export interface NodeStoreContext {
  config: HandoffConfig;
  metrics: ReplayMetrics;
  logger: ReplayLogger;
}

/** The NATS client packages the JetStream store loads (optional peer dependencies). */
export const NATS_PACKAGES = ['@nats-io/transport-node', '@nats-io/jetstream', '@nats-io/kv'];

/** HH_STORE=jetstream on a host without the NATS client packages. */
export class NatsPackagesMissingError extends HandoffError {
  readonly code = 'ERR_NATS_PACKAGES_MISSING';
  constructor(cause: unknown) {
    super(
      `HH_STORE=jetstream needs the NATS client packages: npm install ${NATS_PACKAGES.join(' ')} ` +
        `(${(cause as Error)?.message?.split('\n')[0] ?? String(cause)})`,
    );
  }
}

/**
 * The store HH_STORE names. The JetStream store (and with it the @nats-io packages) is loaded
 * only when chosen, so a disk-store host never needs NATS installed.
 */
export function createNodeStore(context: NodeStoreContext): NodeStore {
  if (context.config.store === 'jetstream') {
    let loaded: { JetStreamNodeStore: new (c: NodeStoreContext) => NodeStore };
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      loaded = require('../jetstream/jetstream-node-store') as typeof loaded;
    } catch (err) {
      const missing = (err as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND';
      if (missing && /@nats-io\//.test((err as Error).message)) {
        throw new NatsPackagesMissingError(err);
      }
      throw err;
    }
    return new loaded.JetStreamNodeStore(context);
  }
  return new DiskNodeStore(context);
}

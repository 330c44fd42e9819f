/**
 * The stores the contract suite runs against, each behind one small factory: a DiskBackedQueue
 * in a temp dir, and a JetStreamQueue on a real nats-server (one server, or a 3-server cluster
 * with 3 replicas). `open(name)` opens the queue `name` (a fresh one per test name); opening the
 * same name again (after close) is a reopen: the same directory, or the same stream.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JetStreamQueue, NatsLink } from '../../src/modules/jetstream';
import { DiskBackedQueue } from '../../src/modules/queue';
import type { HandoffQueue } from '../../src/modules/queue/handoff-queue.contract';
import { startNatsCluster, startNatsServer, type NatsCluster } from '../support/nats-server';

export interface StoreLimits {
  maxSize?: number;
}

export interface StoreFactory {
  readonly label: string;
  setup(): Promise<void>;
  teardown(): Promise<void>;
  create(name: string, limits?: StoreLimits): HandoffQueue;
}

abstract class Tracked {
  protected readonly queues: HandoffQueue[] = [];
  protected track<T extends HandoffQueue>(q: T): T {
    this.queues.push(q);
    return q;
  }
  protected async closeAll(): Promise<void> {
    for (const q of this.queues.splice(0)) await q.close().catch(() => undefined);
  }
}

export class DiskStore extends Tracked implements StoreFactory {
  readonly label = 'DiskBackedQueue';
  private dir = '';
  async setup(): Promise<void> {
    this.dir = await mkdtemp(join(tmpdir(), 'hh-contract-'));
  }
  async teardown(): Promise<void> {
    await this.closeAll();
    await rm(this.dir, { recursive: true, force: true });
  }
  create(name: string, limits: StoreLimits = {}): HandoffQueue {
    // Small segments so that a full queue frees space once read (whole segments are unlinked).
    const options = limits.maxSize ? { maxSize: limits.maxSize, maxSegmentSize: 1024 } : {};
    return this.track(new DiskBackedQueue(join(this.dir, name), options));
  }
}

export class JetStreamStore extends Tracked implements StoreFactory {
  readonly label: string;
  link!: NatsLink;
  cluster: NatsCluster | null = null;
  private stopServer: (() => Promise<void>) | null = null;

  constructor(readonly replicas: 1 | 3) {
    super();
    this.label = replicas === 1 ? 'JetStreamQueue, 1 server' : 'JetStreamQueue, 3 servers, R3';
  }

  async setup(): Promise<void> {
    let servers: string[];
    if (this.replicas === 1) {
      const server = await startNatsServer();
      servers = [server.url];
      this.stopServer = () => server.kill();
    } else {
      this.cluster = await startNatsCluster(3);
      servers = this.cluster.urls;
      const cluster = this.cluster;
      this.stopServer = () => cluster.cleanup();
    }
    this.link = await NatsLink.connect({ servers });
  }

  async teardown(): Promise<void> {
    await this.closeAll();
    await this.link?.close();
    await this.stopServer?.();
  }

  create(name: string, limits: StoreLimits = {}): HandoffQueue {
    return this.track(
      new JetStreamQueue(this.link, name, {
        // JetStream reserves max_bytes per stream against the server's store limit.
        maxSize: limits.maxSize ?? 1024 * 1024,
        replicas: this.replicas,
      }),
    );
  }
}

import type { DiskBackedQueueOptions } from '../queue/disk-backed-queue';
import type { HandoffQueue } from '../queue/handoff-queue.contract';
import { mkdirDurable, nodeQueueFileSystem } from '../queue/queue-fs';
import { QueueRegistry } from '../queue/queue-registry';
import { countSegments, formatSegmentRanges } from '../queue/segment-gaps';
import { DeadLetterQueue } from './dead-letter-queue';
import type { LeaseStatus, NodeStore, NodeStoreContext, StoreStatus } from './node-store';

/**
 * The disk store: each node's queue a directory of segment files under HH_DATA_DIR, its dead
 * letters in `dead-letters/` inside it, its URL in node.json beside them. One process owns a
 * directory (its lock), so there is no lease: this relay always replays.
 */
export class DiskNodeStore implements NodeStore {
  readonly kind = 'disk' as const;
  readonly agesOutByItself = false;
  private readonly queues: QueueRegistry;

  constructor(private readonly context: NodeStoreContext) {
    this.queues = new QueueRegistry({
      dataDir: context.config.dataDir,
      queueOptions: (id) => this.queueOptions(id),
    });
  }

  async start(): Promise<void> {
    // The data directory's entry in its parent is made durable (each queue does the same for
    // its own directory): a power loss must not take every queue along with it.
    await mkdirDurable(nodeQueueFileSystem, this.context.config.dataDir);
  }

  queueOf(nodeId: string): Promise<HandoffQueue> {
    return this.queues.get(nodeId);
  }

  deadLettersOf(nodeId: string): DeadLetterQueue {
    // Dead letters are rare and must not be lost: each one is fsynced.
    return new DeadLetterQueue(this.queues.dirOf(nodeId), {
      maxSize: this.context.config.maxSize,
      fsync: 'always',
    });
  }

  leaseOf(): undefined {
    return undefined;
  }

  leaseStatus(): LeaseStatus | undefined {
    return undefined;
  }

  stored(): Promise<string[]> {
    return this.queues.onDisk();
  }

  recordDirOf(nodeId: string): string {
    return this.queues.dirOf(nodeId);
  }

  close(nodeId: string): Promise<void> {
    return this.queues.close(nodeId);
  }

  remove(nodeId: string): Promise<void> {
    // The whole directory, with what the queue does not own (node.json).
    return this.queues.remove(nodeId);
  }

  closeAll(): Promise<void> {
    return this.queues.closeAll();
  }

  async stop(): Promise<void> {}

  status(): StoreStatus {
    return { kind: 'disk' };
  }

  private queueOptions(id: string): DiskBackedQueueOptions {
    const { config, metrics, logger } = this.context;
    return {
      maxSize: config.maxSize,
      maxSegmentSize: config.maxSegmentSize,
      fsync: config.fsync,
      fsyncIntervalMs: config.fsyncIntervalMs,
      onCorrupt: (info) => {
        metrics.corrupt(id, info.bytes);
        logger.error(
          `node ${id}: skipped ${info.bytes} corrupt bytes in segment ${info.segment} at ${info.offset} (${info.reason})`,
        );
      },
      onMissingSegments: (missing) => {
        metrics.missingSegments?.(id, countSegments(missing));
        logger.error(
          `node ${id}: segments ${formatSegmentRanges(missing)} are missing; their entries are lost`,
        );
      },
    };
  }
}

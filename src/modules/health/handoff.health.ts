import { access } from 'node:fs/promises';
import { resolve } from 'node:path';
import { Inject, Injectable } from '@nestjs/common';
import {
  DiskHealthIndicator,
  HealthIndicatorResult,
  HealthIndicatorService,
} from '@nestjs/terminus';
import { DEFAULTS } from '../../config/defaults';
import { HANDOFF_CONFIG } from '../../config/handoff-config.constants';
import type { HandoffConfig } from '../../config/handoff-config.interface';
import { HandoffService } from '../replay/handoff.service';
import type { NodeStatus } from '../replay/node-status.interface';

/** What a health check shows of one node: enough to see which queue is in trouble and why. */
export interface NodeHealthDetails {
  state: NodeStatus['state'];
  open: boolean;
  entries: number;
  bytes: number;
  diskBytes: number;
  maxSize: number;
  oldestAgeSeconds: number | null;
}

/**
 * Terminus indicator of hinted handoff. A host app uses it in its own health controller:
 * `() => indicator.isHealthy('handoff')`.
 */
@Injectable()
export class HandoffHealthIndicator {
  constructor(
    private readonly handoff: HandoffService,
    @Inject(HANDOFF_CONFIG) private readonly config: HandoffConfig,
    private readonly healthIndicatorService: HealthIndicatorService,
    private readonly disk: DiskHealthIndicator,
  ) {}

  /**
   * Every node's queue is open, below 90 % of its maximum size, and holds nothing older than
   * `healthMaxBacklogAgeMs`: hand-off is keeping up.
   */
  isHealthy<const Key extends string = 'handoff'>(
    key: Key = 'handoff' as Key,
  ): HealthIndicatorResult<Key> {
    return this.result(key, (status) => this.problemsOf(status, true));
  }

  /**
   * Every node's queue is open: the relay can take writes. What a load balancer should ask —
   * a slow backlog is an operator's concern, not a reason to stop sending traffic.
   */
  isReady<const Key extends string = 'handoff'>(
    key: Key = 'handoff' as Key,
  ): HealthIndicatorResult<Key> {
    return this.result(key, (status) => this.problemsOf(status, false));
  }

  /** Disk space of the data directory against `healthDiskThreshold` (terminus' disk check). */
  async isDiskHealthy<const Key extends string = 'handoff_disk'>(
    key: Key = 'handoff_disk' as Key,
  ): Promise<HealthIndicatorResult<Key>> {
    // The disk library accepts absolute paths only, and HH_DATA_DIR may be relative (the
    // default `./data/hh` is): resolved here, against the working directory the queues use too.
    const path = resolve(this.config.dataDir);
    try {
      // The disk check measures the file system holding the path, so the path must exist.
      await access(path);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'error';
      return this.healthIndicatorService
        .check(key)
        .down({ message: `data directory not accessible (${code})`, path });
    }
    try {
      return await this.disk.checkStorage(key, {
        path,
        thresholdPercent: this.config.healthDiskThreshold,
      });
    } catch (err) {
      // The check runs `df` in a child process, which fails when the relay is out of file
      // descriptors (EMFILE) or processes: that is a health problem to report, not a 500.
      const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
      return this.healthIndicatorService
        .check(key)
        .down({ message: `disk check failed (${code})`, path });
    }
  }

  /** True with HH_STORE=jetstream: /health then checks the NATS connection too. */
  usesNats(): boolean {
    return this.handoff.store?.().kind === 'jetstream';
  }

  /**
   * The NATS connection of the JetStream store: down while reconnecting (hand-offs answer 503
   * then; live writes to healthy nodes go on). Up, with `store: disk`, on the disk store.
   */
  isNatsHealthy<const Key extends string = 'nats'>(
    key: Key = 'nats' as Key,
  ): HealthIndicatorResult<Key> {
    const check = this.healthIndicatorService.check(key);
    const store = this.handoff.store?.() ?? { kind: 'disk' };
    if (store.kind !== 'jetstream') return check.up({ store: store.kind });
    const details = {
      state: store.nats,
      ...(store.server ? { server: store.server } : {}),
      servers: (this.config.natsUrl ?? '').split(',').map(withoutUserInfo),
    };
    return store.nats === 'connected'
      ? check.up(details)
      : check.down({ message: `NATS ${store.nats}: hand-offs are refused (503)`, ...details });
  }

  private result<Key extends string>(
    key: Key,
    problemsOf: (status: NodeStatus) => string[],
  ): HealthIndicatorResult<Key> {
    const check = this.healthIndicatorService.check(key);
    const nodes: Record<string, NodeHealthDetails> = {};
    const problems: string[] = [];
    for (const status of this.handoff.nodes()) {
      nodes[status.id] = detailsOf(status);
      problems.push(...problemsOf(status).map((p) => `node ${status.id}: ${p}`));
    }
    return problems.length === 0
      ? check.up({ nodes })
      : check.down({ message: problems.join('; '), nodes });
  }

  private problemsOf(status: NodeStatus, backlog: boolean): string[] {
    const problems: string[] = [];
    if (!status.open) problems.push('queue not open');
    // A queue left by a node no longer configured only drains or ages out: not a failure.
    if (!backlog || !status.configured) return problems;
    const limit = DEFAULTS.healthQueueFullRatio * status.maxSize;
    if (status.diskBytes >= limit) {
      const percent = Math.floor((status.diskBytes / status.maxSize) * 100);
      problems.push(`queue ${percent}% full (${status.diskBytes} of ${status.maxSize} bytes)`);
    }
    const maxAgeSeconds = this.config.healthMaxBacklogAgeMs / 1000;
    const age = status.backlog.oldestAgeSeconds;
    if (age !== null && age >= maxAgeSeconds) {
      problems.push(`oldest entry ${Math.floor(age)}s old (limit ${maxAgeSeconds}s)`);
    }
    return problems;
  }
}

function detailsOf(status: NodeStatus): NodeHealthDetails {
  return {
    state: status.state,
    open: status.open,
    entries: status.backlog.entries,
    bytes: status.backlog.bytes,
    diskBytes: status.diskBytes,
    maxSize: status.maxSize,
    oldestAgeSeconds: status.backlog.oldestAgeSeconds,
  };
}

/** A server URL as shown by /health: never its user and password. */
function withoutUserInfo(server: string): string {
  return server.trim().replace(/\/\/[^/@]*@/, '//');
}

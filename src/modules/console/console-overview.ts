import type { HandoffConfig } from '../../config/handoff-config.interface';
import type { NodeStatus } from '../replay/node-status.interface';
import type { NodeSample } from './console-history';
import type { ConsoleSampler, DiskUsage } from './console-sampler.service';

/** One node as the console shows it: its status, rates, time to empty and new samples. */
export interface ConsoleNode extends NodeStatus {
  /** Per second over the last sample: hand-offs (entries appended) and entries replayed. */
  rates: { handoff: number; replay: number };
  /** Seconds to empty at the recent drain rate; 0 when empty, null when not draining. */
  etaSeconds: number | null;
  /** Samples newer than the request's `since`, oldest first. */
  history: NodeSample[];
}

/** `GET <console>/api/overview`: everything the page shows, in one answer per poll. */
export interface ConsoleOverview {
  /** Server time (epoch ms): pass the newest sample's `t` back as `since` for the next poll. */
  now: number;
  sampleIntervalMs: number;
  /** What this request may do: the page disables its buttons when it cannot act. */
  access: { canAct: boolean; actionsNeedToken: boolean };
  relay: {
    dataDir: string;
    disk?: DiskUsage;
    diskError?: string;
    /** `/health` fails past this ratio of the disk. */
    healthDiskThreshold: number;
    /** Bytes on disk allowed per node queue (`HH_MAX_SIZE`). */
    maxSize: number;
  };
  nodes: ConsoleNode[];
}

export function buildOverview(
  sampler: ConsoleSampler,
  statuses: readonly NodeStatus[],
  config: Pick<HandoffConfig, 'dataDir' | 'healthDiskThreshold' | 'maxSize'>,
  access: ConsoleOverview['access'],
  since?: number,
): ConsoleOverview {
  const disk = sampler.disk();
  return {
    now: Date.now(),
    sampleIntervalMs: sampler.sampleIntervalMs,
    access,
    relay: {
      dataDir: config.dataDir,
      ...(disk && 'error' in disk ? { diskError: disk.error } : disk ? { disk } : {}),
      healthDiskThreshold: config.healthDiskThreshold,
      maxSize: config.maxSize,
    },
    nodes: statuses.map((status) => {
      const last = sampler.history.samples(status.id).at(-1);
      return {
        ...status,
        rates: { handoff: last?.handoffRate ?? 0, replay: last?.replayRate ?? 0 },
        etaSeconds: status.backlog.entries === 0 ? 0 : sampler.history.etaSeconds(status.id),
        history: sampler.history.samples(status.id, since),
      };
    }),
  };
}

/** `since` from the query: epoch milliseconds as plain digits, else none (full history). */
export function parseSince(value: unknown): number | undefined {
  return typeof value === 'string' && /^\d{1,15}$/.test(value) ? Number(value) : undefined;
}

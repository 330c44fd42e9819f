import { statfs } from 'node:fs/promises';
import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { HANDOFF_CONFIG } from '../../config/handoff-config.constants';
import type { HandoffConfig } from '../../config/handoff-config.interface';
import { HandoffService } from '../replay/handoff.service';
import { ConsoleHistory } from './console-history';
import { CONSOLE_OPTIONS, type ResolvedConsoleOptions } from './console-options';

/** Space on the file system holding the data directory. */
export interface DiskUsage {
  totalBytes: number;
  freeBytes: number;
  /** 0..1 of the space ordinary users can write that is taken. */
  usedRatio: number;
}

/**
 * Samples every node's status once per interval into the console's history, and the data
 * directory's disk. Runs only while the app runs (the timer is unref'd and stopped on shutdown),
 * whether or not anyone has the console open, so the charts have a past when it is opened.
 */
@Injectable()
export class ConsoleSampler implements OnApplicationBootstrap, OnModuleDestroy {
  readonly history: ConsoleHistory;
  private readonly logger = new Logger('HandoffConsole');
  private timer: NodeJS.Timeout | undefined;
  private diskUsage: DiskUsage | { error: string } | undefined;
  private statting = false;

  constructor(
    private readonly handoff: HandoffService,
    @Inject(HANDOFF_CONFIG) private readonly config: HandoffConfig,
    @Inject(CONSOLE_OPTIONS) private readonly options: ResolvedConsoleOptions,
  ) {
    this.history = new ConsoleHistory(
      Math.ceil(options.historySeconds / (options.sampleIntervalMs / 1000)),
    );
  }

  get sampleIntervalMs(): number {
    return this.options.sampleIntervalMs;
  }

  onApplicationBootstrap(): void {
    this.sample();
    this.timer = setInterval(() => this.sample(), this.options.sampleIntervalMs);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  disk(): DiskUsage | { error: string } | undefined {
    return this.diskUsage;
  }

  /** One sample; the disk is asked asynchronously and at most once at a time. */
  sample(now = Date.now()): void {
    try {
      this.history.record(now, this.handoff.nodes());
    } catch (err) {
      this.logger.warn(`sampling failed: ${(err as Error).message}`);
    }
    if (this.statting) return;
    this.statting = true;
    statfs(this.config.dataDir)
      .then(
        (s) => {
          const total = s.blocks * s.bsize;
          const free = s.bavail * s.bsize;
          // Like df: used over what users can fill (used + available), not over the raw size.
          const used = (s.blocks - s.bfree) * s.bsize;
          this.diskUsage = {
            totalBytes: total,
            freeBytes: free,
            usedRatio: used + free > 0 ? used / (used + free) : 0,
          };
        },
        (err: NodeJS.ErrnoException) => {
          this.diskUsage = { error: `data directory not accessible (${err.code ?? 'error'})` };
        },
      )
      .finally(() => (this.statting = false));
  }
}

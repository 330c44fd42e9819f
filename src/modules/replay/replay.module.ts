import {
  type DynamicModule,
  Inject,
  Module,
  type OnApplicationShutdown,
  Optional,
  type Provider,
} from '@nestjs/common';
import { ScheduleModule } from '@nestjs/schedule';
import { HANDOFF_CONFIG } from '../../config/handoff-config.constants';
import type { HandoffConfig } from '../../config/handoff-config.interface';
import { HANDOFF_CLIENT_REF } from '../handoff/hinted-handoff.constants';
import type { NodeClientRef } from '../handoff/node-client.providers';
import { HandoffService } from './handoff.service';
import { NODE_CLIENT, type NodeClient } from './node-client.interface';
import { REPLAY_METRICS, type ReplayMetrics } from './replay-metrics.interface';

export interface ReplayModuleOptions {
  /** The resolved config (HintedHandoffModule resolves it from options and HH_* variables). */
  config: HandoffConfig;
  /** Transport to the nodes; default an HttpNodeClient (lines format) over `config.nodes`. */
  client?: NodeClient;
  /**
   * Metrics sink; when left out, a REPLAY_METRICS provider visible globally is used, else none.
   */
  metrics?: ReplayMetrics;
  /**
   * Import `ScheduleModule.forRoot()` (default true). Pass false when the host app already
   * imports it: with Nest 11's by-reference module ids, every `ScheduleModule.forRoot()` call
   * is a module instance of its own, with its own SchedulerRegistry and its own explorer, which
   * would mount the host's `@Cron`/`@Interval` methods twice.
   */
  schedule?: boolean;
}

/**
 * One `ScheduleModule.forRoot()` result shared by every ReplayModule.forRoot call: the same
 * object is the same module to Nest, so importing it twice (two handoff modules) mounts it once.
 */
let sharedScheduleModule: DynamicModule | undefined;
function scheduleModule(): DynamicModule {
  sharedScheduleModule ??= ScheduleModule.forRoot();
  return sharedScheduleModule;
}

/**
 * Owns HandoffService: per-node queues, their replay timers (SchedulerRegistry timeouts
 * `handoff:replay:<node>`) and the age-purge cron job (`handoff:purge`). `forRoot` is the
 * standalone wiring; HintedHandoffModule builds this same module, global, from its own options
 * (see replay-composition.ts in the handoff module), so the service closes its queues among the
 * last shutdown hooks.
 */
@Module({})
export class ReplayModule implements OnApplicationShutdown {
  constructor(@Optional() @Inject(HANDOFF_CLIENT_REF) private readonly clientRef?: NodeClientRef) {}

  /**
   * Nest calls the module class's hook after its providers' hooks: a node client the module
   * made (HintedHandoffModule's wiring) is closed once HandoffService has let its sends finish
   * and closed the queues.
   */
  async onApplicationShutdown(): Promise<void> {
    if (this.clientRef?.owned) await this.clientRef.client.close?.();
  }

  static forRoot(options: ReplayModuleOptions): DynamicModule {
    const providers: Provider[] = [{ provide: HANDOFF_CONFIG, useValue: options.config }];
    if (options.client) providers.push({ provide: NODE_CLIENT, useValue: options.client });
    if (options.metrics) providers.push({ provide: REPLAY_METRICS, useValue: options.metrics });
    providers.push(HandoffService);
    return {
      module: ReplayModule,
      imports: options.schedule === false ? [] : [scheduleModule()],
      providers,
      exports: [HandoffService],
    };
  }
}

import { DynamicModule, Module, type ModuleMetadata, type Provider } from '@nestjs/common';
import { ScheduleModule } from '@nestjs/schedule';
import { HANDOFF_CONFIG } from '../../config/handoff-config.constants';
import type { HandoffConfig } from '../../config/handoff-config.interface';
import { HandoffService } from './handoff.service';
import { NODE_CLIENT, type NodeClient } from './node-client.interface';
import { REPLAY_METRICS, type ReplayMetrics } from './replay-metrics.interface';

export interface ReplayModuleOptions {
  /** The resolved config; leave out when `providers` supply HANDOFF_CONFIG (e.g. a factory). */
  config?: HandoffConfig;
  /** Transport to the nodes; default an HttpNodeClient (lines format) over `config.nodes`. */
  client?: NodeClient;
  /**
   * Metrics sink; when left out, a REPLAY_METRICS provider visible globally is used, else none.
   */
  metrics?: ReplayMetrics;
  /** Modules the extra providers need (e.g. ConfigModule for a HANDOFF_CONFIG factory). */
  imports?: ModuleMetadata['imports'];
  /** Extra providers, e.g. `{ provide: HANDOFF_CONFIG, useFactory, inject }`. */
  providers?: Provider[];
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
 * Provides HandoffService: per-node queues, their replay timers (SchedulerRegistry timeouts
 * `handoff:replay:<node>`) and the age-purge cron job (`handoff:purge`).
 */
@Module({})
export class ReplayModule {
  static forRoot(options: ReplayModuleOptions): DynamicModule {
    const providers: Provider[] = [...(options.providers ?? [])];
    if (options.config) providers.push({ provide: HANDOFF_CONFIG, useValue: options.config });
    if (options.client) providers.push({ provide: NODE_CLIENT, useValue: options.client });
    if (options.metrics) providers.push({ provide: REPLAY_METRICS, useValue: options.metrics });
    providers.push(HandoffService);
    return {
      module: ReplayModule,
      imports: [
        ...(options.schedule === false ? [] : [scheduleModule()]),
        ...(options.imports ?? []),
      ],
      providers,
      exports: [HandoffService],
    };
  }
}

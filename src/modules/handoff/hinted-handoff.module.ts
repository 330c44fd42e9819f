import { type DynamicModule, Module } from '@nestjs/common';
import { HANDOFF_CONFIG } from '../../config/handoff-config.constants';
import { HandoffService } from '../replay/handoff.service';
import { HandoffExceptionFilter } from './handoff-exception.filter';
import { HandoffWriter } from './handoff-writer';
import {
  composedHealthModule,
  composedQueueModule,
  composedReplayModule,
  publicAliases,
  type CoreSettingsSource,
} from './replay-composition';
import type {
  HintedHandoffModuleAsyncOptions,
  HintedHandoffModuleExtras,
  HintedHandoffModuleOptions,
  HintedHandoffSettings,
} from './hinted-handoff-options.interface';

/**
 * Hinted handoff for an existing NestJS app. `forRoot()` once (settings from `HH_*` variables
 * and/or options), then inject `HandoffService` / `HandoffWriter`, use `HandoffHealthIndicator`
 * in the app's health controller, and `QueueModule.registerQueue(...ids)` where a module wants
 * a node's queue by `@InjectHandoffQueue(id)`. It composes the rooms and re-exports them:
 * ReplayModule (HandoffService, the retry and purge jobs), HandoffHealthModule (the indicator),
 * QueueModule (the per-node queues `registerQueue` injects). The library never calls
 * ConfigModule.forRoot, PrometheusModule.register or ScheduleModule.forRoot: when the host has
 * ScheduleModule, the `handoff:*` jobs are in its SchedulerRegistry; without it they run on a
 * private one.
 */
@Module({})
export class HintedHandoffModule {
  static forRoot(options: HintedHandoffModuleOptions = {}): DynamicModule {
    const { client, metrics, isGlobal, ...settings } = options;
    return HintedHandoffModule.root(
      { settings: settings as HintedHandoffSettings },
      { client, metrics, isGlobal },
    );
  }

  static forRootAsync(options: HintedHandoffModuleAsyncOptions): DynamicModule {
    const { client, metrics, isGlobal, ...source } = options;
    return HintedHandoffModule.root(source, { client, metrics, isGlobal });
  }

  private static root(
    source: CoreSettingsSource,
    extras: HintedHandoffModuleExtras,
  ): DynamicModule {
    const rooms = [
      composedReplayModule(source, extras),
      composedHealthModule(),
      composedQueueModule(),
    ];
    return {
      module: HintedHandoffModule,
      global: extras.isGlobal ?? true,
      imports: rooms,
      // The filter is a provider too, so `app.useGlobalFilters(app.get(HandoffExceptionFilter))`
      // works as well as an APP_FILTER binding.
      providers: [...publicAliases, HandoffExceptionFilter],
      exports: [...rooms, HandoffService, HANDOFF_CONFIG, HandoffWriter, HandoffExceptionFilter],
    };
  }
}

import { type DynamicModule, Module, type Provider } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { HANDOFF_CONFIG } from '../../config/handoff-config.constants';
import { HandoffHealthIndicator } from '../health/handoff.health';
import { HandoffService } from '../replay/handoff.service';
import { HandoffExceptionFilter } from './handoff-exception.filter';
import { HandoffWriter } from './handoff-writer';
import { HintedHandoffCoreModule, type CoreSettingsSource } from './hinted-handoff-core.module';
import {
  HANDOFF_CORE_CONFIG,
  HANDOFF_CORE_SERVICE,
  HANDOFF_CORE_WRITER,
} from './hinted-handoff.constants';
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
 * a node's queue by `@InjectHandoffQueue(id)`. The library never calls ConfigModule.forRoot,
 * PrometheusModule.register or ScheduleModule.forRoot: when the host has ScheduleModule, the
 * `handoff:*` jobs are in its SchedulerRegistry; without it they run on a private one.
 */
@Module({})
export class HintedHandoffModule {
  static forRoot(options: HintedHandoffModuleOptions = {}): DynamicModule {
    const { client, metrics, isGlobal, ...settings } = options;
    return HintedHandoffModule.root(
      { settings: settings as HintedHandoffSettings },
      {
        client,
        metrics,
        isGlobal,
      },
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
    const aliases: Provider[] = [
      { provide: HandoffService, useExisting: HANDOFF_CORE_SERVICE },
      { provide: HANDOFF_CONFIG, useExisting: HANDOFF_CORE_CONFIG },
      { provide: HandoffWriter, useExisting: HANDOFF_CORE_WRITER },
    ];
    return {
      module: HintedHandoffModule,
      global: extras.isGlobal ?? true,
      imports: [HintedHandoffCoreModule.create(source, extras), TerminusModule],
      // The filter is a provider too, so `app.useGlobalFilters(app.get(HandoffExceptionFilter))`
      // works as well as an APP_FILTER binding.
      providers: [...aliases, HandoffHealthIndicator, HandoffExceptionFilter],
      exports: [
        HandoffService,
        HANDOFF_CONFIG,
        HandoffWriter,
        HandoffHealthIndicator,
        HandoffExceptionFilter,
      ],
    };
  }
}

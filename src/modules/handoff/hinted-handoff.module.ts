import { type DynamicModule, Module, type Provider } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { HANDOFF_CONFIG } from '../../config/handoff-config.constants';
import { HandoffHealthIndicator } from '../health/handoff.health';
import type { DiskBackedQueue } from '../queue/disk-backed-queue';
import { getHandoffQueueToken } from '../queue/queue.constants';
import { HandoffService } from '../replay/handoff.service';
import { HandoffQueueNotConfiguredError } from './errors';
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
 * in the app's health controller, and `registerQueue(...ids)` where a module wants a node's
 * queue by `@InjectHandoffQueue(id)`. The library never calls ConfigModule.forRoot,
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
    const { client, metrics, isGlobal, imports, inject, useFactory } = options;
    return HintedHandoffModule.root({ imports, inject, useFactory }, { client, metrics, isGlobal });
  }

  /**
   * One provider per node under `getHandoffQueueToken(id)`: the very DiskBackedQueue that
   * HandoffService appends to and replays from (a directory has one owner). The node must be
   * configured (or left on disk by an earlier configuration); the app does not start otherwise.
   */
  static registerQueue(...nodeIds: string[]): DynamicModule {
    const providers: Provider<Promise<DiskBackedQueue>>[] = [...new Set(nodeIds)].map((id) => ({
      provide: getHandoffQueueToken(id),
      useFactory: async (handoff: HandoffService) => {
        // Factories run before lifecycle hooks: let the service open its queues first (the
        // call is idempotent; Nest's own onModuleInit joins the same start).
        await handoff.onModuleInit();
        if (!handoff.hasNode(id)) {
          // Nest runs no shutdown hook after a failed start: release the queue locks here.
          await handoff.onApplicationShutdown();
          throw new HandoffQueueNotConfiguredError(id);
        }
        return handoff.queueOf(id);
      },
      inject: [HANDOFF_CORE_SERVICE],
    }));
    return { module: HintedHandoffModule, providers, exports: providers };
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
      providers: [...aliases, HandoffHealthIndicator],
      exports: [HandoffService, HANDOFF_CONFIG, HandoffWriter, HandoffHealthIndicator],
    };
  }
}

import {
  type DynamicModule,
  Inject,
  Module,
  type OnApplicationShutdown,
  type Provider,
} from '@nestjs/common';
import { HANDOFF_CONFIG } from '../../config/handoff-config.constants';
import { resolveHandoffConfig } from '../../config/resolve-handoff-config';
import { HandoffMetricsModule } from '../metrics/handoff-metrics.module';
import { HandoffService } from '../replay/handoff.service';
import { NOOP_REPLAY_METRICS, REPLAY_METRICS } from '../replay/replay-metrics.interface';
import { HandoffWriter } from './handoff-writer';
import {
  HANDOFF_CLIENT_REF,
  HANDOFF_CORE_CONFIG,
  HANDOFF_CORE_SERVICE,
  HANDOFF_CORE_WRITER,
  HINTED_HANDOFF_MODULE_OPTIONS,
} from './hinted-handoff.constants';
import type {
  HintedHandoffModuleAsyncOptions,
  HintedHandoffModuleExtras,
  HintedHandoffSettings,
} from './hinted-handoff-options.interface';
import { nodeClientProviders, type NodeClientRef } from './node-client.providers';

/** How the core gets its settings: a value, or a factory with its imports and dependencies. */
export type CoreSettingsSource =
  | { settings: HintedHandoffSettings }
  | Pick<HintedHandoffModuleAsyncOptions, 'imports' | 'inject' | 'useFactory'>;

/**
 * The one HandoffService of the application and what it needs. Always global, for two reasons:
 * `registerQueue` modules must reach the service that owns the queues (a second owner would
 * meet the directory lock), and Nest runs the shutdown hooks of global modules last, so the
 * queues are closed after the host's modules have had their `beforeApplicationShutdown` /
 * `onApplicationShutdown` (which may still hand writes off). It exports private tokens only;
 * the public module decides who sees the public ones.
 */
@Module({})
export class HintedHandoffCoreModule implements OnApplicationShutdown {
  constructor(@Inject(HANDOFF_CLIENT_REF) private readonly clientRef: NodeClientRef) {}

  /**
   * Nest calls the module class's hook after its providers' hooks: the HTTP client the module
   * made is closed once HandoffService has let its sends finish and closed the queues.
   */
  async onApplicationShutdown(): Promise<void> {
    if (this.clientRef.owned) await this.clientRef.client.close?.();
  }

  static create(source: CoreSettingsSource, extras: HintedHandoffModuleExtras): DynamicModule {
    const settingsProvider: Provider =
      'settings' in source
        ? { provide: HINTED_HANDOFF_MODULE_OPTIONS, useValue: source.settings }
        : {
            provide: HINTED_HANDOFF_MODULE_OPTIONS,
            useFactory: source.useFactory,
            inject: source.inject ?? [],
          };
    const imports = 'settings' in source ? [] : [...(source.imports ?? [])];
    if (extras.metrics === true) imports.push(HandoffMetricsModule);
    const providers: Provider[] = [
      settingsProvider,
      {
        provide: HANDOFF_CONFIG,
        // The same resolution as the relay: options over HH_* variables, one checked result.
        // A factory's full config (handoffConfig.asProvider()) passes through it unchanged.
        useFactory: (settings: HintedHandoffSettings | undefined) =>
          resolveHandoffConfig(settings ?? {}, process.env),
        inject: [HINTED_HANDOFF_MODULE_OPTIONS],
      },
      ...nodeClientProviders(extras.client),
      // A local provider wins over a global one: `metrics: false` silences even a host's binding.
      ...(extras.metrics === false
        ? [{ provide: REPLAY_METRICS, useValue: NOOP_REPLAY_METRICS }]
        : []),
      HandoffService,
      HandoffWriter,
      { provide: HANDOFF_CORE_SERVICE, useExisting: HandoffService },
      { provide: HANDOFF_CORE_CONFIG, useExisting: HANDOFF_CONFIG },
      { provide: HANDOFF_CORE_WRITER, useExisting: HandoffWriter },
    ];
    return {
      module: HintedHandoffCoreModule,
      global: true,
      imports,
      providers,
      exports: [HANDOFF_CORE_SERVICE, HANDOFF_CORE_CONFIG, HANDOFF_CORE_WRITER],
    };
  }
}

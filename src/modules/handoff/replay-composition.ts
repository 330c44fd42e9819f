import type { DynamicModule, Provider, Type } from '@nestjs/common';
import { HANDOFF_CONFIG } from '../../config/handoff-config.constants';
import type { HandoffConfig } from '../../config/handoff-config.interface';
import { HandoffHealthModule } from '../health/handoff-health.module';
import type { HandoffQueueSource } from '../queue/handoff-queue-source';
import { QueueModule } from '../queue/queue.module';
import { HandoffService } from '../replay/handoff.service';
import { NOOP_REPLAY_METRICS, REPLAY_METRICS } from '../replay/replay-metrics.interface';
import { ReplayModule } from '../replay/replay.module';
import { HandoffQueueNotConfiguredError } from './errors';
import { HandoffWriter } from './handoff-writer';
import {
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
import { nodeClientProviders } from './node-client.providers';
import { settingsProviders } from './settings.providers';

/** How the rooms get their settings: a value, or a factory / class with its imports. */
export type CoreSettingsSource =
  | { settings: HintedHandoffSettings }
  | Pick<
      HintedHandoffModuleAsyncOptions,
      'imports' | 'inject' | 'useFactory' | 'useClass' | 'useExisting'
    >;

/**
 * Loaded when the module is built, not when the package is required: class-validator (the
 * settings' checks) and prom-client (metrics) cost a host's start-up only when it uses them.
 */
function resolveSettings(settings: HintedHandoffSettings | undefined): HandoffConfig {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { resolveHandoffConfig } = require('../../config/resolve-handoff-config') as {
    resolveHandoffConfig: (s: object, env: NodeJS.ProcessEnv) => HandoffConfig;
  };
  return resolveHandoffConfig(settings ?? {}, process.env);
}

/**
 * QueueModule.registerQueue's queues are HandoffService's own (a directory has one owner). The
 * node must be configured (or left on disk by an earlier configuration).
 */
function queueSourceOf(handoff: HandoffService): HandoffQueueSource {
  return {
    async queueOf(id) {
      // Factories run before lifecycle hooks: let the service open its queues first (the call
      // is idempotent; Nest's own onModuleInit joins the same start).
      await handoff.onModuleInit();
      if (!handoff.hasNode(id)) {
        // Nest runs no shutdown hook after a failed start: release the queue locks here.
        await handoff.onApplicationShutdown();
        throw new HandoffQueueNotConfiguredError(id);
      }
      return handoff.queueOf(id);
    },
  };
}

function handoffMetricsModule(): Type<unknown> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (require('../metrics/handoff-metrics.module') as { HandoffMetricsModule: Type<unknown> })
    .HandoffMetricsModule;
}

/**
 * The one ReplayModule (HandoffService, its jobs, and what it needs) of an app wired by
 * HintedHandoffModule. Always global, for two reasons: `registerQueue` modules must reach the
 * service that owns the queues (a second owner would meet the directory lock), and Nest runs
 * the shutdown hooks of global modules last, so the queues are closed after the host's modules
 * have had their `beforeApplicationShutdown` / `onApplicationShutdown` (which may still hand
 * writes off). It exports private tokens only; HintedHandoffModule decides who sees the public
 * ones. No ScheduleModule import: the host's SchedulerRegistry if it has one, else a private one.
 */
export function composedReplayModule(
  source: CoreSettingsSource,
  extras: HintedHandoffModuleExtras,
): DynamicModule {
  const imports = 'settings' in source ? [] : [...(source.imports ?? [])];
  if (extras.metrics === true) imports.push(handoffMetricsModule());
  const providers: Provider[] = [
    ...settingsProviders(source),
    {
      provide: HANDOFF_CONFIG,
      // The same resolution as the relay: options over HH_* variables, one checked result.
      // A factory's full config (handoffConfig.asProvider()) passes through it unchanged.
      useFactory: resolveSettings,
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
    module: ReplayModule,
    global: true,
    imports,
    providers,
    exports: [HANDOFF_CORE_SERVICE, HANDOFF_CORE_CONFIG, HANDOFF_CORE_WRITER],
  };
}

/** The public tokens, as aliases of the composed ReplayModule's private ones. */
const serviceAlias: Provider = { provide: HandoffService, useExisting: HANDOFF_CORE_SERVICE };
const configAlias: Provider = { provide: HANDOFF_CONFIG, useExisting: HANDOFF_CORE_CONFIG };
const writerAlias: Provider = { provide: HandoffWriter, useExisting: HANDOFF_CORE_WRITER };
export const publicAliases: Provider[] = [serviceAlias, configAlias, writerAlias];

/** `registerQueue` reads HandoffService's queues. */
export function composedQueueModule(): DynamicModule {
  return QueueModule.forQueueSource({ useFactory: queueSourceOf, inject: [HANDOFF_CORE_SERVICE] });
}

/**
 * HandoffHealthModule's indicator over the composed service: the aliases are local to it, so
 * it works with `isGlobal: false` too.
 */
export function composedHealthModule(): DynamicModule {
  return { module: HandoffHealthModule, providers: [serviceAlias, configAlias] };
}

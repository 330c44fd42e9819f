import { type DynamicModule, type FactoryProvider, Module, type Provider } from '@nestjs/common';
import { HANDOFF_CONFIG } from '../../config/handoff-config.constants';
import { HandoffError } from '../../handoff-error';
import type { HandoffConfig } from '../../config/handoff-config.interface';
import type { HandoffQueue } from './handoff-queue.contract';
import { HandoffQueueRegistry } from './handoff-queue-registry';
import { HANDOFF_QUEUE_SOURCE, type HandoffQueueSource } from './handoff-queue-source';
import { QueueCoreModule } from './queue-core.module';
import type { QueueModuleAsyncOptions, QueueModuleOptions } from './queue-module-options.interface';
import { queueOptionsFromConfig } from './queue-options-from-config';
import { getHandoffQueueToken, QUEUE_MODULE_OPTIONS } from './queue.constants';

/**
 * QueueModule.forRoot* keeps queues on disk; with HH_STORE=jetstream the queues are
 * HintedHandoffModule's (its `registerQueue` gives JetStreamQueues).
 */
export class DiskOnlyQueueModuleError extends HandoffError {
  readonly code = 'ERR_QUEUE_MODULE_DISK_ONLY';
  constructor() {
    super(
      'QueueModule.forRootFromConfig keeps queues on disk, but HH_STORE=jetstream: import ' +
        'HintedHandoffModule (its QueueModule.registerQueue gives the JetStream queues) instead',
    );
  }
}

/**
 * Per-node DiskBackedQueues for Nest. `registerQueue(...nodeIds)` wherever a module wants queues
 * injected by `@InjectHandoffQueue(nodeId)`: with `HintedHandoffModule` in the app they are the
 * queues HandoffService replays from (HintedHandoffModule composes `forQueueSource`). Without
 * it, call one `forRoot*()` once (it is global: the
 * registry is then injectable everywhere as HandoffQueueRegistry or QueueRegistry). Every queue
 * is closed on application shutdown.
 */
@Module({})
export class QueueModule {
  /** Static options: `{ dataDir, queueOptions }`. */
  static forRoot(options: QueueModuleOptions): DynamicModule {
    return QueueModule.root([{ provide: QUEUE_MODULE_OPTIONS, useValue: options }]);
  }

  /** Options from a factory (e.g. one that reads ConfigService). */
  static forRootAsync(options: QueueModuleAsyncOptions): DynamicModule {
    return QueueModule.root(
      [
        {
          provide: QUEUE_MODULE_OPTIONS,
          useFactory: options.useFactory,
          inject: options.inject ?? [],
        },
      ],
      options.imports,
    );
  }

  /**
   * Options from the resolved HH_* configuration (HANDOFF_CONFIG): data dir, max size, segment
   * size and fsync policy. `imports` when HANDOFF_CONFIG is not provided globally. Disk only:
   * HH_STORE=jetstream is refused (DiskOnlyQueueModuleError) rather than quietly on disk.
   */
  static forRootFromConfig(extra: Pick<QueueModuleAsyncOptions, 'imports'> = {}): DynamicModule {
    return QueueModule.forRootAsync({
      imports: extra.imports,
      inject: [HANDOFF_CONFIG],
      useFactory: (config: HandoffConfig) => {
        if (config.store === 'jetstream') throw new DiskOnlyQueueModuleError();
        return queueOptionsFromConfig(config);
      },
    });
  }

  /**
   * One provider per node, under `getHandoffQueueToken(id)`: the node's queue, opened (the
   * application does not start if a queue cannot be opened, or, with HintedHandoffModule, if
   * the node is not configured). Invalid ids throw here.
   */
  static registerQueue(...nodeIds: string[]): DynamicModule {
    const providers: Provider<Promise<HandoffQueue>>[] = [...new Set(nodeIds)].map((id) => ({
      provide: getHandoffQueueToken(id),
      useFactory: (source: HandoffQueueSource) => source.queueOf(id),
      inject: [HANDOFF_QUEUE_SOURCE],
    }));
    return { module: QueueModule, providers, exports: providers };
  }

  /**
   * Queues owned by another provider, which `registerQueue` then injects: HintedHandoffModule
   * builds this with HandoffService's queues (a directory has one owner). Global, like
   * `forRoot*()`; give one or the other in an app.
   */
  static forQueueSource(
    source: Omit<FactoryProvider<HandoffQueueSource | Promise<HandoffQueueSource>>, 'provide'>,
  ): DynamicModule {
    const provider: Provider = { provide: HANDOFF_QUEUE_SOURCE, ...source };
    return { module: QueueModule, global: true, providers: [provider], exports: [provider] };
  }

  private static root(
    optionsProviders: Provider[],
    imports: QueueModuleAsyncOptions['imports'] = [],
  ): DynamicModule {
    return {
      module: QueueModule,
      global: true,
      imports: [...imports, QueueCoreModule],
      providers: [
        ...optionsProviders,
        {
          provide: HANDOFF_QUEUE_SOURCE,
          useFactory: (registry: HandoffQueueRegistry): HandoffQueueSource => ({
            queueOf: (id) => registry.get(id),
          }),
          inject: [HandoffQueueRegistry],
        },
      ],
      exports: [QUEUE_MODULE_OPTIONS, QueueCoreModule, HANDOFF_QUEUE_SOURCE],
    };
  }
}

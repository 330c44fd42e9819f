import type { InjectionToken, ModuleMetadata, OptionalFactoryDependency } from '@nestjs/common';
import type { QueueRegistryOptions } from './queue-registry';

/** `{ dataDir, queueOptions }`: node `<id>` gets its queue in `<dataDir>/<id>`. */
export type QueueModuleOptions = QueueRegistryOptions;

export interface QueueModuleAsyncOptions {
  /** Modules whose providers the factory injects (e.g. the one that provides HANDOFF_CONFIG). */
  imports?: ModuleMetadata['imports'];
  inject?: (InjectionToken | OptionalFactoryDependency)[];
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  useFactory: (...args: any[]) => QueueModuleOptions | Promise<QueueModuleOptions>;
}

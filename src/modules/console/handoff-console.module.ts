import { type DynamicModule, Module } from '@nestjs/common';
import { createConsoleControllers } from './console.controllers';
import {
  CONSOLE_OPTIONS,
  type HandoffConsoleOptions,
  resolveConsoleOptions,
} from './console-options';
import { ConsoleSampler } from './console-sampler.service';

/**
 * The operator console: a page at `path` (default `hh/ui`) showing every node's backlog, rates,
 * charts, dead letters and the data directory's disk, with pause / resume / replay / purge /
 * requeue. Needs `HandoffService` and `HANDOFF_CONFIG` visible (the relay app and
 * `HintedHandoffModule.forRoot()` both make them global). Reads and actions follow the
 * operator routes' rules (`HH_AUTH_TOKEN`, `HH_ADMIN_TOKEN`, loopback); `guards` adds the host's.
 */
@Module({})
export class HandoffConsoleModule {
  static register(options: HandoffConsoleOptions = {}): DynamicModule {
    const resolved = resolveConsoleOptions(options);
    return {
      module: HandoffConsoleModule,
      controllers: createConsoleControllers(resolved),
      providers: [{ provide: CONSOLE_OPTIONS, useValue: resolved }, ConsoleSampler],
    };
  }
}

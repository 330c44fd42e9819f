import type {
  InjectionToken,
  ModuleMetadata,
  OptionalFactoryDependency,
  Type,
} from '@nestjs/common';
import type { HandoffConfig } from '../../config/handoff-config.interface';
import type { NodeClient } from '../replay/node-client.interface';

/**
 * Settings of the module: any `HandoffConfig` field; each one given wins over its `HH_*`
 * variable, the rest come from the environment (or the defaults), checked as one. Sizes and
 * durations may be numbers (bytes, ms) or text as the variables take it (`'512MB'`, `'7d'`).
 */
export type HintedHandoffSettings = {
  [K in keyof HandoffConfig]?: HandoffConfig[K] extends number ? number | string : HandoffConfig[K];
};

/** A class that makes the settings: `forRootAsync({ useClass })` or `{ useExisting }`. */
export interface HintedHandoffOptionsFactory {
  createHintedHandoffOptions(): HintedHandoffSettings | Promise<HintedHandoffSettings>;
}

/** What is fixed when the module is declared (it shapes the providers, so no factory decides it). */
export interface HintedHandoffModuleExtras {
  /**
   * The transport to the nodes, instead of HTTP: a class (instantiated by Nest, so it may inject
   * the host's providers) or an instance. Errors it throws are transient (kept, retried with
   * back-off) unless they are `PermanentWriteError` (dead-lettered). A client given here is the
   * host's: the module never calls its `close()` (a class gets Nest's own shutdown hooks).
   */
  client?: Type<NodeClient> | NodeClient;
  /**
   * `true`: define the `hh_*` Prometheus metrics and count into them (imports
   * HandoffMetricsModule; the host's PrometheusModule serves them). `false`: count nothing.
   * Left out: use the metrics the host provides (HandoffMetricsModule or its own REPLAY_METRICS
   * provider, globally), else count nothing.
   */
  metrics?: boolean;
  /**
   * Make HandoffService, HandoffWriter, HandoffHealthIndicator and HANDOFF_CONFIG injectable in
   * every module (default `true`: one handoff per application, like a bullmq root). With `false`
   * only modules that import this module object see them.
   */
  isGlobal?: boolean;
}

/** `HintedHandoffModule.forRoot(options)`: settings and extras in one object. */
export interface HintedHandoffModuleOptions
  extends HintedHandoffSettings, HintedHandoffModuleExtras {}

/**
 * `HintedHandoffModule.forRootAsync(options)`: the settings come from a factory (for instance
 * `handoffConfig.asProvider()`, or one that reads ConfigService), a class implementing
 * `HintedHandoffOptionsFactory` (`useClass`, instantiated in this module) or an existing
 * provider of one (`useExisting`, from `imports` or a global module); a full or partial result
 * is resolved against the environment and checked again. Exactly one of the three.
 */
export interface HintedHandoffModuleAsyncOptions extends HintedHandoffModuleExtras {
  imports?: ModuleMetadata['imports'];
  inject?: (InjectionToken | OptionalFactoryDependency)[];
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  useFactory?: (...args: any[]) => HintedHandoffSettings | Promise<HintedHandoffSettings>;
  useClass?: Type<HintedHandoffOptionsFactory>;
  useExisting?: InjectionToken<HintedHandoffOptionsFactory>;
}

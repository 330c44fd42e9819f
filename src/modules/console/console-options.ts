import type { CanActivate, Type } from '@nestjs/common';

/** How a host mounts the console: `HandoffConsoleModule.register({ path, guards })`. */
export interface HandoffConsoleOptions {
  /** Where the page answers, without leading slash (default `hh/ui`); its API is under it. */
  path?: string;
  /**
   * The host's own guards, run before the console's token rules on the page, its assets and
   * its API (e.g. your session or role guard). Global guards of the host apply anyway.
   */
  guards?: Type<CanActivate>[];
  /** How often every node is sampled for the charts (default 1 s). */
  sampleIntervalMs?: number;
  /** How much history the charts keep (default 10 minutes). */
  historySeconds?: number;
}

export type ResolvedConsoleOptions = Required<HandoffConsoleOptions>;

export const CONSOLE_OPTIONS = Symbol('HANDOFF_CONSOLE_OPTIONS');

export const DEFAULT_CONSOLE_PATH = 'hh/ui';

/** Defaults filled in and the path checked: plain URL segments, nothing to escape anywhere. */
export function resolveConsoleOptions(options: HandoffConsoleOptions = {}): ResolvedConsoleOptions {
  const path = (options.path ?? DEFAULT_CONSOLE_PATH).replace(/^\/+|\/+$/g, '');
  if (!/^[A-Za-z0-9_.~-]+(\/[A-Za-z0-9_.~-]+)*$/.test(path) || path.split('/').includes('..')) {
    throw new Error(
      `HandoffConsoleModule: path ${JSON.stringify(options.path)} must be URL segments of letters, digits, _ . ~ -`,
    );
  }
  const sampleIntervalMs = options.sampleIntervalMs ?? 1000;
  const historySeconds = options.historySeconds ?? 600;
  if (!(sampleIntervalMs >= 100) || !(historySeconds >= sampleIntervalMs / 1000)) {
    throw new Error('HandoffConsoleModule: sampleIntervalMs ≥ 100 and historySeconds ≥ one sample');
  }
  return { path, guards: options.guards ?? [], sampleIntervalMs, historySeconds };
}

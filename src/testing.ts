/**
 * `nestjs-hinted-handoff/testing`: run a host's unit and e2e tests with the module, without
 * `HH_*` variables and without creating anything in the project folder.
 *
 *   const hh = await createHandoffTestSettings({ nodes: [{ id: 'a', url: sink.url }] });
 *   const ref = await Test.createTestingModule({ imports: [AppModule] })
 *     .overrideProvider(HINTED_HANDOFF_OPTIONS).useValue(hh.settings)
 *     .compile();
 *   …
 *   await app.close(); await hh.cleanup();
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { HintedHandoffSettings } from './modules/handoff/hinted-handoff-options.interface';
import { HINTED_HANDOFF_MODULE_OPTIONS } from './modules/handoff/hinted-handoff.constants';

/**
 * The token of the module's settings, whichever of forRoot / forRootAsync the host's AppModule
 * uses: `overrideProvider(HINTED_HANDOFF_OPTIONS).useValue(settings)` replaces them in a test.
 */
export const HINTED_HANDOFF_OPTIONS = HINTED_HANDOFF_MODULE_OPTIONS;

export interface HandoffTestSettings {
  /** The settings to give the module: a fresh temp `dataDir`, quick retries, your overrides. */
  settings: HintedHandoffSettings;
  /** The temp data directory (under the OS temp dir, never the project folder). */
  dataDir: string;
  /** Removes the data directory; call after `app.close()`. */
  cleanup(): Promise<void>;
}

/**
 * Settings for a test: a fresh temp data directory, retries every 10 ms up to 100 ms (a test
 * does not wait seconds for a replay), and an fsync policy a test does not pay for.
 * Every setting given wins over the `HH_*` variables; give `nodes` for the nodes the test uses.
 */
export async function createHandoffTestSettings(
  overrides: HintedHandoffSettings = {},
): Promise<HandoffTestSettings> {
  const dataDir = await mkdtemp(join(tmpdir(), 'hh-test-'));
  const settings: HintedHandoffSettings = {
    dataDir,
    retryIntervalMs: 10,
    retryMaxIntervalMs: 100,
    fsync: 'never',
    ...overrides,
  };
  return {
    settings,
    dataDir,
    cleanup: () => rm(dataDir, { recursive: true, force: true }),
  };
}

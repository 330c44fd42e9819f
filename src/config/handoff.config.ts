import { registerAs } from '@nestjs/config';
import { validateHandoffEnv } from './handoff-env';

/**
 * The `handoff` configuration namespace, read from the `HH_*` variables of `process.env` when
 * the factory runs. A host registers it with `ConfigModule.forFeature(handoffConfig)` or passes
 * `handoffConfig.asProvider()` to `HintedHandoffModule.forRootAsync`; the library itself never
 * calls `ConfigModule.forRoot` (the host owns it).
 */
export const handoffConfig = registerAs('handoff', () => validateHandoffEnv(process.env));

/** Options over environment, checked as one: the resolution every module performs. */
export { resolveHandoffConfig } from './resolve-handoff-config';

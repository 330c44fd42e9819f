import { HandoffError } from '../../handoff-error';
import type { Provider } from '@nestjs/common';
import { HINTED_HANDOFF_MODULE_OPTIONS } from './hinted-handoff.constants';
import type {
  HintedHandoffModuleAsyncOptions,
  HintedHandoffOptionsFactory,
  HintedHandoffSettings,
} from './hinted-handoff-options.interface';

type SettingsSource =
  | { settings: HintedHandoffSettings }
  | Pick<HintedHandoffModuleAsyncOptions, 'inject' | 'useFactory' | 'useClass' | 'useExisting'>;

/** Private token of a `useClass` options factory, instantiated inside the module. */
const OPTIONS_FACTORY = Symbol('HINTED_HANDOFF_OPTIONS_FACTORY');

/** Names the ways to give settings, for the message of a call that gives none or several. */
class AsyncOptionsError extends HandoffError {
  readonly code = 'ERR_HANDOFF_ASYNC_OPTIONS';
  constructor(given: string[]) {
    super(
      `HintedHandoffModule.forRootAsync: give exactly one of useFactory, useClass, useExisting (got ${
        given.length === 0 ? 'none' : given.join(', ')
      })`,
    );
  }
}

const fromFactory = (factory: HintedHandoffOptionsFactory) => factory.createHintedHandoffOptions();

/**
 * The provider of the settings (HINTED_HANDOFF_MODULE_OPTIONS), the way @nestjs modules build
 * theirs: a value, a factory with `inject`, a class Nest instantiates, or an existing provider.
 */
export function settingsProviders(source: SettingsSource): Provider[] {
  if ('settings' in source) {
    return [{ provide: HINTED_HANDOFF_MODULE_OPTIONS, useValue: source.settings }];
  }
  const given = (['useFactory', 'useClass', 'useExisting'] as const).filter(
    (key) => source[key] !== undefined,
  );
  if (given.length !== 1) throw new AsyncOptionsError(given);
  if (source.useFactory) {
    return [
      {
        provide: HINTED_HANDOFF_MODULE_OPTIONS,
        useFactory: source.useFactory,
        inject: source.inject ?? [],
      },
    ];
  }
  if (source.useClass) {
    return [
      { provide: OPTIONS_FACTORY, useClass: source.useClass },
      {
        provide: HINTED_HANDOFF_MODULE_OPTIONS,
        useFactory: fromFactory,
        inject: [OPTIONS_FACTORY],
      },
    ];
  }
  return [
    {
      provide: HINTED_HANDOFF_MODULE_OPTIONS,
      useFactory: fromFactory,
      inject: [source.useExisting!],
    },
  ];
}

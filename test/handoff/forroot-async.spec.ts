import { Injectable, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import {
  HANDOFF_CONFIG,
  type HandoffConfig,
  HandoffService,
  HintedHandoffModule,
  type HintedHandoffOptionsFactory,
  type HintedHandoffSettings,
} from '../../src';
import { makeTempDir, removeDir } from '../support/temp-dir';
import { TestSink } from '../support/test-sink';
import { fastSettings } from '../support/fast-settings';

/** Where a host's settings come from in these tests: a provider of its own module. */
@Injectable()
class HostSettings {
  dataDir = '';
  url = '';
}

@Module({ providers: [HostSettings], exports: [HostSettings] })
class HostSettingsModule {}

@Injectable()
class HandoffSettingsFactory implements HintedHandoffOptionsFactory {
  constructor(private readonly host: HostSettings) {}
  createHintedHandoffOptions(): HintedHandoffSettings {
    return fastSettings(this.host.dataDir, [{ id: 'n1', url: this.host.url }], {
      // Text as the README says options take it.
      maxAgeMs: '7d',
      maxSize: '64MiB',
    });
  }
}

/** A factory the host already provides: `useExisting` takes it from `imports`. */
@Module({
  imports: [HostSettingsModule],
  providers: [HandoffSettingsFactory],
  exports: [HandoffSettingsFactory],
})
class FactoryModule {}

describe('HintedHandoffModule.forRootAsync', () => {
  let dataDir: string;
  let sink: TestSink;

  beforeEach(async () => {
    dataDir = await makeTempDir('hh-library-async-');
    sink = new TestSink();
    await sink.start();
  });

  afterEach(async () => {
    await sink.stop();
    await removeDir(dataDir);
  });

  async function compileWith(handoff: ReturnType<typeof HintedHandoffModule.forRootAsync>) {
    const ref = await Test.createTestingModule({ imports: [handoff] })
      .overrideProvider(HostSettings)
      .useValue({ dataDir, url: sink.url })
      .compile();
    await ref.init();
    return ref;
  }

  async function expectWorking(ref: Awaited<ReturnType<typeof compileWith>>): Promise<void> {
    const config = ref.get<HandoffConfig>(HANDOFF_CONFIG);
    expect(config.dataDir).toBe(dataDir);
    expect(config.maxAgeMs).toBe(7 * 24 * 3600 * 1000);
    expect(config.maxSize).toBe(64 * 1024 * 1024);
    await ref.get(HandoffService).enqueue('n1', Buffer.from('async v=1'));
    await sink.waitForLines(1);
    expect(sink.lines()).toEqual(['async v=1']);
    await ref.close();
  }

  it('takes a class (useClass), instantiated with the providers of `imports`', async () => {
    const ref = await compileWith(
      HintedHandoffModule.forRootAsync({
        imports: [HostSettingsModule],
        useClass: HandoffSettingsFactory,
      }),
    );
    await expectWorking(ref);
  });

  it('takes an existing provider (useExisting) from `imports`', async () => {
    const ref = await compileWith(
      HintedHandoffModule.forRootAsync({
        imports: [FactoryModule],
        useExisting: HandoffSettingsFactory,
      }),
    );
    await expectWorking(ref);
  });

  it('takes a factory with `inject`', async () => {
    const ref = await compileWith(
      HintedHandoffModule.forRootAsync({
        imports: [HostSettingsModule],
        inject: [HostSettings],
        useFactory: (host: HostSettings) =>
          fastSettings(host.dataDir, [{ id: 'n1', url: host.url }], {
            maxAgeMs: '7d',
            maxSize: '64MiB',
          }),
      }),
    );
    await expectWorking(ref);
  });

  it('says what is wrong when given none or more than one way', () => {
    expect(() => HintedHandoffModule.forRootAsync({})).toThrow(
      'give exactly one of useFactory, useClass, useExisting (got none)',
    );
    expect(() =>
      HintedHandoffModule.forRootAsync({
        useClass: HandoffSettingsFactory,
        useExisting: HandoffSettingsFactory,
      }),
    ).toThrow('(got useClass, useExisting)');
  });

  it('rejects a text setting that does not parse, naming the option', async () => {
    await expect(
      compileWith(
        HintedHandoffModule.forRootAsync({
          useFactory: () =>
            fastSettings(dataDir, [{ id: 'n1', url: sink.url }], { maxAgeMs: 'a week' }),
        }),
      ),
    ).rejects.toThrow(/options\.maxAgeMs/);
  });
});

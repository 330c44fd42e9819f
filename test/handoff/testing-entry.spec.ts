import { Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { access } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { HANDOFF_CONFIG, type HandoffConfig, HandoffService, HintedHandoffModule } from '../../src';
import { createHandoffTestSettings, HINTED_HANDOFF_OPTIONS } from '../../src/testing';
import { TestSink } from '../support/test-sink';

/** A host AppModule whose production settings a test must never reach. */
@Module({
  imports: [
    HintedHandoffModule.forRootAsync({
      useFactory: () => {
        throw new Error('production settings read in a test');
      },
    }),
  ],
})
class ProductionAppModule {}

describe('nestjs-hinted-handoff/testing', () => {
  let sink: TestSink;

  beforeEach(async () => {
    sink = new TestSink();
    await sink.start();
  });

  afterEach(() => sink.stop());

  it("replaces a forRootAsync AppModule's settings with a temp data dir, and cleans it up", async () => {
    const hh = await createHandoffTestSettings({ nodes: [{ id: 'a', url: sink.url }] });
    expect(hh.dataDir.startsWith(tmpdir())).toBe(true);
    const ref = await Test.createTestingModule({ imports: [ProductionAppModule] })
      .overrideProvider(HINTED_HANDOFF_OPTIONS)
      .useValue(hh.settings)
      .compile();
    await ref.init();
    expect(ref.get<HandoffConfig>(HANDOFF_CONFIG).dataDir).toBe(hh.dataDir);
    await ref.get(HandoffService).enqueue('a', Buffer.from('test v=1'));
    await sink.waitForLines(1);
    expect(sink.lines()).toEqual(['test v=1']);
    await access(hh.dataDir);
    await ref.close();
    await hh.cleanup();
    await expect(access(hh.dataDir)).rejects.toThrow(/ENOENT/);
  });

  it('gives quick retries unless told otherwise', async () => {
    const hh = await createHandoffTestSettings({ retryMaxIntervalMs: '1s' });
    expect(hh.settings).toEqual(
      expect.objectContaining({ retryIntervalMs: 10, retryMaxIntervalMs: '1s', fsync: 'never' }),
    );
    await hh.cleanup();
  });
});

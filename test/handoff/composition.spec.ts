import { ModulesContainer } from '@nestjs/core';
import { Test, type TestingModule } from '@nestjs/testing';
import type { Module as ModuleRef } from '@nestjs/core/injector/module';
import {
  HandoffHealthIndicator,
  HandoffHealthModule,
  HandoffService,
  HintedHandoffModule,
  QueueModule,
} from '../../src';
import { HANDOFF_QUEUE_SOURCE } from '../../src/modules/queue/handoff-queue-source';
import { ReplayModule } from '../../src/modules/replay/replay.module';
import { makeTempDir, removeDir } from '../support/temp-dir';
import { TestSink } from '../support/test-sink';
import { fastSettings } from '../support/fast-settings';

/** The module instances of a class in the app (a dynamic module is one per build). */
function modulesOf(ref: TestingModule, metatype: object): ModuleRef[] {
  return [...ref.get(ModulesContainer).values()].filter((m) => m.metatype === metatype);
}

describe('HintedHandoffModule composes the rooms', () => {
  let dataDir: string;
  let sink: TestSink;

  beforeEach(async () => {
    dataDir = await makeTempDir('hh-compose-');
    sink = new TestSink();
    await sink.start();
  });

  afterEach(async () => {
    await sink.stop();
    await removeDir(dataDir);
  });

  it.each([true, false])(
    'ReplayModule owns HandoffService, HandoffHealthModule the indicator, QueueModule the queue source (isGlobal: %s)',
    async (isGlobal) => {
      const ref = await Test.createTestingModule({
        imports: [
          HintedHandoffModule.forRoot({
            ...fastSettings(dataDir, [{ id: 'n1', url: sink.url }]),
            isGlobal,
          }),
        ],
      }).compile();
      await ref.init();

      const [replay, ...moreReplay] = modulesOf(ref, ReplayModule);
      expect(moreReplay).toHaveLength(0);
      expect(replay.isGlobal).toBe(true);
      expect(replay.providers.get(HandoffService)?.instance).toBe(ref.get(HandoffService));

      const [health] = modulesOf(ref, HandoffHealthModule);
      expect(health.providers.get(HandoffHealthIndicator)?.instance).toBe(
        ref.get(HandoffHealthIndicator),
      );

      const [queue] = modulesOf(ref, QueueModule);
      expect(queue.providers.has(HANDOFF_QUEUE_SOURCE)).toBe(true);

      const [root] = modulesOf(ref, HintedHandoffModule);
      expect(root.isGlobal).toBe(isGlobal);
      // Re-exported, not re-implemented: the root module provides none of these itself.
      for (const room of [ReplayModule, HandoffHealthModule, QueueModule]) {
        expect(root.exports.has(room)).toBe(true);
      }
      expect(root.providers.get(HandoffHealthIndicator)).toBeUndefined();
      await ref.close();
    },
  );
});

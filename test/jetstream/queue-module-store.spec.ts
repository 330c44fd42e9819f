/**
 * QueueModule.forRootFromConfig keeps queues on disk: given HH_STORE=jetstream it refuses to
 * start, naming the module to use, rather than keeping hints on one machine unnoticed.
 */
import { Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { HANDOFF_CONFIG } from '../../src/config/handoff-config.constants';
import type { HandoffConfig } from '../../src/config/handoff-config.interface';
import { QueueModule } from '../../src/modules/queue/queue.module';
import { makeTempDir, removeDir } from '../support/temp-dir';

describe('QueueModule.forRootFromConfig with HH_STORE=jetstream', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await makeTempDir();
  });
  afterEach(async () => {
    await removeDir(dir);
  });

  it('refuses to start, naming HintedHandoffModule', async () => {
    const config = { dataDir: dir, store: 'jetstream', natsUrl: 'nats://x:4222' } as HandoffConfig;
    @Module({
      providers: [{ provide: HANDOFF_CONFIG, useValue: config }],
      exports: [HANDOFF_CONFIG],
    })
    class ConfigHolder {}
    const build = Test.createTestingModule({
      imports: [
        QueueModule.forRootFromConfig({ imports: [ConfigHolder] }),
        QueueModule.registerQueue('a'),
      ],
    }).compile();
    await expect(build).rejects.toMatchObject({
      code: 'ERR_QUEUE_MODULE_DISK_ONLY',
      message: expect.stringContaining('import HintedHandoffModule'),
    });
  });
});

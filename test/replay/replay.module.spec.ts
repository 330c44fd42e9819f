import { Global, Module } from '@nestjs/common';
import { ScheduleModule, SchedulerRegistry } from '@nestjs/schedule';
import { Test } from '@nestjs/testing';
import { HandoffService, PURGE_CRON_NAME } from '../../src/modules/replay/handoff.service';
import { REPLAY_METRICS } from '../../src/modules/replay/replay-metrics.interface';
import { ReplayModule } from '../../src/modules/replay/replay.module';
import { testConfig } from '../support/handoff-config';
import { RecordingMetrics } from '../support/recording-metrics';
import { makeTempDir, removeDir } from '../support/temp-dir';
import { TestSink } from '../support/test-sink';

describe('ReplayModule', () => {
  let dataDir: string;
  let sink: TestSink;

  beforeEach(async () => {
    dataDir = await makeTempDir();
    sink = new TestSink();
    await sink.start();
  });

  afterEach(async () => {
    await sink.stop();
    await removeDir(dataDir);
  });

  it('provides HandoffService with its own ScheduleModule by default', async () => {
    const config = testConfig(dataDir, [{ id: 'n1', url: sink.url }]);
    const ref = await Test.createTestingModule({
      imports: [ReplayModule.forRoot({ config })],
    }).compile();
    await ref.init();
    expect(ref.get(HandoffService).hasNode('n1')).toBe(true);
    expect(ref.get(SchedulerRegistry).doesExist('cron', PURGE_CRON_NAME)).toBe(true);
    await ref.close();
  });

  it("uses the host's ScheduleModule when told not to import one", async () => {
    const config = testConfig(dataDir, [{ id: 'n1', url: sink.url }]);
    const ref = await Test.createTestingModule({
      imports: [ScheduleModule.forRoot(), ReplayModule.forRoot({ config, schedule: false })],
    }).compile();
    await ref.init();
    expect(ref.get(SchedulerRegistry).doesExist('cron', PURGE_CRON_NAME)).toBe(true);
    await ref.close();
    expect(ref.get(SchedulerRegistry).doesExist('cron', PURGE_CRON_NAME)).toBe(false);
  });

  it('still schedules with no ScheduleModule anywhere, on a registry of its own', async () => {
    const config = testConfig(dataDir, [{ id: 'n1', url: sink.url }]);
    const ref = await Test.createTestingModule({
      imports: [ReplayModule.forRoot({ config, schedule: false })],
    }).compile();
    await ref.init();
    const service = ref.get(HandoffService);
    await service.enqueue('n1', Buffer.from('a v=1'));
    await sink.waitForLines(1);
    expect(sink.lines()).toEqual(['a v=1']);
    await ref.close();
  });

  it('takes REPLAY_METRICS from a global module when given none', async () => {
    const metrics = new RecordingMetrics();
    @Global()
    @Module({
      providers: [{ provide: REPLAY_METRICS, useValue: metrics }],
      exports: [REPLAY_METRICS],
    })
    class HostMetricsModule {}
    const config = testConfig(dataDir, [{ id: 'n1', url: sink.url }]);
    const ref = await Test.createTestingModule({
      imports: [HostMetricsModule, ReplayModule.forRoot({ config })],
    }).compile();
    await ref.init();
    await ref.get(HandoffService).enqueue('n1', Buffer.from('b v=1'));
    await metrics.waitFor('replayed');
    expect(metrics.of('appended')).toEqual([['n1', 1, 5]]);
    await ref.close();
  });
});

import { Global, Injectable, Module } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { ScheduleModule, SchedulerRegistry } from '@nestjs/schedule';
import { Test } from '@nestjs/testing';
import { register, type Counter } from 'prom-client';
import {
  ConfigValidationError,
  DiskBackedQueue,
  HANDOFF_CONFIG,
  HandoffConfig,
  HandoffHealthIndicator,
  HandoffQueueNotConfiguredError,
  HandoffService,
  HintedHandoffModule,
  InjectHandoffQueue,
  QueueModule,
  METRIC,
  REPLAY_METRICS,
  handoffConfig,
} from '../../src';
import { PrometheusReplayMetrics } from '../../src/modules/metrics/prometheus-replay-metrics';
import { RecordingMetrics } from '../support/recording-metrics';
import { makeTempDir, removeDir } from '../support/temp-dir';
import { TestSink } from '../support/test-sink';
import { fastEnv, fastSettings, withEnv } from '../support/fast-settings';

describe('HintedHandoffModule', () => {
  let dataDir: string;
  let sink: TestSink;
  let restoreEnv: (() => void) | undefined;

  beforeEach(async () => {
    dataDir = await makeTempDir('hh-library-');
    sink = new TestSink();
    await sink.start();
  });

  afterEach(async () => {
    restoreEnv?.();
    restoreEnv = undefined;
    await sink.stop();
    await removeDir(dataDir);
  });

  describe('configuration', () => {
    it('reads the HH_* variables when given no options', async () => {
      restoreEnv = withEnv(fastEnv(dataDir, [{ id: 'n1', url: sink.url }]));
      const ref = await Test.createTestingModule({
        imports: [HintedHandoffModule.forRoot()],
      }).compile();
      await ref.init();
      const config = ref.get<HandoffConfig>(HANDOFF_CONFIG);
      expect(config.dataDir).toBe(dataDir);
      expect(config.retryMaxIntervalMs).toBe(40);
      const handoff = ref.get(HandoffService);
      expect(handoff.nodes().map((n) => n.id)).toEqual(['n1']);
      await handoff.enqueue('n1', Buffer.from('env v=1'));
      await sink.waitForLines(1);
      expect(sink.lines()).toEqual(['env v=1']);
      await ref.close();
    });

    it('lets options win over the variables, one setting at a time', async () => {
      const otherDir = await makeTempDir('hh-library-other-');
      restoreEnv = withEnv({ ...fastEnv(otherDir, [{ id: 'env', url: sink.url }]) });
      const ref = await Test.createTestingModule({
        imports: [HintedHandoffModule.forRoot({ dataDir, nodes: [{ id: 'opt', url: sink.url }] })],
      }).compile();
      await ref.init();
      const config = ref.get<HandoffConfig>(HANDOFF_CONFIG);
      expect(config.dataDir).toBe(dataDir);
      expect(config.nodes).toEqual([{ id: 'opt', url: sink.url }]);
      expect(config.retryMaxIntervalMs).toBe(40); // from HH_RETRY_MAX_INTERVAL
      await ref.close();
      await removeDir(otherDir);
    });

    it('refuses to start on a bad variable, naming it', async () => {
      restoreEnv = withEnv({
        ...fastEnv(dataDir, [{ id: 'n1', url: sink.url }]),
        HH_MAX_SIZE: 'lots',
      });
      const compiling = Test.createTestingModule({
        imports: [HintedHandoffModule.forRoot()],
      }).compile();
      await expect(compiling).rejects.toThrow(ConfigValidationError);
      await expect(compiling).rejects.toThrow(/HH_MAX_SIZE="lots"/);
    });

    it('takes settings from a factory with injected dependencies (forRootAsync)', async () => {
      @Module({
        providers: [{ provide: 'SETTINGS_SOURCE', useValue: { dir: dataDir, url: sink.url } }],
        exports: ['SETTINGS_SOURCE'],
      })
      class HostSettingsModule {}
      const ref = await Test.createTestingModule({
        imports: [
          HintedHandoffModule.forRootAsync({
            imports: [HostSettingsModule],
            inject: ['SETTINGS_SOURCE'],
            useFactory: (s: { dir: string; url: string }) =>
              fastSettings(s.dir, [{ id: 'fa', url: s.url }]),
          }),
        ],
      }).compile();
      await ref.init();
      await ref.get(HandoffService).enqueue('fa', Buffer.from('factory v=1'));
      await sink.waitForLines(1);
      expect(sink.lines()).toEqual(['factory v=1']);
      await ref.close();
    });

    it('checks a factory result again: a bad option stops start-up', async () => {
      const compiling = Test.createTestingModule({
        imports: [
          HintedHandoffModule.forRootAsync({
            useFactory: () => fastSettings(dataDir, [{ id: 'n1', url: sink.url }], { maxSize: -1 }),
          }),
        ],
      }).compile();
      await expect(compiling).rejects.toThrow(/options\.maxSize/);
    });

    it('works with forRootAsync(handoffConfig.asProvider()) under the host ConfigModule', async () => {
      restoreEnv = withEnv(fastEnv(dataDir, [{ id: 'cfg', url: sink.url }]));
      const ref = await Test.createTestingModule({
        imports: [
          ConfigModule.forRoot({ isGlobal: true, ignoreEnvFile: true }),
          HintedHandoffModule.forRootAsync(handoffConfig.asProvider()),
        ],
      }).compile();
      await ref.init();
      expect(ref.get<HandoffConfig>(HANDOFF_CONFIG).nodes).toEqual([{ id: 'cfg', url: sink.url }]);
      // The namespace is the host's to read as well.
      expect(ref.get(ConfigService).get<HandoffConfig>('handoff')?.dataDir).toBe(dataDir);
      await ref.get(HandoffService).enqueue('cfg', Buffer.from('asProvider v=1'));
      await sink.waitForLines(1);
      await ref.close();
    });
  });

  describe('registerQueue', () => {
    it("injects the node's queue: the same instance HandoffService replays from", async () => {
      @Injectable()
      class Inspector {
        constructor(
          @InjectHandoffQueue('n1') readonly n1: DiskBackedQueue,
          @InjectHandoffQueue('n2') readonly n2: DiskBackedQueue,
        ) {}
      }
      @Module({ imports: [QueueModule.registerQueue('n1', 'n2')], providers: [Inspector] })
      class FeatureModule {}
      sink.mode = { kind: 'status', status: 503 };
      const ref = await Test.createTestingModule({
        imports: [
          HintedHandoffModule.forRoot(
            fastSettings(dataDir, [
              { id: 'n1', url: sink.url },
              { id: 'n2', url: sink.url },
            ]),
          ),
          FeatureModule,
        ],
      }).compile();
      await ref.init();
      const inspector = ref.get(Inspector);
      const handoff = ref.get(HandoffService);
      expect(inspector.n1).toBe(handoff.queueOf('n1'));
      expect(inspector.n2).toBe(handoff.queueOf('n2'));
      expect(inspector.n1.isOpen()).toBe(true);
      await handoff.enqueue('n1', Buffer.from('q v=1'));
      expect(inspector.n1.backlog().entries).toBe(1);
      expect(inspector.n2.backlog().entries).toBe(0);
      await ref.close();
      expect(inspector.n1.isOpen()).toBe(false);
    });

    it('stops start-up for a node that is not configured', async () => {
      @Module({ imports: [QueueModule.registerQueue('ghost')] })
      class FeatureModule {}
      const compiling = Test.createTestingModule({
        imports: [
          HintedHandoffModule.forRoot(fastSettings(dataDir, [{ id: 'n1', url: sink.url }])),
          FeatureModule,
        ],
      }).compile();
      await expect(compiling).rejects.toThrow(HandoffQueueNotConfiguredError);
    });

    it('refuses an id that could not name a directory when declared', () => {
      expect(() => QueueModule.registerQueue('..')).toThrow(/invalid node id/);
    });
  });

  describe('visibility', () => {
    @Injectable()
    class Consumer {
      constructor(
        readonly handoff: HandoffService,
        readonly health: HandoffHealthIndicator,
      ) {}
    }

    it('is global by default: a module that does not import it injects HandoffService', async () => {
      @Module({ providers: [Consumer] })
      class FeatureModule {}
      const ref = await Test.createTestingModule({
        imports: [
          HintedHandoffModule.forRoot(fastSettings(dataDir, [{ id: 'n1', url: sink.url }])),
          FeatureModule,
        ],
      }).compile();
      await ref.init();
      expect(ref.get(Consumer).handoff).toBe(ref.get(HandoffService));
      expect(ref.get(Consumer).health.isHealthy('handoff')).toEqual({
        handoff: expect.objectContaining({ status: 'up' }),
      });
      await ref.close();
    });

    it('with isGlobal: false, only importers see it', async () => {
      const handoffModule = HintedHandoffModule.forRoot({
        ...fastSettings(dataDir, [{ id: 'n1', url: sink.url }]),
        isGlobal: false,
      });
      @Module({ providers: [Consumer] })
      class OutsiderModule {}
      await expect(
        Test.createTestingModule({ imports: [handoffModule, OutsiderModule] }).compile(),
      ).rejects.toThrow(/HandoffService/);

      @Module({ imports: [handoffModule], providers: [Consumer] })
      class ImporterModule {}
      const ref = await Test.createTestingModule({ imports: [ImporterModule] }).compile();
      await ref.init();
      expect(ref.get(Consumer).handoff.hasNode('n1')).toBe(true);
      await ref.close();
    });
  });

  describe('scheduling and metrics', () => {
    it("puts its handoff:* jobs in the host's SchedulerRegistry and never mounts a second ScheduleModule", async () => {
      const ref = await Test.createTestingModule({
        imports: [
          ScheduleModule.forRoot(),
          HintedHandoffModule.forRoot(fastSettings(dataDir, [{ id: 'n1', url: sink.url }])),
        ],
      }).compile();
      await ref.init();
      const registry = ref.get(SchedulerRegistry);
      expect([...registry.getCronJobs().keys()]).toEqual(['handoff:purge']);
      await ref.close();
      expect(registry.getCronJobs().size).toBe(0);
    });

    it('replays without a ScheduleModule in the app', async () => {
      const ref = await Test.createTestingModule({
        imports: [
          HintedHandoffModule.forRoot(fastSettings(dataDir, [{ id: 'n1', url: sink.url }])),
        ],
      }).compile();
      await ref.init();
      expect(() => ref.get(SchedulerRegistry)).toThrow();
      await ref.get(HandoffService).enqueue('n1', Buffer.from('plain v=1'));
      await sink.waitForLines(1);
      await ref.close();
    });

    function hostMetrics(metrics: RecordingMetrics) {
      @Global()
      @Module({
        providers: [{ provide: REPLAY_METRICS, useValue: metrics }],
        exports: [REPLAY_METRICS],
      })
      class HostMetricsModule {}
      return HostMetricsModule;
    }

    it('counts into the metrics the host provides when metrics is left out', async () => {
      const metrics = new RecordingMetrics();
      const ref = await Test.createTestingModule({
        imports: [
          hostMetrics(metrics),
          HintedHandoffModule.forRoot(fastSettings(dataDir, [{ id: 'n1', url: sink.url }])),
        ],
      }).compile();
      await ref.init();
      await ref.get(HandoffService).enqueue('n1', Buffer.from('m v=1'));
      await metrics.waitFor('replayed');
      expect(metrics.of('appended')).toEqual([['n1', 1, 5]]);
      await ref.close();
    });

    it('defines and counts the hh_* metrics with metrics: true', async () => {
      const ref = await Test.createTestingModule({
        imports: [
          HintedHandoffModule.forRoot({
            ...fastSettings(dataDir, [{ id: 'prom', url: sink.url }]),
            metrics: true,
          }),
        ],
      }).compile();
      await ref.init();
      expect(ref.get(REPLAY_METRICS)).toBeInstanceOf(PrometheusReplayMetrics);
      const counter = register.getSingleMetric(METRIC.appendedEntries) as Counter<string>;
      const before = (await counter.get()).values.find((v) => v.labels.node === 'prom')?.value ?? 0;
      await ref.get(HandoffService).enqueue('prom', Buffer.from('p v=1'));
      const after = (await counter.get()).values.find((v) => v.labels.node === 'prom')?.value;
      expect(after).toBe(before + 1);
      await sink.waitForLines(1);
      await ref.close();
    });

    it('counts nothing with metrics: false, even when the host provides metrics', async () => {
      const metrics = new RecordingMetrics();
      const ref = await Test.createTestingModule({
        imports: [
          hostMetrics(metrics),
          HintedHandoffModule.forRoot({
            ...fastSettings(dataDir, [{ id: 'n1', url: sink.url }]),
            metrics: false,
          }),
        ],
      }).compile();
      await ref.init();
      await ref.get(HandoffService).enqueue('n1', Buffer.from('m v=1'));
      await sink.waitForLines(1);
      expect(metrics.calls).toEqual([]);
      await ref.close();
    });
  });
});

import { Controller, Get, Module } from '@nestjs/common';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { HealthCheck, HealthCheckService, TerminusModule } from '@nestjs/terminus';
import { Test } from '@nestjs/testing';
import { HandoffHealthIndicator, HandoffService, HintedHandoffModule } from '../../src';
import { makeTempDir, removeDir } from '../support/temp-dir';
import { TestSink } from '../support/test-sink';
import { fastSettings } from '../support/fast-settings';

describe('HintedHandoffModule on a Fastify host', () => {
  let dataDir: string;
  let sink: TestSink;

  beforeEach(async () => {
    dataDir = await makeTempDir('hh-library-fastify-');
    sink = new TestSink();
    await sink.start();
  });

  afterEach(async () => {
    await sink.stop();
    await removeDir(dataDir);
  });

  it("shows a node's backlog on the host's own /health", async () => {
    @Controller('health')
    class HealthController {
      constructor(
        private readonly health: HealthCheckService,
        private readonly handoff: HandoffHealthIndicator,
      ) {}
      @Get()
      @HealthCheck()
      check() {
        return this.health.check([() => this.handoff.isHealthy('handoff')]);
      }
    }
    @Module({
      imports: [
        HintedHandoffModule.forRoot(fastSettings(dataDir, [{ id: 'n1', url: sink.url }])),
        TerminusModule,
      ],
      controllers: [HealthController],
    })
    class HostModule {}
    const ref = await Test.createTestingModule({ imports: [HostModule] }).compile();
    const app = ref.createNestApplication<NestFastifyApplication>(new FastifyAdapter());
    await app.init();
    await app.getHttpAdapter().getInstance().ready();
    const handoff = app.get(HandoffService);
    handoff.pause('n1');
    await handoff.enqueue('n1', Buffer.from('held v=1'));
    const res = await app.inject({ method: 'GET', url: '/health' });
    expect(res.statusCode).toBe(200);
    expect(res.json().details.handoff.nodes.n1).toEqual(
      expect.objectContaining({ state: 'paused', entries: 1, bytes: 8 }),
    );
    await app.close();
  });
});

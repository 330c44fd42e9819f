import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { Global, Injectable, Module } from '@nestjs/common';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { HANDOFF_CONFIG } from '../../src/config/handoff-config.constants';
import type { HandoffConfig } from '../../src/config/handoff-config.interface';
import { HealthRoutesModule } from '../../src/modules/health/health-routes.module';
import { HandoffService } from '../../src/modules/replay/handoff.service';

@Injectable()
class NoNodes {
  nodes() {
    return [];
  }
}

/**
 * The default HH_DATA_DIR is relative (`./data/hh`). Terminus' disk check (check-disk-space)
 * refuses any path not starting with `/`, so the indicator must resolve it first. This runs the
 * real disk check, not a stub, against a path relative to the process' working directory.
 */
describe('the disk check with a relative HH_DATA_DIR', () => {
  let dir: string;
  let app: NestFastifyApplication;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'hh-health-rel-'));
    const dataDir = relative(process.cwd(), dir);
    expect(dataDir.startsWith('/')).toBe(false);
    const config = { dataDir, maxSize: 1000, healthDiskThreshold: 1, healthMaxBacklogAgeMs: 1 };

    @Global()
    @Module({
      providers: [
        NoNodes,
        { provide: HandoffService, useExisting: NoNodes },
        { provide: HANDOFF_CONFIG, useValue: config as HandoffConfig },
      ],
      exports: [HandoffService, HANDOFF_CONFIG],
    })
    class FakeHandoffModule {}

    const moduleRef = await Test.createTestingModule({
      imports: [FakeHandoffModule, HealthRoutesModule],
    }).compile();
    app = moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter(), {
      logger: false,
    });
    await app.init();
    await app.getHttpAdapter().getInstance().ready();
  });

  afterAll(async () => {
    await app?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it.each(['/health', '/health/ready'])('answers 200 on %s', async (route) => {
    const res = await request(app.getHttpServer()).get(route);
    expect(res.body).toMatchObject({ status: 'ok', details: { disk: { status: 'up' } } });
    expect(res.status).toBe(200);
  });
});

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Global, Injectable, Module } from '@nestjs/common';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { DEFAULTS } from '../../src/config/defaults';
import { HANDOFF_CONFIG } from '../../src/config/handoff-config.constants';
import type { HandoffConfig } from '../../src/config/handoff-config.interface';
import { HealthController } from '../../src/modules/health/health.controller';
import { HealthRoutesModule } from '../../src/modules/health/health-routes.module';
import { HandoffService } from '../../src/modules/replay/handoff.service';
import type { NodeStatus } from '../../src/modules/replay/node-status.interface';

const MAX_SIZE = 1000;
const MAX_AGE_MS = 60_000;

function status(id: string, patch: Partial<NodeStatus> = {}): NodeStatus {
  return {
    id,
    state: 'up',
    configured: true,
    open: true,
    backlog: { entries: 0, bytes: 0, oldestAgeSeconds: null },
    diskBytes: 0,
    maxSize: MAX_SIZE,
    deadLetters: 0,
    backoffMs: 0,
    ...patch,
  };
}

@Injectable()
class StatusSource {
  statuses: NodeStatus[] = [];
  nodes(): NodeStatus[] {
    return this.statuses;
  }
}

describe('the /health routes', () => {
  let dataDir: string;
  let app: NestFastifyApplication;
  let source: StatusSource;
  /** What the disk check reads: used share = 1 - free/size. */
  let disk: { free: number; size: number };
  /** Set: the disk measurement fails with it (as spawning `df` does when out of descriptors). */
  let diskError: Error | undefined;

  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'hh-health-'));
    disk = { free: 500, size: 1000 };
    diskError = undefined;
    const config = {
      dataDir,
      maxSize: MAX_SIZE,
      healthDiskThreshold: 0.9,
      healthMaxBacklogAgeMs: MAX_AGE_MS,
    } as HandoffConfig;

    @Global()
    @Module({
      providers: [
        StatusSource,
        { provide: HandoffService, useExisting: StatusSource },
        { provide: HANDOFF_CONFIG, useValue: config },
      ],
      exports: [HandoffService, HANDOFF_CONFIG, StatusSource],
    })
    class FakeHandoffModule {}

    const moduleRef = await Test.createTestingModule({
      imports: [FakeHandoffModule, HealthRoutesModule],
    })
      // Terminus measures the disk through this function; a fixed answer keeps the test
      // independent of how full the machine's disk is.
      .overrideProvider('TERMINUS:CHECK_DISK_SPACE_LIB')
      .useValue(async () => {
        if (diskError) throw diskError;
        return { diskPath: dataDir, ...disk };
      })
      .compile();
    app = moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter(), {
      logger: false,
    });
    await app.init();
    await app.getHttpAdapter().getInstance().ready();
    source = app.get(StatusSource);
    source.statuses = [status('a'), status('b')];
  });

  afterEach(async () => {
    await app.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  const get = (path: string) => request(app.getHttpServer()).get(path);

  it('answers 200 on /health with each node’s backlog and the disk', async () => {
    source.statuses = [
      status('a', { backlog: { entries: 2, bytes: 20, oldestAgeSeconds: 5 }, diskBytes: 64 }),
      status('b'),
    ];
    const res = await get('/health').expect(200);
    expect(res.body.status).toBe('ok');
    expect(res.body.details.disk.status).toBe('up');
    expect(res.body.details.process.status).toBe('up');
    expect(res.body.details.handoff.nodes.a).toEqual({
      state: 'up',
      open: true,
      entries: 2,
      bytes: 20,
      diskBytes: 64,
      maxSize: MAX_SIZE,
      oldestAgeSeconds: 5,
    });
    expect(res.body.details.handoff.nodes.b.entries).toBe(0);
  });

  it('turns 503 when a queue reaches 90 % of maxSize, and back to 200 when it drains', async () => {
    const full = DEFAULTS.healthQueueFullRatio * MAX_SIZE;
    source.statuses = [status('a', { diskBytes: full - 1 }), status('b')];
    await get('/health').expect(200);

    source.statuses = [status('a', { diskBytes: full }), status('b')];
    const res = await get('/health').expect(503);
    expect(res.body.status).toBe('error');
    expect(res.body.error.handoff.message).toBe('node a: queue 90% full (900 of 1000 bytes)');
    expect(res.body.error.handoff.nodes.a.diskBytes).toBe(full);
    expect(res.body.info.disk.status).toBe('up');

    source.statuses = [status('a', { diskBytes: 0 }), status('b')];
    await get('/health').expect(200);
  });

  it('turns 503 when the oldest entry passes the backlog age limit, and back to 200', async () => {
    const limit = MAX_AGE_MS / 1000;
    const aged = (age: number) =>
      status('b', { backlog: { entries: 1, bytes: 1, oldestAgeSeconds: age } });
    source.statuses = [status('a'), aged(limit - 1)];
    await get('/health').expect(200);

    source.statuses = [status('a'), aged(limit)];
    const res = await get('/health').expect(503);
    expect(res.body.error.handoff.message).toBe(
      `node b: oldest entry ${limit}s old (limit ${limit}s)`,
    );

    source.statuses = [status('a'), status('b')];
    await get('/health').expect(200);
  });

  it('keeps /health/ready at 200 while a backlog is old: writes are still taken', async () => {
    source.statuses = [
      status('a', { backlog: { entries: 1, bytes: 1, oldestAgeSeconds: 10 * MAX_AGE_MS } }),
    ];
    await get('/health').expect(503);
    const res = await get('/health/ready').expect(200);
    expect(res.body.info.handoff.status).toBe('up');
  });

  it('turns /health/ready 503 when a queue is not open', async () => {
    source.statuses = [status('a', { open: false }), status('b')];
    const res = await get('/health/ready').expect(503);
    expect(res.body.error.handoff.message).toBe('node a: queue not open');
  });

  it('turns /health/ready 503 when the disk of the data directory passes the threshold', async () => {
    disk = { free: 50, size: 1000 };
    const res = await get('/health/ready').expect(503);
    expect(res.body.error.disk.status).toBe('down');
    disk = { free: 150, size: 1000 };
    await get('/health/ready').expect(200);
  });

  it('reports the disk down when the data directory does not exist', async () => {
    await rm(dataDir, { recursive: true, force: true });
    const res = await get('/health/ready').expect(503);
    expect(res.body.error.disk.message).toBe('data directory not accessible (ENOENT)');
  });

  it('reports the disk down, not a 500, when the disk cannot be measured, and up once it can', async () => {
    diskError = Object.assign(new Error('spawn EMFILE'), { code: 'EMFILE' });
    for (const route of ['/health', '/health/ready']) {
      const res = await get(route).expect(503);
      expect(res.body.error.disk.message).toBe('disk check failed (EMFILE)');
      expect(res.body.info.handoff.status).toBe('up');
    }
    diskError = undefined;
    await get('/health').expect(200);
  });

  it('does not fail health for the leftover queue of a node no longer configured', async () => {
    source.statuses = [
      status('a'),
      status('old', {
        configured: false,
        state: 'inactive',
        backlog: { entries: 1, bytes: 1, oldestAgeSeconds: 10 * MAX_AGE_MS },
      }),
    ];
    const res = await get('/health').expect(200);
    expect(res.body.details.handoff.nodes.old.state).toBe('inactive');
  });

  it('answers /health/live 200 while running, with no dependence on the queues', async () => {
    source.statuses = [status('a', { open: false })];
    const res = await get('/health/live').expect(200);
    expect(res.body.info.process).toEqual({ status: 'up', pid: process.pid });
  });

  it('answers /health/live 503 once shutdown has begun', async () => {
    app.get(HealthController).beforeApplicationShutdown();
    const res = await get('/health/live').expect(503);
    expect(res.body.error.process.message).toBe('shutting down');
  });
});

import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Global, Module } from '@nestjs/common';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { PrometheusModule } from '@willsoto/nestjs-prometheus';
import { register } from 'prom-client';
import request from 'supertest';
import { HANDOFF_CONFIG } from '../../src/config/handoff-config.constants';
import type { HandoffConfig } from '../../src/config/handoff-config.interface';
import { resolveHandoffConfig } from '../../src/config/resolve-handoff-config';
import { AdminModule } from '../../src/modules/admin/admin.module';
import { HealthRoutesModule } from '../../src/modules/health/health-routes.module';
import { HandoffMetricsModule } from '../../src/modules/metrics/handoff-metrics.module';
import { HttpMetricsModule } from '../../src/modules/metrics/http-metrics.module';
import { DiskBackedQueue } from '../../src/modules/queue/disk-backed-queue';
import { HandoffService } from '../../src/modules/replay/handoff.service';
import { writeNodeRecord } from '../../src/modules/replay/node-record';
import { ReplayModule } from '../../src/modules/replay/replay.module';
import { sampleValue } from './prometheus-text';

/** A node the test controls: records what it is sent; answers 204, or 503 while `down`. */
class Sink {
  readonly bodies: string[] = [];
  down = false;
  readonly server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (this.down) {
        res.writeHead(503).end('down');
        return;
      }
      this.bodies.push(Buffer.concat(chunks).toString());
      res.writeHead(204).end();
    });
  });
  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/write`;
  }
  stop(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/**
 * The relay's wiring of metrics, health and admin routes around a real HandoffService, real
 * queues in a temp dir and a real node over HTTP.
 */
describe('metrics, health and admin routes over a real HandoffService', () => {
  let dataDir: string;
  let sink: Sink;
  let app: NestFastifyApplication;
  let handoff: HandoffService;

  let url: string;

  /** Builds the app over dataDir as it is now (a restart when called again). */
  async function boot(): Promise<void> {
    register.clear();
    const config = resolveHandoffConfig(
      {
        dataDir,
        nodes: [{ id: 'a', url }],
        maxSize: 64 * 1024,
        maxSegmentSize: 1024,
        fsync: 'never',
        retryIntervalMs: 60_000,
        retryMaxIntervalMs: 60_000,
      },
      {},
    ) as HandoffConfig;
    // Below what validation admits (> 0), on purpose: any unread entry is then too old, so the
    // health check turns with the backlog itself, with no waiting and no clock.
    config.healthMaxBacklogAgeMs = 0;

    @Global()
    @Module({
      imports: [ReplayModule.forRoot({ config })],
      providers: [{ provide: HANDOFF_CONFIG, useValue: config }],
      exports: [ReplayModule, HANDOFF_CONFIG],
    })
    class CoreModule {}

    const moduleRef = await Test.createTestingModule({
      imports: [
        PrometheusModule.register({ path: '/metrics', defaultMetrics: { enabled: false } }),
        HandoffMetricsModule,
        HttpMetricsModule,
        CoreModule,
        AdminModule,
        HealthRoutesModule,
      ],
    })
      .overrideProvider('TERMINUS:CHECK_DISK_SPACE_LIB')
      .useValue(async () => ({ diskPath: dataDir, free: 500, size: 1000 }))
      .compile();
    app = moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter(), {
      logger: false,
    });
    await app.init();
    await app.getHttpAdapter().getInstance().ready();
    handoff = app.get(HandoffService);
  }

  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'hh-stack-'));
    sink = new Sink();
    url = await sink.start();
    await boot();
  });

  afterEach(async () => {
    await app.close();
    await sink.stop();
    await rm(dataDir, { recursive: true, force: true });
    register.clear();
  });

  const http = () => request(app.getHttpServer());
  const scrape = async () => (await http().get('/metrics').expect(200)).text;
  const node = { node: 'a' };

  it('moves the metrics as writes are handed off and replayed', async () => {
    // Paused, the retry timer cannot drain the queue between the steps the test looks at.
    await http().post('/hh/nodes/a/pause').expect(200);
    for (const line of ['cpu v=1', 'cpu v=2', 'cpu v=3']) {
      await handoff.enqueue('a', Buffer.from(line));
    }
    let text = await scrape();
    expect(sampleValue(text, 'hh_appended_entries_total', node)).toBe(3);
    expect(sampleValue(text, 'hh_appended_bytes_total', node)).toBe(21);
    expect(sampleValue(text, 'hh_queue_entries', node)).toBe(3);
    expect(sampleValue(text, 'hh_queue_bytes', node)).toBe(21);
    expect(sampleValue(text, 'hh_queue_disk_bytes', node)).toBeGreaterThan(21);
    expect(sampleValue(text, 'hh_queue_oldest_age_seconds', node)).toBeGreaterThanOrEqual(0);

    const res = await http().post('/hh/nodes/a/replay').expect(200);
    expect(res.body.bytes).toBe(21);
    expect(sink.bodies.join('\n')).toBe('cpu v=1\ncpu v=2\ncpu v=3');
    text = await scrape();
    expect(sampleValue(text, 'hh_replayed_entries_total', node)).toBe(3);
    expect(sampleValue(text, 'hh_replayed_bytes_total', node)).toBe(21);
    expect(sampleValue(text, 'hh_queue_entries', node)).toBe(0);
    expect(sampleValue(text, 'hh_queue_bytes', node)).toBe(0);
    expect(sampleValue(text, 'hh_node_up', node)).toBe(1);
    expect(
      sampleValue(text, 'hh_http_requests_total', {
        method: 'POST',
        route: '/hh/nodes/:id/replay',
        code: '200',
      }),
    ).toBe(1);
  });

  it('counts a failed replay, marks the node down and shows the back-off', async () => {
    await http().post('/hh/nodes/a/pause').expect(200);
    await handoff.enqueue('a', Buffer.from('cpu v=1'));
    sink.down = true;
    const res = await http().post('/hh/nodes/a/replay').expect(502);
    expect(res.body.error).toMatch(/^replay to node a failed: /);
    const text = await scrape();
    expect(sampleValue(text, 'hh_replay_errors_total', { node: 'a', kind: 'transient' })).toBe(1);
    expect(sampleValue(text, 'hh_node_up', node)).toBe(0);
    expect(sampleValue(text, 'hh_replay_backoff_seconds', node)).toBeGreaterThan(0);
    expect(sampleValue(text, 'hh_queue_entries', node)).toBe(1);
  });

  it('counts an operator purge, and /health turns 503 with a backlog and 200 without', async () => {
    await http().post('/hh/nodes/a/pause').expect(200);
    await http().get('/health').expect(200);
    await handoff.enqueue('a', Buffer.from('cpu v=1'));
    await handoff.enqueue('a', Buffer.from('cpu v=2'));

    const down = await http().get('/health').expect(503);
    expect(down.body.error.handoff.message).toMatch(/^node a: oldest entry \d+s old \(limit 0s\)$/);
    expect(down.body.error.handoff.nodes.a).toMatchObject({
      state: 'paused',
      entries: 2,
      bytes: 14,
    });
    // Readiness is about taking writes, and they are still taken.
    await http().get('/health/ready').expect(200);

    await http().post('/hh/nodes/a/purge').expect(400);
    const purged = await http().post('/hh/nodes/a/purge?confirm=true').expect(200);
    expect(purged.body.entries).toBe(2);
    const text = await scrape();
    expect(sampleValue(text, 'hh_purged_entries_total', { node: 'a', reason: 'operator' })).toBe(2);
    expect(sampleValue(text, 'hh_queue_entries', node)).toBe(0);
    await http().get('/health').expect(200);
  });

  it('lists the real node with its state and backlog', async () => {
    await http().post('/hh/nodes/a/pause').expect(200);
    await handoff.enqueue('a', Buffer.from('cpu v=1'));
    const res = await http().get('/hh/nodes').expect(200);
    expect(res.body.nodes).toHaveLength(1);
    expect(res.body.nodes[0]).toMatchObject({
      id: 'a',
      state: 'paused',
      open: true,
      backlog: { entries: 1, bytes: 7 },
    });
    await http().get('/hh/nodes/b').expect(404);
  });
  it('drops the up and back-off gauges of a removed node once its directory is deleted', async () => {
    await app.close();
    // Node 'gone' was configured in an earlier run and is down: its queue holds one entry.
    const dir = join(dataDir, 'gone');
    const queue = new DiskBackedQueue(dir, { fsync: 'never' });
    await queue.open();
    await queue.append(Buffer.from('cpu v=0'));
    await queue.close();
    await writeNodeRecord(dir, { id: 'gone', url });
    sink.down = true;
    await boot();

    await http().post('/hh/nodes/gone/replay').expect(502);
    expect(sampleValue(await scrape(), 'hh_node_up', { node: 'gone' })).toBe(0);
    await http().post('/hh/nodes/gone/purge?confirm=true').expect(200);
    await handoff.purgeOldData();
    expect(handoff.hasNode('gone')).toBe(false);

    const text = await scrape();
    expect(sampleValue(text, 'hh_node_up', { node: 'gone' })).toBeUndefined();
    expect(sampleValue(text, 'hh_replay_backoff_seconds', { node: 'gone' })).toBeUndefined();
  });
});

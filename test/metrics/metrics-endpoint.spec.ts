import { Injectable, Module } from '@nestjs/common';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { RelayMetricsModule } from '../../src/modules/metrics/relay-metrics.module';
import { HandoffService } from '../../src/modules/replay/handoff.service';
import type { NodeStatus } from '../../src/modules/replay/node-status.interface';
import { REPLAY_METRICS, ReplayMetrics } from '../../src/modules/replay/replay-metrics.interface';
import { sampleValue } from './prometheus-text';

function status(id: string, entries: number, bytes: number, age: number | null): NodeStatus {
  return {
    id,
    state: 'backing-off',
    configured: true,
    open: true,
    backlog: { entries, bytes, oldestAgeSeconds: age },
    diskBytes: bytes + 100,
    maxSize: 1000,
    deadLetters: 0,
    backoffMs: 0,
  };
}

/** Stands in for the service: the queue gauges only call nodes(). */
@Injectable()
class StatusSource {
  statuses: NodeStatus[] = [];
  nodes(): NodeStatus[] {
    return this.statuses;
  }
}

@Module({
  providers: [StatusSource, { provide: HandoffService, useExisting: StatusSource }],
  exports: [HandoffService, StatusSource],
})
class FakeReplayModule {}

describe('the /metrics endpoint of a Fastify app', () => {
  let app: NestFastifyApplication;
  let source: StatusSource;
  let metrics: ReplayMetrics;

  beforeEach(async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [RelayMetricsModule.forRoot(), FakeReplayModule],
    }).compile();
    app = moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter());
    await app.init();
    await app.getHttpAdapter().getInstance().ready();
    source = app.get(StatusSource);
    metrics = app.get(REPLAY_METRICS);
  });

  afterEach(async () => {
    await app.close();
  });

  async function scrape(): Promise<string> {
    const res = await request(app.getHttpServer()).get('/metrics').expect(200);
    expect(res.headers['content-type']).toContain('text/plain');
    return res.text;
  }

  it('reads the queue gauges from the service at scrape time', async () => {
    source.statuses = [status('a', 3, 30, 12.5), status('b', 0, 0, null)];
    let text = await scrape();
    expect(sampleValue(text, 'hh_queue_entries', { node: 'a' })).toBe(3);
    expect(sampleValue(text, 'hh_queue_bytes', { node: 'a' })).toBe(30);
    expect(sampleValue(text, 'hh_queue_disk_bytes', { node: 'a' })).toBe(130);
    expect(sampleValue(text, 'hh_queue_oldest_age_seconds', { node: 'a' })).toBe(12.5);
    expect(sampleValue(text, 'hh_queue_oldest_age_seconds', { node: 'b' })).toBe(0);

    source.statuses = [status('a', 1, 10, 1)];
    text = await scrape();
    expect(sampleValue(text, 'hh_queue_entries', { node: 'a' })).toBe(1);
    expect(sampleValue(text, 'hh_queue_entries', { node: 'b' })).toBeUndefined();
  });

  it('binds REPLAY_METRICS to the hh_* counters and gauges', async () => {
    metrics.appended('a', 2, 200);
    metrics.replayed('a', 1, 100);
    metrics.replayError('a', 'network');
    metrics.replayError('a', 'network');
    metrics.deadLettered('a', 1);
    metrics.purged('a', 4, 'age');
    metrics.queueFull('a');
    metrics.corrupt('a', 17);
    metrics.nodeUp('a', false);
    metrics.backoff('a', 2500);
    const text = await scrape();
    expect(sampleValue(text, 'hh_appended_entries_total', { node: 'a' })).toBe(2);
    expect(sampleValue(text, 'hh_appended_bytes_total', { node: 'a' })).toBe(200);
    expect(sampleValue(text, 'hh_replayed_entries_total', { node: 'a' })).toBe(1);
    expect(sampleValue(text, 'hh_replayed_bytes_total', { node: 'a' })).toBe(100);
    expect(sampleValue(text, 'hh_replay_errors_total', { node: 'a', kind: 'network' })).toBe(2);
    expect(sampleValue(text, 'hh_dead_letter_entries_total', { node: 'a' })).toBe(1);
    expect(sampleValue(text, 'hh_purged_entries_total', { node: 'a', reason: 'age' })).toBe(4);
    expect(sampleValue(text, 'hh_queue_full_total', { node: 'a' })).toBe(1);
    expect(sampleValue(text, 'hh_corrupt_bytes_total', { node: 'a' })).toBe(17);
    expect(sampleValue(text, 'hh_node_up', { node: 'a' })).toBe(0);
    expect(sampleValue(text, 'hh_replay_backoff_seconds', { node: 'a' })).toBe(2.5);
  });

  it('counts answered requests by method, route and status code', async () => {
    await request(app.getHttpServer()).get('/no-such-route').expect(404);
    await scrape();
    const text = await scrape();
    const metricsRoute = { method: 'GET', route: '/metrics', code: '200' };
    expect(sampleValue(text, 'hh_http_requests_total', metricsRoute)).toBe(1);
    expect(
      sampleValue(text, 'hh_http_requests_total', {
        method: 'GET',
        route: 'unmatched',
        code: '404',
      }),
    ).toBe(1);
    expect(sampleValue(text, 'hh_http_request_duration_seconds_count', metricsRoute)).toBe(1);
  });

  it('serves Node’s process metrics once, however many apps the process builds', async () => {
    const text = await scrape();
    expect(sampleValue(text, 'process_cpu_user_seconds_total')).toBeGreaterThan(0);
  });

  it('reads the queue gauges of the app being scraped, not of an app closed before it', async () => {
    source.statuses = [status('first', 1, 1, 1)];
    await scrape();
    await app.close();
    const moduleRef = await Test.createTestingModule({
      imports: [RelayMetricsModule.forRoot(), FakeReplayModule],
    }).compile();
    app = moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter());
    await app.init();
    await app.getHttpAdapter().getInstance().ready();
    app.get(StatusSource).statuses = [status('second', 2, 2, 2)];
    const text = await scrape();
    expect(sampleValue(text, 'hh_queue_entries', { node: 'first' })).toBeUndefined();
    expect(sampleValue(text, 'hh_queue_entries', { node: 'second' })).toBe(2);
    // Counters start again with the app, too.
    expect(
      sampleValue(text, 'hh_http_requests_total', {
        method: 'GET',
        route: '/metrics',
        code: '200',
      }),
    ).toBeUndefined();
  });
});

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import request from 'supertest';
import { createRelayApp } from '../../src/app.module';
import { resolveHandoffConfig } from '../../src/config/resolve-handoff-config';
import { sampleValue } from './prometheus-text';

const TOKEN = 'ops-token';

/** The relay app as main.ts builds it: /metrics, /health and /hh mounted together. */
describe('the relay app’s operator surface', () => {
  let dataDir: string;
  let app: NestFastifyApplication;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'hh-wiring-'));
    const config = resolveHandoffConfig(
      {
        dataDir,
        // Port 9 (discard) on loopback: nothing answers, and nothing is written in this test.
        nodes: [{ id: 'n1', url: 'http://127.0.0.1:9/write' }],
        authToken: TOKEN,
        // The machine's own disk usage must not decide this test.
        healthDiskThreshold: 1,
        fsync: 'never',
      },
      {},
    );
    app = await createRelayApp(config, { logger: false });
    await app.init();
    await app.getHttpAdapter().getInstance().ready();
  });

  afterAll(async () => {
    await app.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('serves /metrics with the hh_* metrics and Node’s process metrics, without a token', async () => {
    const res = await request(app.getHttpServer()).get('/metrics').expect(200);
    expect(sampleValue(res.text, 'hh_queue_entries', { node: 'n1' })).toBe(0);
    expect(res.text).toContain('# TYPE hh_appended_entries_total counter');
    expect(res.text).toContain('# TYPE process_cpu_user_seconds_total counter');
  });

  it('serves /health, /health/live and /health/ready without a token', async () => {
    const res = await request(app.getHttpServer()).get('/health').expect(200);
    expect(res.body.details.handoff.nodes.n1).toMatchObject({ open: true, entries: 0 });
    await request(app.getHttpServer()).get('/health/live').expect(200);
    await request(app.getHttpServer()).get('/health/ready').expect(200);
  });

  it('puts /hh behind HH_AUTH_TOKEN', async () => {
    await request(app.getHttpServer()).get('/hh/nodes').expect(401);
    const res = await request(app.getHttpServer())
      .get('/hh/nodes/n1')
      .set('Authorization', `Bearer ${TOKEN}`)
      .expect(200);
    expect(res.body).toMatchObject({ id: 'n1', configured: true, open: true });
  });

  it('counts the relay’s own 401s in the request metrics', async () => {
    const labels = { method: 'GET', route: '/hh/nodes', code: '401' };
    const count = async () =>
      sampleValue(
        (await request(app.getHttpServer()).get('/metrics')).text,
        'hh_http_requests_total',
        labels,
      ) ?? 0;
    const before = await count();
    await request(app.getHttpServer()).get('/hh/nodes').expect(401);
    expect(await count()).toBe(before + 1);
  });
});

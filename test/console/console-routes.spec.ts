import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import request from 'supertest';
import { HandoffConsoleModule } from '../../src/modules/console/handoff-console.module';
import { ConsoleSampler } from '../../src/modules/console/console-sampler.service';
import { RecordingHandoff, startAdminApp } from '../support/recording-handoff';

const ADMIN = 'operator-token';
const AUTH = 'relay-token';
const UPLOT_JS = readFileSync(require.resolve('uplot/dist/uPlot.iife.min.js'));

/** A host's own guard: lets a request through only with its session header. */
@Injectable()
class HostSessionGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const req = context.switchToHttp().getRequest<{ headers: Record<string, string> }>();
    return req.headers['x-host-session'] === 'ok';
  }
}

/** Fastify's own inject: binary bodies stay bytes (supertest would try to decode them). */
async function inject(app: NestFastifyApplication, url: string, headers = {}) {
  return app.getHttpAdapter().getInstance().inject({ method: 'GET', url, headers });
}

describe('the console at /hh/ui', () => {
  let app: NestFastifyApplication;

  afterEach(() => app?.close());

  it('serves the page without a token, with a strict CSP and asset URLs under its own path', async () => {
    app = await startAdminApp({ authToken: AUTH }, [HandoffConsoleModule.register()]);
    const res = await request(app.getHttpServer()).get('/hh/ui').expect(200);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(res.headers['content-security-policy']).toMatch(/script-src 'self';/);
    expect(res.headers['content-security-policy']).toMatch(/frame-ancestors 'none'/);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.text).toContain('data-base="/hh/ui"');
    expect(res.text).toMatch(/src="\/hh\/ui\/assets\/uplot\.js\?v=[\w-]+"/);
    expect(res.text).toMatch(/src="\/hh\/ui\/assets\/console\.js\?v=[\w-]+"/);
    expect(res.text).not.toMatch(/<script>|style="/);
  });

  it('serves uPlot from the installed package, gzipped when asked, and caches it by hash', async () => {
    app = await startAdminApp({}, [HandoffConsoleModule.register()]);
    const plain = await inject(app, '/hh/ui/assets/uplot.js');
    expect(plain.statusCode).toBe(200);
    expect(plain.rawPayload.equals(UPLOT_JS)).toBe(true);
    expect(plain.headers['cache-control']).toMatch(/immutable/);
    const gz = await inject(app, '/hh/ui/assets/uplot.js', { 'accept-encoding': 'gzip, br' });
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(gz.rawPayload.length).toBeLessThan(UPLOT_JS.length / 2);
    expect(gunzipSync(gz.rawPayload).equals(UPLOT_JS)).toBe(true);
    for (const name of ['uplot.css', 'console.js', 'console.css']) {
      expect((await inject(app, `/hh/ui/assets/${name}`)).statusCode).toBe(200);
    }
  });

  it('answers 404 for any other asset name: no request path reaches the filesystem', async () => {
    app = await startAdminApp({}, [HandoffConsoleModule.register()]);
    for (const name of [
      'nope.js',
      '..%2F..%2F..%2Fpackage.json',
      '%2e%2e',
      'uPlot.iife.min.js',
      '..%2Fconsole-assets.js',
    ]) {
      const res = await inject(app, `/hh/ui/assets/${name}`);
      expect(res.statusCode).toBe(404);
      expect(res.body).not.toContain('"name": "nestjs-hinted-handoff"');
    }
  });

  it('gives the overview: nodes, rates, history, disk and what this client may do', async () => {
    app = await startAdminApp({ dataDir: __dirname, maxSize: 1000, healthDiskThreshold: 0.9 }, [
      HandoffConsoleModule.register(),
    ]);
    const sampler = app.get(ConsoleSampler);
    sampler.sample(Date.now());
    // The disk is measured asynchronously: wait for the first statfs.
    for (let i = 0; i < 100 && !sampler.disk(); i++) await new Promise((r) => setTimeout(r, 10));
    const res = await request(app.getHttpServer()).get('/hh/ui/api/overview').expect(200);
    expect(res.body.access).toEqual({ canAct: true, actionsNeedToken: false });
    expect(res.body.relay).toMatchObject({ dataDir: __dirname, maxSize: 1000 });
    expect(res.body.relay.disk.totalBytes).toBeGreaterThan(0);
    expect(res.body.relay.disk.usedRatio).toBeGreaterThanOrEqual(0);
    expect(res.body.nodes.map((n: { id: string }) => n.id)).toEqual(['a', 'b.2']);
    expect(res.body.nodes[0]).toMatchObject({ rates: { handoff: 0, replay: 0 }, etaSeconds: 0 });
    expect(res.body.nodes[0].history.length).toBeGreaterThanOrEqual(1);
    const last = res.body.nodes[0].history.at(-1).t;
    const later = await request(app.getHttpServer()).get(`/hh/ui/api/overview?since=${last}`);
    expect(later.body.nodes[0].history).toEqual([]);
  });

  it('tells a remote client without a token that it cannot act', async () => {
    app = await startAdminApp({}, [HandoffConsoleModule.register()]);
    const res = await app
      .getHttpAdapter()
      .getInstance()
      .inject({ method: 'GET', url: '/hh/ui/api/overview', remoteAddress: '203.0.113.9' });
    expect(res.json().access).toEqual({ canAct: false, actionsNeedToken: false });
  });

  it('follows the admin rules: reads with HH_AUTH_TOKEN, actions with HH_ADMIN_TOKEN', async () => {
    app = await startAdminApp({ authToken: AUTH, adminToken: ADMIN }, [
      HandoffConsoleModule.register(),
    ]);
    const http = () => request(app.getHttpServer());
    await http().get('/hh/ui/api/overview').expect(401);
    const read = await http()
      .get('/hh/ui/api/overview')
      .set('Authorization', `Bearer ${AUTH}`)
      .expect(200);
    expect(read.body.access).toEqual({ canAct: false, actionsNeedToken: true });
    const admin = await http()
      .get('/hh/ui/api/overview')
      .set('Authorization', `Bearer ${ADMIN}`)
      .expect(200);
    expect(admin.body.access.canAct).toBe(true);
    await http()
      .post('/hh/ui/api/nodes/a/pause')
      .set('Authorization', `Bearer ${AUTH}`)
      .expect(401);
    expect(app.get(RecordingHandoff).calls).not.toContain('pause a');
    await http()
      .post('/hh/ui/api/nodes/a/pause')
      .set('Authorization', `Bearer ${ADMIN}`)
      .expect(200);
    expect(app.get(RecordingHandoff).calls).toContain('pause a');
    await http()
      .post('/hh/ui/api/nodes/zz/pause')
      .set('Authorization', `Bearer ${ADMIN}`)
      .expect(404);
    await http()
      .post('/hh/ui/api/nodes/a/purge')
      .set('Authorization', `Bearer ${ADMIN}`)
      .expect(400);
  });

  it('mounts at the host’s path behind the host’s guards', async () => {
    app = await startAdminApp({}, [
      HandoffConsoleModule.register({ path: '/ops/handoff/', guards: [HostSessionGuard] }),
    ]);
    const http = () => request(app.getHttpServer());
    await http().get('/hh/ui').expect(404);
    await http().get('/ops/handoff').expect(403);
    await http().get('/ops/handoff/api/overview').expect(403);
    await http().post('/ops/handoff/api/nodes/a/pause').expect(403);
    expect(app.get(RecordingHandoff).calls).not.toContain('pause a');
    const page = await http().get('/ops/handoff').set('x-host-session', 'ok').expect(200);
    expect(page.text).toContain('data-base="/ops/handoff"');
    await http().post('/ops/handoff/api/nodes/a/pause').set('x-host-session', 'ok').expect(200);
  });

  it('refuses a mount path that is not plain URL segments', () => {
    for (const path of ['../x', 'a//b', 'a b', 'ui/..', '']) {
      expect(() => HandoffConsoleModule.register({ path })).toThrow(/path/);
    }
  });
});

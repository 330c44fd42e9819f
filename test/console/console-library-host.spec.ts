import { readFileSync } from 'node:fs';
import { type CanActivate, type ExecutionContext, Injectable, Module } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { HandoffConsoleModule, HandoffService, HintedHandoffModule } from '../../src';
import { makeTempDir, removeDir } from '../support/temp-dir';
import { fastSettings } from '../support/fast-settings';

/** The host's role check: only requests of an admin session reach the console. */
@Injectable()
class AdminSessionGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const req = context.switchToHttp().getRequest<{ headers: Record<string, string> }>();
    return req.headers.cookie === 'session=admin';
  }
}

describe('HandoffConsoleModule in a library host on Express', () => {
  let dataDir: string;
  let app: NestExpressApplication;

  beforeEach(async () => {
    dataDir = await makeTempDir('hh-console-host-');
    @Module({
      imports: [
        HintedHandoffModule.forRoot(
          fastSettings(dataDir, [{ id: 'n1', url: 'http://127.0.0.1:9/write' }], {
            adminToken: 'host-admin',
          }),
        ),
        HandoffConsoleModule.register({ path: 'admin/handoff', guards: [AdminSessionGuard] }),
      ],
    })
    class HostModule {}
    const ref = await Test.createTestingModule({ imports: [HostModule] }).compile();
    app = ref.createNestApplication<NestExpressApplication>({ logger: false });
    app.setGlobalPrefix('api');
    await app.init();
  });

  afterEach(async () => {
    await app.close();
    await removeDir(dataDir);
  });

  const http = () => request(app.getHttpServer());
  const session = { cookie: 'session=admin' };

  it('serves the page, its files and the overview under the host’s prefix and path', async () => {
    await http().get('/api/admin/handoff').expect(403);
    const page = await http().get('/api/admin/handoff').set(session).expect(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.text).toContain('data-base="/api/admin/handoff"');
    const js = await http()
      .get('/api/admin/handoff/assets/uplot.js')
      .set(session)
      .buffer(true)
      .parse((res, done) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => done(null, Buffer.concat(chunks)));
      })
      .expect(200);
    expect(
      (js.body as Buffer).equals(readFileSync(require.resolve('uplot/dist/uPlot.iife.min.js'))),
    ).toBe(true);

    app.get(HandoffService).pause('n1');
    await app.get(HandoffService).enqueue('n1', Buffer.from('x v=1'));
    const overview = await http().get('/api/admin/handoff/api/overview').set(session).expect(200);
    expect(overview.body.nodes[0]).toMatchObject({
      id: 'n1',
      state: 'paused',
      backlog: { entries: 1, bytes: 5 },
    });
    expect(overview.body.access).toEqual({ canAct: false, actionsNeedToken: true });
  });

  it('acts with the host’s session and the admin token, not with either alone', async () => {
    const pause = '/api/admin/handoff/api/nodes/n1/pause';
    await http().post(pause).set('Authorization', 'Bearer host-admin').expect(403);
    await http().post(pause).set(session).expect(401);
    const res = await http()
      .post(pause)
      .set(session)
      .set('Authorization', 'Bearer host-admin')
      .expect(200);
    expect(res.body.state).toBe('paused');
  });
});

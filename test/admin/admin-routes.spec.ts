import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import request from 'supertest';
import { QueueFullError } from '../../src/modules/queue/errors';
import { UnknownNodeError } from '../../src/modules/replay/errors';
import { RecordingHandoff, startAdminApp, status } from '../support/recording-handoff';

const TOKEN = 's3cret-token';
const startApp = (authToken?: string) => startAdminApp({ authToken });

describe('the operator routes under /hh/nodes', () => {
  let app: NestFastifyApplication;
  let handoff: RecordingHandoff;

  beforeEach(async () => {
    app = await startApp();
    handoff = app.get(RecordingHandoff);
  });

  afterEach(() => app.close());

  const http = () => request(app.getHttpServer());

  it('lists every node with its status', async () => {
    const res = await http().get('/hh/nodes').expect(200);
    expect(res.body).toEqual({ store: { kind: 'disk' }, nodes: [status('a'), status('b.2')] });
  });

  it('shows one node', async () => {
    const res = await http().get('/hh/nodes/b.2').expect(200);
    expect(res.body).toEqual(status('b.2'));
  });

  it('answers 404 with the id for a node that is not configured', async () => {
    const res = await http().get('/hh/nodes/nope').expect(404);
    expect(res.body).toEqual({ error: 'unknown node "nope"' });
  });

  it.each([
    ['..', '/hh/nodes/..'],
    ['an encoded ..', '/hh/nodes/%2e%2e'],
    ['encoded slashes', '/hh/nodes/..%2F..%2Fetc'],
    ['an encoded slash in a POST', '/hh/nodes/a%2F..%2Fb/purge?confirm=true'],
    ['an over-long id', `/hh/nodes/${'x'.repeat(65)}`],
  ])('refuses %s with 404 before the service looks anything up', async (_name, path) => {
    const method = path.includes('/purge') ? 'post' : 'get';
    const res = await http()[method](path).expect(404);
    expect(res.body.error).toMatch(/^unknown node /);
    expect(handoff.calls).toEqual([]);
  });

  it('pauses and resumes a node, answering its new state', async () => {
    let res = await http().post('/hh/nodes/a/pause').expect(200);
    expect(res.body.state).toBe('paused');
    res = await http().post('/hh/nodes/a/resume').expect(200);
    expect(res.body.state).toBe('up');
    expect(handoff.calls).toEqual(['hasNode a', 'pause a', 'hasNode a', 'resume a']);
  });

  it('replays a node now and answers the bytes sent', async () => {
    const res = await http().post('/hh/nodes/a/replay').expect(200);
    expect(res.body).toEqual({ bytes: 42, node: status('a') });
    expect(handoff.calls).toContain('replayNow a');
  });

  it('refuses a purge without confirm=true, and purges nothing', async () => {
    for (const query of ['', '?confirm=false', '?confirm=1', '?confirm=TRUE']) {
      const res = await http().post(`/hh/nodes/a/purge${query}`).expect(400);
      expect(res.body).toEqual({ error: 'purge drops the whole backlog: add ?confirm=true' });
    }
    expect(handoff.calls.filter((c) => c.startsWith('purge'))).toEqual([]);
  });

  it('purges with confirm=true and answers what was dropped', async () => {
    const res = await http().post('/hh/nodes/a/purge?confirm=true').expect(200);
    expect(res.body).toEqual({ entries: 3, bytes: 30, segments: 1 });
    expect(handoff.calls).toContain('purge a');
  });

  it('lists dead letters with size, times and the node’s error', async () => {
    handoff.statuses.set('a', status('a', { deadLetters: 2, lastError: 'HTTP 400' }));
    const res = await http().get('/hh/nodes/a/dead-letters').expect(200);
    expect(res.body).toEqual({
      node: 'a',
      count: 2,
      lastError: 'HTTP 400',
      entries: handoff.letters,
    });
    expect(handoff.calls).toContain('deadLetters a undefined');
  });

  it('passes a valid limit to the service as a number', async () => {
    const res = await http().get('/hh/nodes/a/dead-letters?limit=1').expect(200);
    expect(res.body.entries).toEqual([handoff.letters[0]]);
    expect(handoff.calls).toContain('deadLetters a 1');
  });

  it.each(['0', '-1', 'abc', '1.5', '1e3', '10001', ''])(
    'refuses limit=%s with 400',
    async (limit) => {
      const res = await http().get(`/hh/nodes/a/dead-letters?limit=${limit}`).expect(400);
      expect(typeof res.body.error).toBe('string');
      expect(handoff.calls.filter((c) => c.startsWith('deadLetters'))).toEqual([]);
    },
  );

  it('requeues dead letters and answers how many', async () => {
    const res = await http().post('/hh/nodes/a/dead-letters/requeue').expect(200);
    expect(res.body).toEqual({ requeued: 2 });
    expect(handoff.calls).toContain('requeue a');
  });
  it('answers 503 with the reason when a requeue finds the node’s queue full', async () => {
    handoff.failure = new QueueFullError('/data/hh/a', 1000);
    const res = await http().post('/hh/nodes/a/dead-letters/requeue').expect(503);
    expect(res.body.error).toMatch(/requeue of node a failed: .*full/);
  });

  it('answers 404 when the node is removed between the id check and the answer', async () => {
    handoff.removeOnPause = true;
    const res = await http().post('/hh/nodes/a/pause').expect(404);
    expect(res.body.error).toMatch(/unknown node "a"/);
  });

  it('answers 404 when the node is removed while a purge waits for its queue', async () => {
    handoff.failure = new UnknownNodeError('a');
    const res = await http().post('/hh/nodes/a/purge?confirm=true').expect(404);
    expect(res.body.error).toMatch(/unknown node "a"/);
  });
});

describe('the operator routes with HH_AUTH_TOKEN set', () => {
  let app: NestFastifyApplication;

  beforeEach(async () => {
    app = await startApp(TOKEN);
  });

  afterEach(() => app.close());

  it('refuses a request without the token with 401', async () => {
    await request(app.getHttpServer()).get('/hh/nodes').expect(401);
    await request(app.getHttpServer()).post('/hh/nodes/a/purge?confirm=true').expect(401);
    expect(app.get(RecordingHandoff).calls).toEqual([]);
  });

  it('refuses a wrong token with 401', async () => {
    await request(app.getHttpServer())
      .get('/hh/nodes')
      .set('Authorization', 'Bearer wrong')
      .expect(401);
  });

  it('answers with the bearer token', async () => {
    await request(app.getHttpServer())
      .get('/hh/nodes')
      .set('Authorization', `Bearer ${TOKEN}`)
      .expect(200);
  });

  it('answers with the token as InfluxDB p parameter, which the DTOs ignore', async () => {
    await request(app.getHttpServer())
      .get(`/hh/nodes/a/dead-letters?u=ops&p=${TOKEN}&limit=1`)
      .expect(200);
  });
});

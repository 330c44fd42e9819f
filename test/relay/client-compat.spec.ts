import { FakeInfluxNode } from './fake-influx-node';
import { rawRequest } from './raw-request';
import { startRelay, type RunningRelay } from './relay-app';

describe('relay: what real InfluxDB clients send', () => {
  let a: FakeInfluxNode;
  let b: FakeInfluxNode;
  let relay: RunningRelay;

  beforeEach(async () => {
    a = await new FakeInfluxNode().start();
    b = await new FakeInfluxNode().start();
    relay = await startRelay([
      { id: 'a', url: a.url },
      { id: 'b', url: b.url },
    ]);
  });

  afterEach(async () => {
    await relay.close();
    await a.stop();
    await b.stop();
  });

  it('takes a write with an empty Content-Type header and the CLI parameters (as influx 1.6 sends)', async () => {
    const res = await rawRequest(
      `${relay.url}/write?consistency=all&db=d&precision=ns&rp=`,
      'POST',
      { 'Content-Type': '' },
      'm v=1 1',
    );
    expect(res.status).toBe(204);
    for (const node of [a, b]) {
      expect(node.writes.map((w) => w.text)).toEqual(['m v=1 1']);
      expect(node.writes[0].query.toString()).toBe('db=d&precision=ns');
    }
  });

  it('passes a query with an empty Content-Type header', async () => {
    a.responder = (_req, res) =>
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end('{"results":[{"statement_id":0}]}');
    const res = await rawRequest(
      `${relay.url}/query`,
      'POST',
      { 'Content-Type': '' },
      'q=SHOW+DATABASES',
    );
    expect(res.status).toBe(200);
  });

  it('answers errors in InfluxDB JSON shape, never Nest shape', async () => {
    for (const [method, path] of [
      ['GET', '/write?db=d'],
      ['POST', '/nowhere'],
      ['DELETE', '/query'],
    ]) {
      const res = await rawRequest(`${relay.url}${path}`, method, {});
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(JSON.parse(res.body)).toEqual({ error: expect.any(String) });
    }
  });
});

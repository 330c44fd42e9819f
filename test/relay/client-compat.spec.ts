import { FakeInfluxNode } from '../support/fake-influx-node';
import { rawRequest } from './raw-request';
import { startRelay, type RunningRelay } from '../support/relay-app';

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

  it('takes a write with a Content-Type that is no media type at all', async () => {
    for (const type of ['foo', ';;;', 'text']) {
      const res = await rawRequest(
        `${relay.url}/write?db=d`,
        'POST',
        { 'Content-Type': type },
        'm v=1 1',
      );
      expect(res.status).toBe(204);
    }
    expect(a.writes).toHaveLength(3);
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

  it("passes a node's 404 database not found through as 404 with InfluxDB's body", async () => {
    a.responder = (_req, res) =>
      res
        .writeHead(404, { 'content-type': 'application/json' })
        .end('{"error":"database not found: \\"nodb\\""}');
    const res = await rawRequest(`${relay.url}/write?db=nodb`, 'POST', {}, 'm v=1 1');
    expect(res.status).toBe(404);
    expect(JSON.parse(res.body)).toEqual({ error: 'database not found: "nodb"' });
  });

  it("answers /ping?verbose=true with the nodes' version, and reports it in X-Influxdb-Version", async () => {
    const verbose = await rawRequest(`${relay.url}/ping?verbose=true`, 'GET', {});
    expect(verbose.status).toBe(200);
    expect(JSON.parse(verbose.body)).toEqual({ version: '1.6.7-fake' });
    expect(verbose.headers['x-influxdb-version']).toBe('1.6.7-fake');
    const ping = await rawRequest(`${relay.url}/ping`, 'HEAD', {});
    expect(ping.status).toBe(204);
    expect(ping.headers['x-influxdb-version']).toBe('1.6.7-fake');
    const write = await rawRequest(`${relay.url}/write?db=d`, 'POST', {}, 'm v=1 1');
    expect(write.headers['x-influxdb-version']).toBe('1.6.7-fake');
  });

  it('takes a v2 write (bucket db/rp, org, precision) as a 1.x write', async () => {
    for (const [query, expected] of [
      ['bucket=d%2Fweek&org=o&precision=us', 'db=d&rp=week&precision=u'],
      ['bucket=d&org=o&precision=s', 'db=d&precision=s'],
      ['bucket=d&org=o', 'db=d&precision=ns'],
    ]) {
      const res = await rawRequest(
        `${relay.url}/api/v2/write?${query}`,
        'POST',
        { authorization: 'Token user:pass', 'content-type': 'text/plain; charset=utf-8' },
        'm v=1 1',
      );
      expect(res.status).toBe(204);
      expect(a.writes[a.writes.length - 1].query.toString()).toBe(expected);
    }
    const bad = await rawRequest(
      `${relay.url}/api/v2/write?bucket=d&precision=h`,
      'POST',
      {},
      'm v=1',
    );
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.body).error).toMatch(/precision/);
    const noBucket = await rawRequest(`${relay.url}/api/v2/write?org=o`, 'POST', {}, 'm v=1');
    expect(noBucket.status).toBe(400);
  });
});

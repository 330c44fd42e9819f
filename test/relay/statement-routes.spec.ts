import { rawRequest } from './raw-request';
import { closedPort, FakeInfluxNode, type Responder } from '../support/fake-influx-node';
import { startRelay, type RunningRelay } from '../support/relay-app';

const influx: Responder = (req, res) => {
  if (req.path === '/query') {
    res
      .writeHead(200, { 'content-type': 'application/json', 'x-influxdb-version': '1.6.7' })
      .end('{"results":[{"statement_id":0}]}');
  } else res.writeHead(204).end();
};
const form = { 'content-type': 'application/x-www-form-urlencoded' };

describe('relay /query: statements routed by what they do', () => {
  let a: FakeInfluxNode;
  let b: FakeInfluxNode;
  let relay: RunningRelay | undefined;

  beforeEach(async () => {
    a = await new FakeInfluxNode().start();
    a.responder = influx;
    b = new FakeInfluxNode();
    b.port = await closedPort();
    b.responder = influx;
  });

  afterEach(async () => {
    await relay?.close();
    relay = undefined;
    await a.stop();
    await b.stop();
  });

  const start = async (options = {}) => {
    relay = await startRelay(
      [
        { id: 'a', url: a.url },
        { id: 'b', url: b.url },
      ],
      options,
    );
    return relay;
  };

  it('sends a state-changing query to every node and a read to one', async () => {
    await b.start();
    const r = await start();
    const created = await rawRequest(`${r.url}/query`, 'POST', form, 'q=CREATE+DATABASE+tele');
    expect(created.status).toBe(200);
    expect(JSON.parse(created.body)).toEqual({ results: [{ statement_id: 0 }] });
    const read = await rawRequest(`${r.url}/query?q=SHOW+DATABASES`, 'GET', {});
    expect(read.status).toBe(200);
    const queries = (n: FakeInfluxNode) => n.queries.map((q) => q.text || q.query.get('q'));
    expect(queries(a)).toEqual(['q=CREATE+DATABASE+tele', 'SHOW DATABASES']);
    expect(queries(b)).toEqual(['q=CREATE+DATABASE+tele']);
  });

  it('hands a statement off to a down node, in order with its writes, and replays it as a barrier', async () => {
    const r = await start();
    const created = await rawRequest(
      `${r.url}/query?q=${encodeURIComponent('CREATE DATABASE "t;x"; CREATE RETENTION POLICY w ON "t;x" DURATION 1d REPLICATION 1')}`,
      'POST',
      {},
    );
    expect(created.status).toBe(200);
    const write = await rawRequest(`${r.url}/write?db=t%3Bx&rp=w`, 'POST', {}, 'm v=1 1');
    expect(write.status).toBe(204);
    const dropped = await rawRequest(`${r.url}/query?db=t%3Bx&q=DROP+MEASUREMENT+m`, 'POST', {});
    expect(dropped.status).toBe(200);
    expect(r.handoff.backlog('b').entries).toBe(3);

    await b.start();
    await r.handoff.replayNow('b');
    expect(b.requests.filter((q) => q.path !== '/ping').map((q) => [q.path, q.text])).toEqual([
      [
        '/query',
        new URLSearchParams({
          q: 'CREATE DATABASE "t;x"; CREATE RETENTION POLICY w ON "t;x" DURATION 1d REPLICATION 1',
        }).toString(),
      ],
      ['/write', 'm v=1 1'],
      ['/query', new URLSearchParams({ q: 'DROP MEASUREMENT m', db: 't;x' }).toString()],
    ]);
    expect(r.handoff.backlog('b').entries).toBe(0);
  });

  it('follows the consistency rules, capped by HH_MAX_CONSISTENCY', async () => {
    const r = await start();
    const strict = await rawRequest(
      `${r.url}/query?consistency=all&q=CREATE+DATABASE+x`,
      'POST',
      {},
    );
    expect(strict.status).toBe(500);
    expect(JSON.parse(strict.body).error).toMatch(/^partial write: consistency all/);
    await r.close();
    relay = undefined;
    const capped = await start({ maxConsistency: 'one' });
    const res = await rawRequest(
      `${capped.url}/query?consistency=all&q=CREATE+DATABASE+x`,
      'POST',
      {},
    );
    expect(res.status).toBe(200);
    const write = await rawRequest(
      `${capped.url}/write?db=x&consistency=all`,
      'POST',
      {},
      'm v=1 1',
    );
    expect(write.status).toBe(204);
  });

  it('without a token, hands nothing off when no node could accept the client credentials', async () => {
    await a.stop();
    const r = await start();
    const res = await rawRequest(`${r.url}/query?q=DROP+DATABASE+x`, 'POST', {});
    expect(res.status).toBe(503);
    expect(JSON.parse(res.body).error).toMatch(/not handed off/);
    expect(r.handoff.backlog('a').entries).toBe(0);
    expect(r.handoff.backlog('b').entries).toBe(0);
  });

  it('with a token, hands a statement off even when every node is down', async () => {
    await a.stop();
    const r = await start({ authToken: 'tok' });
    const res = await rawRequest(`${r.url}/query?q=CREATE+DATABASE+x`, 'POST', {
      authorization: 'Token tok',
    });
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toEqual({ results: [{ statement_id: 0 }] });
    expect(r.handoff.backlog('b').entries).toBe(1);
  });

  it('hands nothing off when a live node refused the statement, even for a token client', async () => {
    a.responder = (_req, res) =>
      res.writeHead(405, { 'content-type': 'application/json' }).end('{"error":"requires a POST"}');
    const r = await start({ authToken: 'tok' });
    const res = await rawRequest(`${r.url}/query?q=CREATE+DATABASE+x`, 'GET', {
      authorization: 'Bearer tok',
    });
    expect(res.status).toBe(405);
    expect(r.handoff.backlog('b').entries).toBe(0);
  });

  it("passes a node's refusal through as the node gave it, and queues nothing", async () => {
    a.responder = (_req, res) =>
      res
        .writeHead(400, { 'content-type': 'application/json' })
        .end('{"error":"error parsing query: found EOF"}');
    const r = await start();
    const res = await rawRequest(`${r.url}/query?q=CREATE+DATABASE`, 'POST', {});
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body)).toEqual({ error: 'error parsing query: found EOF' });
    expect(r.handoff.backlog('b').entries).toBe(0);
  });
});

describe('relay /query credentials', () => {
  let node: FakeInfluxNode;
  let relay: RunningRelay;
  const nodeUser = `Basic ${Buffer.from('relay:node-pass').toString('base64')}`;

  beforeEach(async () => {
    node = await new FakeInfluxNode().start();
    node.responder = influx;
  });

  afterEach(async () => {
    await relay.close();
    await node.stop();
  });

  const start = async (options = {}) => {
    const url = new URL(node.url);
    url.username = 'relay';
    url.password = 'node-pass';
    relay = await startRelay([{ id: 'a', url: url.href }], options);
  };

  it("never lends an anonymous client the relay's node user, reading or changing", async () => {
    await start();
    await rawRequest(`${relay.url}/query?q=SHOW+DATABASES`, 'GET', {});
    await rawRequest(`${relay.url}/query?q=DROP+DATABASE+x`, 'POST', {});
    expect(node.queries).toHaveLength(2);
    for (const req of node.queries) {
      expect(req.headers.authorization).toBeUndefined();
      expect(req.query.get('u')).toBeNull();
    }
  });

  it("forwards the client's own credentials: u/p, Basic and Token", async () => {
    await start();
    await rawRequest(`${relay.url}/query?q=SHOW+DATABASES&u=bob&p=pw`, 'GET', {});
    const basic = `Basic ${Buffer.from('bob:pw').toString('base64')}`;
    await rawRequest(`${relay.url}/query?q=CREATE+DATABASE+x`, 'POST', { authorization: basic });
    await rawRequest(`${relay.url}/query?q=SHOW+USERS`, 'GET', { authorization: 'Token bob:pw' });
    expect(node.queries[0].query.get('u')).toBe('bob');
    expect(node.queries[0].query.get('p')).toBe('pw');
    expect(node.queries[0].headers.authorization).toBeUndefined();
    expect(node.queries[1].headers.authorization).toBe(basic);
    expect(node.queries[2].headers.authorization).toBe('Token bob:pw');
  });

  it('uses the node user for a client the relay authenticated with its token, never the token', async () => {
    await start({ authToken: 'tok' });
    await rawRequest(`${relay.url}/query?q=SHOW+DATABASES&u=x&p=tok`, 'GET', {});
    await rawRequest(`${relay.url}/query?q=CREATE+DATABASE+x`, 'POST', {
      authorization: 'Bearer tok',
    });
    for (const req of node.queries) {
      expect(req.headers.authorization).toBe(nodeUser);
      expect(req.query.get('p')).toBeNull();
    }
  });
});

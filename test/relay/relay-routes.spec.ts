import { gzipSync } from 'node:zlib';
import request from 'supertest';
import { FakeInfluxNode } from '../support/fake-influx-node';
import { startRelay, type RunningRelay } from '../support/relay-app';
import type { DiskBackedQueue } from '../../src/modules/queue/disk-backed-queue';

const TOKEN = 'relay-secret';

describe('relay routes (through a real socket)', () => {
  let a: FakeInfluxNode;
  let b: FakeInfluxNode;
  let relay: RunningRelay;

  beforeEach(async () => {
    a = await new FakeInfluxNode().start();
    b = await new FakeInfluxNode().start();
  });

  afterEach(async () => {
    await relay?.close();
    await a.stop();
    await b.stop();
  });

  const nodes = () => [
    { id: 'a', url: a.url },
    { id: 'b', url: b.url },
  ];

  describe('POST /write', () => {
    beforeEach(async () => {
      relay = await startRelay(nodes(), { maxBodySize: 1000 });
    });

    it('sends the body byte for byte to every node with db, rp and precision, and answers 204', async () => {
      const body = 'cpu,host=h1 value=1 1700000000\ncpu,host=h2 value=2 1700000000';
      await request(relay.url)
        .post('/write?db=tele&rp=week&precision=s')
        .set('content-type', 'text/plain')
        .send(body)
        .expect(204);
      for (const node of [a, b]) {
        expect(node.writes).toHaveLength(1);
        expect(node.writes[0].query.toString()).toBe('db=tele&rp=week&precision=s');
        expect(node.writes[0].text).toBe(body);
      }
    });

    it('accepts any content type, or none, as line protocol', async () => {
      for (const type of [
        'application/octet-stream',
        'application/x-www-form-urlencoded',
        'application/json',
      ]) {
        await request(relay.url)
          .post('/write?db=d')
          .set('content-type', type)
          .send('m v=1')
          .expect(204);
      }
      expect(a.writes.map((w) => w.text)).toEqual(['m v=1', 'm v=1', 'm v=1']);
    });

    it('passes a gzip body through still gzipped', async () => {
      const gz = gzipSync(Buffer.from('mem v=1\n'));
      await request(relay.url)
        .post('/write?db=d')
        .set('content-encoding', 'gzip')
        .set('content-type', 'text/plain')
        .send(gz)
        .expect(204);
      expect(a.writes[0].headers['content-encoding']).toBe('gzip');
      expect(a.writes[0].raw.equals(gz)).toBe(true);
    });

    it('answers 400 to a gzip body that does not inflate, and sends nothing', async () => {
      const res = await request(relay.url)
        .post('/write?db=d')
        .set('content-encoding', 'gzip')
        .set('content-type', 'text/plain')
        .send(Buffer.from('definitely not gzip'))
        .expect(400);
      expect(res.body.error).toMatch(/decompress/);
      expect(a.writes).toHaveLength(0);
    });

    it('answers 413 in InfluxDB JSON to a body over HH_MAX_BODY_SIZE', async () => {
      const res = await request(relay.url)
        .post('/write?db=d')
        .set('content-type', 'text/plain')
        .send('x'.repeat(1001))
        .expect(413);
      expect(res.body).toEqual({ error: expect.stringMatching(/too large/) });
      expect(a.writes).toHaveLength(0);
    });

    it('answers 413 to a gzip body that inflates past HH_MAX_BODY_SIZE', async () => {
      const gz = gzipSync(Buffer.from('m v=1\n'.repeat(500)));
      expect(gz.length).toBeLessThan(1000);
      await request(relay.url)
        .post('/write?db=d')
        .set('content-encoding', 'gzip')
        .set('content-type', 'text/plain')
        .send(gz)
        .expect(413);
    });

    it('answers 400 "database is required" without db', async () => {
      const res = await request(relay.url)
        .post('/write')
        .set('content-type', 'text/plain')
        .send('m v=1')
        .expect(400);
      expect(res.body).toEqual({ error: 'database is required' });
    });

    it('answers 400 to an unknown precision or consistency', async () => {
      await request(relay.url)
        .post('/write?db=d&precision=q')
        .set('content-type', 'text/plain')
        .send('m v=1')
        .expect(400);
      await request(relay.url)
        .post('/write?db=d&consistency=most')
        .set('content-type', 'text/plain')
        .send('m v=1')
        .expect(400);
      expect(a.writes).toHaveLength(0);
    });

    it('passes the node JSON error with 400 when a node rejects the data, and queues nothing', async () => {
      b.responder = (_req, res) =>
        res
          .writeHead(400, { 'content-type': 'application/json' })
          .end('{"error":"unable to parse \'bad\': missing fields"}');
      const res = await request(relay.url)
        .post('/write?db=d')
        .set('content-type', 'text/plain')
        .send('bad')
        .expect(400);
      expect(res.body).toEqual({ error: "unable to parse 'bad': missing fields" });
      expect(relay.handoff.backlog('b').entries).toBe(0);
      expect(relay.handoff.backlog('a').entries).toBe(0);
    });
  });

  describe('consistency', () => {
    const write = (consistency?: string) =>
      request(relay.url)
        .post(`/write?db=d${consistency ? `&consistency=${consistency}` : ''}`)
        .set('content-type', 'text/plain')
        .send('m v=1');

    beforeEach(async () => {
      relay = await startRelay(nodes());
      b.responder = (_req, res) => res.writeHead(500).end('{"error":"engine down"}');
    });

    it('any: 204 with a node failing, and its copy handed off', async () => {
      await write('any').expect(204);
      expect(relay.handoff.backlog('b').entries).toBe(1);
      expect(relay.handoff.backlog('a').entries).toBe(0);
    });

    it('one: 204 when one node took the write live', async () => {
      await write('one').expect(204);
      expect(relay.handoff.backlog('b').entries).toBe(1);
    });

    it('quorum of two: 500 partial write with one node failing, the miss still handed off', async () => {
      const res = await write('quorum').expect(500);
      expect(res.body.error).toMatch(/^partial write/);
      expect(relay.handoff.backlog('b').entries).toBe(1);
    });

    it('all: 500 partial write with one node failing, the miss still handed off', async () => {
      const res = await write('all').expect(500);
      expect(res.body.error).toMatch(/^partial write: consistency all needs 2 of 2 nodes, 1 took/);
      expect(relay.handoff.backlog('b').entries).toBe(1);
    });

    it('all: 204 when every node took it', async () => {
      b.responder = (_req, res) => res.writeHead(204).end();
      await write('all').expect(204);
    });

    it('one: 500 when no node took it live; both copies handed off', async () => {
      a.responder = (_req, res) => res.writeHead(503).end();
      await write('one').expect(500);
      expect(relay.handoff.backlog('a').entries).toBe(1);
      expect(relay.handoff.backlog('b').entries).toBe(1);
    });

    it('defaults to HH_WRITE_CONSISTENCY (any)', async () => {
      await write().expect(204);
    });

    it('sends a write behind the queue of a backlogged node, never past it', async () => {
      await write().expect(204); // b fails: handed off
      b.responder = (_req, res) => res.writeHead(204).end();
      const liveBefore = b.writes.length;
      await request(relay.url)
        .post('/write?db=d')
        .set('content-type', 'text/plain')
        .send('m v=2')
        .expect(204);
      expect(b.writes.length).toBe(liveBefore); // not sent live: queued behind v=1
      expect(relay.handoff.backlog('b').entries).toBe(2);
      await relay.handoff.replayNow('b');
      // In order; and in two requests: both lack a timestamp, so one request would make the
      // node stamp them with one time and keep a single point.
      expect(b.writes.slice(liveBefore).map((w) => w.text)).toEqual(['m v=1', 'm v=2']);
      expect(relay.handoff.backlog('b').entries).toBe(0);
    });
  });

  describe('large writes', () => {
    it('hands off and replays 5 000-point writes (larger than a queue read) byte for byte, in one lane', async () => {
      relay = await startRelay(nodes(), { replayLanes: 1 });
      b.responder = (_req, res) => res.writeHead(503).end();
      const batch = (k: number) =>
        Array.from(
          { length: 5000 },
          (_, i) =>
            `cpu,host=server-${i % 50},region=eu-west-1,k=${k} user=${i}.5,system=1.25 ${k * 5000 + i}`,
        )
          .join('\n')
          .concat('\n');
      const bodies = [0, 1, 2].map(batch);
      expect(bodies[0].length).toBeGreaterThan(256 * 1024);
      for (const body of bodies) {
        await request(relay.url)
          .post('/write?db=d')
          .set('content-type', 'text/plain')
          .send(body)
          .expect(204);
      }
      expect(relay.handoff.backlog('b').entries).toBe(3);
      b.responder = (_req, res) => res.writeHead(204).end();
      const refused = b.writes.length; // the live attempts b answered 503
      await relay.handoff.replayNow('b');
      expect(
        b.writes
          .slice(refused)
          .map((w) => w.text)
          .join(''),
      ).toBe(bodies.join(''));
      expect(relay.handoff.backlog('b').entries).toBe(0);
      expect((relay.handoff.queueOf('b') as DiskBackedQueue).corruptCount()).toBe(0);
    });
  });

  describe('writes larger than a queue segment', () => {
    const SEGMENT = 64 * 1024;
    const body = (n: number) =>
      Array.from({ length: n }, (_, i) => `cpu,host=server-${i % 50} user=${i}.5 ${1000 + i}`)
        .join('\n')
        .concat('\n');

    beforeEach(async () => {
      // One lane: these check the hand-off's cuts, so the replay must come back byte for byte.
      relay = await startRelay(nodes(), {
        maxSegmentSize: SEGMENT,
        maxBodySize: 4_000_000,
        replayLanes: 1,
      });
      b.responder = (_req, res) => res.writeHead(503).end();
    });

    async function replayed(): Promise<string> {
      b.responder = (_req, res) => res.writeHead(204).end();
      const refused = b.writes.length;
      await relay.handoff.replayNow('b');
      return b.writes
        .slice(refused)
        .map((w) => w.text)
        .join('');
    }

    it('hands a body larger than a segment off in pieces cut at line ends, replayed whole', async () => {
      const text = body(8000); // ~350 KB: several 64 KiB segments
      expect(text.length).toBeGreaterThan(4 * SEGMENT);
      await request(relay.url)
        .post('/write?db=d')
        .set('content-type', 'text/plain')
        .send(text)
        .expect(204);
      expect(relay.handoff.backlog('b').entries).toBeGreaterThan(4);
      expect(await replayed()).toBe(text);
      expect(relay.handoff.backlog('b').entries).toBe(0);
    });

    it('hands a gzip body larger than a segment off inflated, in pieces, replayed whole', async () => {
      // Values that barely compress, so the gzip body itself is larger than a segment.
      let x = 12345;
      const noisy = Array.from({ length: 8000 }, (_, i) => {
        x = (x * 1103515245 + 12345) % 2147483648;
        return `cpu,host=server-${i % 50} user=${x},sys=${x % 9973} ${1000 + i}`;
      });
      const text = noisy.join('\n') + '\n';
      const zipped = gzipSync(text);
      expect(zipped.length).toBeGreaterThan(SEGMENT);
      await request(relay.url)
        .post('/write?db=d')
        .set('content-type', 'text/plain')
        .set('content-encoding', 'gzip')
        .send(zipped)
        .expect(204);
      expect(await replayed()).toBe(text);
    });

    it('answers 503 naming the node when one line alone is larger than a segment', async () => {
      const res = await request(relay.url)
        .post('/write?db=d')
        .set('content-type', 'text/plain')
        .send(`big v="${'x'.repeat(SEGMENT)}" 1\n`)
        .expect(503);
      expect(res.body.error).toMatch(/node b: ERR_SEGMENT_FULL/);
      expect(relay.handoff.backlog('b').entries).toBe(0);
    });
  });

  describe('live write timeout', () => {
    it('hands the copy off when a node does not answer within HH_WRITE_TIMEOUT', async () => {
      relay = await startRelay(nodes(), { writeTimeoutMs: 200 });
      b.responder = () => undefined; // holds the request; stop() closes the socket
      await request(relay.url)
        .post('/write?db=d')
        .set('content-type', 'text/plain')
        .send('m v=1')
        .expect(204);
      expect(a.writes).toHaveLength(1);
      expect(relay.handoff.backlog('b').entries).toBe(1);
    });
  });

  describe('hand-off that cannot be stored', () => {
    it('answers 503 naming the node and reason when its queue is full', async () => {
      relay = await startRelay(nodes(), { maxSize: 64 * 1024, maxSegmentSize: 16 * 1024 });
      b.responder = (_req, res) => res.writeHead(503).end();
      const line = `m,tag=${'x'.repeat(4000)} v=1\n`;
      let res: request.Response | undefined;
      for (let i = 0; i < 40; i += 1) {
        res = await request(relay.url)
          .post('/write?db=d')
          .set('content-type', 'text/plain')
          .send(line);
        if (res.status !== 204) break;
      }
      expect(res?.status).toBe(503);
      expect(res?.body.error).toMatch(/node b: ERR_QUEUE_FULL/);
    });
  });

  describe('auth', () => {
    beforeEach(async () => {
      relay = await startRelay(nodes(), { authToken: TOKEN });
    });
    const post = () => request(relay.url).post('/write?db=d').set('content-type', 'text/plain');

    it('answers 401 in InfluxDB JSON without credentials', async () => {
      const res = await post().send('m v=1').expect(401);
      expect(res.body).toEqual({ error: expect.any(String) });
      expect(a.writes).toHaveLength(0);
    });

    it('answers 401 to a wrong token', async () => {
      await post().set('authorization', 'Bearer wrong').send('m v=1').expect(401);
      await post().set('authorization', `Bearer ${TOKEN}x`).send('m v=1').expect(401);
      await request(relay.url).post(`/write?db=d&u=me&p=nope`).send('m v=1').expect(401);
      expect(a.writes).toHaveLength(0);
    });

    it('takes the token as Bearer, Token, Basic password, or u/p', async () => {
      await post().set('authorization', `Bearer ${TOKEN}`).send('m v=1').expect(204);
      await post().set('authorization', `Token ${TOKEN}`).send('m v=2').expect(204);
      const basic = Buffer.from(`anyone:${TOKEN}`).toString('base64');
      await post().set('authorization', `Basic ${basic}`).send('m v=3').expect(204);
      await request(relay.url)
        .post(`/write?db=d&u=anyone&p=${TOKEN}`)
        .set('content-type', 'text/plain')
        .send('m v=4')
        .expect(204);
      expect(a.writes.map((w) => w.text)).toEqual(['m v=1', 'm v=2', 'm v=3', 'm v=4']);
    });

    it('guards /query too', async () => {
      await request(relay.url).get('/query?q=SHOW+DATABASES').expect(401);
    });

    it('keeps /ping open', async () => {
      await request(relay.url).get('/ping').expect(204);
    });

    it('never forwards the relay token to a node', async () => {
      await request(relay.url).get(`/query?q=SHOW+DATABASES&u=me&p=${TOKEN}`).expect(204);
      expect(a.queries[0].query.get('p')).toBeNull();
      expect(a.queries[0].query.get('q')).toBe('SHOW DATABASES');
    });
  });

  describe('/ping and /query', () => {
    beforeEach(async () => {
      relay = await startRelay(nodes());
    });

    it('answers /ping with 204 and InfluxDB version headers, for GET and HEAD', async () => {
      // The verbose ping waits for the nodes' version; the plain ones report it from then on.
      await request(relay.url).get('/ping?verbose=true').expect(200);
      for (const res of [
        await request(relay.url).get('/ping'),
        await request(relay.url).head('/ping'),
      ]) {
        expect(res.status).toBe(204);
        expect(res.headers['x-influxdb-version']).toBe('1.6.7-fake');
        expect(res.headers['x-influxdb-build']).toBe('OSS');
      }
    });

    it('passes GET /query to the first node and streams its status, type and body back', async () => {
      a.responder = (_req, res) =>
        res
          .writeHead(200, { 'content-type': 'application/json' })
          .end('{"results":[{"statement_id":0}]}');
      const res = await request(relay.url).get('/query?db=d&q=SELECT+1').expect(200);
      expect(res.headers['content-type']).toBe('application/json');
      expect(res.body).toEqual({ results: [{ statement_id: 0 }] });
      expect(a.queries).toHaveLength(1);
      expect(b.queries).toHaveLength(0);
    });

    it('passes a POST /query form body through', async () => {
      a.responder = (_req, res) =>
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"results":[]}');
      await request(relay.url)
        .post('/query')
        .type('form')
        .send({ q: 'CREATE DATABASE x' })
        .expect(200);
      expect(a.queries[0].method).toBe('POST');
      expect(a.queries[0].text).toBe('q=CREATE%20DATABASE%20x');
      expect(a.queries[0].headers['content-type']).toBe('application/x-www-form-urlencoded');
    });

    it('asks the next node when the first does not answer', async () => {
      await a.stop();
      b.responder = (_req, res) =>
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"results":[]}');
      await request(relay.url).get('/query?q=SHOW+DATABASES').expect(200);
      expect(b.queries).toHaveLength(1);
    });

    it('answers 503 when no node answers', async () => {
      await a.stop();
      await b.stop();
      const res = await request(relay.url).get('/query?q=SHOW+DATABASES').expect(503);
      expect(res.body.error).toMatch(/no node answered/);
    });
  });
});

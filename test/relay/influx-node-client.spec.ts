import { gzipSync } from 'node:zlib';
import { PermanentWriteError, TransientWriteError } from '../../src/modules/replay/errors';
import { InfluxNodeClient } from '../../src/modules/relay/influx-node-client';
import { encodeEnvelope, type WriteEnvelope } from '../../src/modules/relay/write-envelope';
import { closedPort, FakeInfluxNode } from '../support/fake-influx-node';

function envelope(body: string, over: Partial<WriteEnvelope> = {}): Buffer {
  return encodeEnvelope({
    db: 'db1',
    rp: '',
    precision: '',
    encoding: 'identity',
    body: Buffer.from(body),
    ...over,
  });
}

describe('InfluxNodeClient', () => {
  let node: FakeInfluxNode;
  let client: InfluxNodeClient;

  beforeEach(async () => {
    node = await new FakeInfluxNode().start();
    client = new InfluxNodeClient([{ id: 'a', url: node.url }], {
      timeoutMs: 2000,
      replayLanes: 1,
    });
  });

  afterEach(async () => {
    await client.close();
    await node.stop();
  });

  it('merges consecutive entries with the same target into one POST /write, newline-joined', async () => {
    await client.send('a', [envelope('cpu v=1 1'), envelope('cpu v=2 2\n'), envelope('cpu v=3 3')]);
    expect(node.writes).toHaveLength(1);
    expect(node.writes[0].method).toBe('POST');
    expect(node.writes[0].query.get('db')).toBe('db1');
    expect(node.writes[0].text).toBe('cpu v=1 1\ncpu v=2 2\ncpu v=3 3\n');
  });

  it('starts a new request when db, rp or precision changes, keeping queue order', async () => {
    await client.send('a', [
      envelope('a v=1 1'),
      envelope('b v=1 1', { rp: 'short' }),
      envelope('c v=1 1', { rp: 'short' }),
      envelope('d v=1 1', { precision: 's', rp: 'short' }),
      envelope('e v=1 1', { db: 'db2' }),
      envelope('f v=1 1'),
    ]);
    expect(node.writes.map((w) => [w.query.toString(), w.text])).toEqual([
      ['db=db1', 'a v=1 1'],
      ['db=db1&rp=short', 'b v=1 1\nc v=1 1\n'],
      ['db=db1&rp=short&precision=s', 'd v=1 1'],
      ['db=db2', 'e v=1 1'],
      ['db=db1', 'f v=1 1'],
    ]);
  });

  it('passes a lone gzip entry through byte for byte with Content-Encoding: gzip', async () => {
    const gz = gzipSync(Buffer.from('mem v=1\nmem v=2\n'));
    await client.send('a', [envelope('', { encoding: 'gzip', body: gz })]);
    expect(node.writes).toHaveLength(1);
    expect(node.writes[0].headers['content-encoding']).toBe('gzip');
    expect(node.writes[0].raw.equals(gz)).toBe(true);
  });

  it('inflates gzip entries before merging them with others', async () => {
    const gz = gzipSync(Buffer.from('mem v=2 2'));
    await client.send('a', [
      envelope('mem v=1 1'),
      envelope('', { encoding: 'gzip', body: gz }),
      envelope('mem v=3 3'),
    ]);
    expect(node.writes).toHaveLength(1);
    expect(node.writes[0].headers['content-encoding']).toBeUndefined();
    expect(node.writes[0].text).toBe('mem v=1 1\nmem v=2 2\nmem v=3 3\n');
  });

  it('splits a merged group at maxRequestBytes without splitting an entry', async () => {
    await client.close();
    client = new InfluxNodeClient([{ id: 'a', url: node.url }], {
      timeoutMs: 2000,
      maxRequestBytes: 20,
      replayLanes: 1,
    });
    await client.send('a', [
      envelope('m v=1 1'),
      envelope('m v=2 2'),
      envelope('m v=3 3'),
      envelope('a-long-one v=4 4'),
    ]);
    expect(node.writes.map((w) => w.text)).toEqual([
      'm v=1 1\nm v=2 2\n',
      'm v=3 3\n',
      'a-long-one v=4 4\n',
    ]);
  });

  it('never merges two writes without timestamps: the node would stamp both with one time', async () => {
    // InfluxDB gives every timestamp-less point of a request the same receive time, so `m v=1`
    // and `m v=2` of two writes would become one point if they shared a request.
    const gz = gzipSync(Buffer.from('m v=3\n'));
    await client.send('a', [
      envelope('m v=1'),
      envelope('m v=2\nm v=9 1700000000000000000'),
      envelope('', { encoding: 'gzip', body: gz }),
      envelope('t v=1 1700000000000000001\n'),
      envelope('t v=2 1700000000000000002'),
    ]);
    expect(node.writes.map((w) => w.text)).toEqual([
      'm v=1',
      'm v=2\nm v=9 1700000000000000000',
      'm v=3\n',
      't v=1 1700000000000000001\nt v=2 1700000000000000002\n',
    ]);
    // A lone untimed gzip entry still goes as the client sent it.
    expect(node.writes[2].headers['content-encoding']).toBe('gzip');
  });

  it('reports each entry delivered when an untimed write is refused after merged ones', async () => {
    node.responder = (req, res) => {
      if (req.text.includes('bad')) res.writeHead(400).end('{"error":"unable to parse"}');
      else res.writeHead(204).end();
    };
    const err = await client
      .send('a', [envelope('a v=1 1'), envelope('a v=2 2'), envelope('bad'), envelope('a v=3 3')])
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PermanentWriteError);
    expect(err).toMatchObject({ delivered: 2 });
    expect(node.writes.map((w) => w.text)).toEqual(['a v=1 1\na v=2 2\n', 'bad']);
  });

  it('reports a 400 as permanent, with the node answer and the entries delivered before it', async () => {
    node.responder = (req, res) => {
      if (req.query.get('db') === 'bad') {
        res
          .writeHead(400, { 'content-type': 'application/json' })
          .end('{"error":"unable to parse"}');
      } else res.writeHead(204).end();
    };
    const err = await client
      .send('a', [
        envelope('x v=1 1'),
        envelope('x v=2 2'),
        envelope('y', { db: 'bad' }),
        envelope('z v=1 1'),
      ])
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PermanentWriteError);
    expect(err).toMatchObject({
      delivered: 2,
      status: 400,
      response: '{"error":"unable to parse"}',
    });
    expect(node.writes).toHaveLength(2);
  });

  it('treats 404 database not found as permanent (dead-letter, never block the queue)', async () => {
    node.responder = (_req, res) =>
      res.writeHead(404).end('{"error":"database not found: \\"db1\\""}');
    await expect(client.send('a', [envelope('x v=1')])).rejects.toMatchObject({
      code: 'ERR_PERMANENT_WRITE',
      status: 404,
    });
  });

  it.each([500, 503, 429, 408])(
    'treats %i as transient, with the entries delivered before it',
    async (status) => {
      node.responder = (req, res) =>
        res.writeHead(req.query.get('db') === 'db2' ? status : 204).end();
      const err = await client
        .send('a', [envelope('a v=1'), envelope('b v=1', { db: 'db2' })])
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(TransientWriteError);
      expect(err).toMatchObject({ delivered: 1, status });
    },
  );

  it('treats a refused connection as transient with nothing delivered', async () => {
    await client.close();
    client = new InfluxNodeClient([{ id: 'a', url: `http://127.0.0.1:${await closedPort()}` }], {
      timeoutMs: 2000,
    });
    const err = await client.send('a', [envelope('a v=1')]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransientWriteError);
    expect(err).toMatchObject({ delivered: 0 });
  });

  it('gives up on a node that does not answer within the timeout, as transient', async () => {
    await client.close();
    client = new InfluxNodeClient([{ id: 'a', url: node.url }], { timeoutMs: 100, replayLanes: 1 });
    node.responder = () => undefined; // never answers; stop() closes the socket
    const err = await client.send('a', [envelope('a v=1')]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransientWriteError);
    expect((err as Error).message).toMatch(/within 100 ms/);
  });

  it('delivers the entries before a bad envelope, then reports it as permanent', async () => {
    const err = await client
      .send('a', [
        envelope('a v=1 1'),
        envelope('a v=2 2'),
        Buffer.from('garbage'),
        envelope('a v=3 3'),
      ])
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PermanentWriteError);
    expect(err).toMatchObject({ delivered: 2 });
    expect(node.writes.map((w) => w.text)).toEqual(['a v=1 1\na v=2 2\n']);
  });

  it('delivers the entries before a gzip body that does not inflate, then reports it as permanent', async () => {
    const err = await client
      .send('a', [
        envelope('a v=1'),
        envelope('', { encoding: 'gzip', body: Buffer.from('not gzip') }),
        envelope('a v=3'),
      ])
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PermanentWriteError);
    expect(err).toMatchObject({ delivered: 1 });
    expect(node.writes.map((w) => w.text)).toEqual(['a v=1']);
  });

  it('sends a live write with its rp and precision, body as given', async () => {
    await client.sendLive(
      'a',
      { db: 'tele', rp: 'one_week', precision: 'ms' },
      Buffer.from('cpu v=1 1'),
      'identity',
    );
    expect(node.writes).toHaveLength(1);
    expect(node.writes[0].query.toString()).toBe('db=tele&rp=one_week&precision=ms');
    expect(node.writes[0].text).toBe('cpu v=1 1');
  });

  it('classifies live writes like replays', async () => {
    node.responder = (_req, res) => res.writeHead(400).end('{"error":"bad"}');
    await expect(
      client.sendLive('a', { db: 'd', rp: '', precision: '' }, Buffer.from('x'), 'identity'),
    ).rejects.toMatchObject({
      code: 'ERR_PERMANENT_WRITE',
      status: 400,
      response: '{"error":"bad"}',
    });
  });

  it('reuses one keep-alive connection across requests', async () => {
    await client.send('a', [envelope('a v=1')]);
    await client.send('a', [envelope('a v=2')]);
    expect(node.writes).toHaveLength(2);
    expect(node.writes[1].remotePort).toBe(node.writes[0].remotePort);
  });

  it('refuses a node id it has no URL for', async () => {
    await expect(client.send('nope', [envelope('a v=1')])).rejects.toMatchObject({
      code: 'ERR_UNKNOWN_RELAY_NODE',
    });
  });

  it('keeps a base path of the node URL', async () => {
    await client.close();
    client = new InfluxNodeClient(new Map([['a', `${node.url}/influx`]]), {
      timeoutMs: 2000,
      replayLanes: 1,
    });
    await client.send('a', [envelope('a v=1')]);
    expect(node.requests[0].path).toBe('/influx/write');
  });
});

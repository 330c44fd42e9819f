import { PermanentWriteError, TransientWriteError } from '../../src/modules/replay/errors';
import { InfluxNodeClient } from '../../src/modules/relay/influx-node-client';
import { encodeStatementEnvelope } from '../../src/modules/relay/statement-envelope';
import { encodeEnvelope } from '../../src/modules/relay/write-envelope';
import { FakeInfluxNode } from '../support/fake-influx-node';

const write = (body: string) =>
  encodeEnvelope({ db: 'd', rp: '', precision: '', encoding: 'identity', body: Buffer.from(body) });
const statement = (q: string, db = '') => encodeStatementEnvelope({ q, db, rp: '', params: '' });

describe('InfluxNodeClient replaying statements', () => {
  let node: FakeInfluxNode;
  let client: InfluxNodeClient;

  beforeEach(async () => {
    node = await new FakeInfluxNode().start();
    const url = new URL(node.url);
    url.username = 'relay';
    url.password = 'node-secret';
    client = new InfluxNodeClient([{ id: 'a', url: url.href }], {
      timeoutMs: 2000,
      replayLanes: 1,
    });
  });

  afterEach(async () => {
    await client.close();
    await node.stop();
  });

  it('applies a statement as a barrier between write runs, in queue order, with the node credentials', async () => {
    node.responder = (req, res) => {
      if (req.path === '/query') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"results":[{"statement_id":0}]}');
      } else res.writeHead(204).end();
    };
    await client.send('a', [
      write('m v=1 1'),
      statement('CREATE DATABASE d'),
      write('m v=2 2'),
      write('m v=3 3'),
      statement('DROP MEASUREMENT m', 'd'),
    ]);
    expect(node.requests.map((r) => [r.path, r.path === '/query' ? r.text : r.text])).toEqual([
      ['/write', 'm v=1 1'],
      ['/query', 'q=CREATE+DATABASE+d'],
      ['/write', 'm v=2 2\nm v=3 3\n'],
      ['/query', 'q=DROP+MEASUREMENT+m&db=d'],
    ]);
    const basic = `Basic ${Buffer.from('relay:node-secret').toString('base64')}`;
    expect(node.requests.every((r) => r.headers.authorization === basic)).toBe(true);
  });

  it('refuses a statement the node reports an error for (dead letter), after the writes before it', async () => {
    node.responder = (req, res) => {
      if (req.path === '/query') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"results":[{"statement_id":0,"error":"database not found: x"}]}');
      } else res.writeHead(204).end();
    };
    const err = await client
      .send('a', [write('m v=1 1'), statement('DROP MEASUREMENT m', 'x'), write('m v=2 2')])
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PermanentWriteError);
    expect((err as PermanentWriteError).delivered).toBe(1);
    expect((err as Error).message).toMatch(/refused statement "DROP MEASUREMENT m".*not found/);
  });

  it('keeps a statement the node answers 5xx to (transient)', async () => {
    node.responder = (_req, res) => res.writeHead(503).end('busy');
    const err = await client.send('a', [statement('CREATE DATABASE d')]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransientWriteError);
  });
});

import { FakeInfluxNode, type RecordedRequest } from '../support/fake-influx-node';
import { startRelay, type RunningRelay } from '../support/relay-app';
import { runProgram } from './support/cluster';

/**
 * Whose credentials a node sees for a real client's query. The node is a recording HTTP server
 * (the assertion is on the request headers it receives); the relay's node URL carries the
 * relay's own user, which an unauthenticated client must never borrow.
 */
describe('client credentials through the relay, with real clients', () => {
  let node: FakeInfluxNode;
  let relay: RunningRelay;
  const relayUser = `Basic ${Buffer.from('relayuser:relaypass').toString('base64')}`;

  beforeAll(async () => {
    node = await new FakeInfluxNode().start();
    node.responder = (req, res) => {
      if (req.path === '/ping') {
        res.writeHead(204, { 'X-Influxdb-Version': '1.6.7' }).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json', 'X-Influxdb-Version': '1.6.7' });
      res.end(
        '{"results":[{"statement_id":0,"series":[{"name":"databases","columns":["name"],"values":[["x"]]}]}]}',
      );
    };
    const url = new URL(node.url);
    url.username = 'relayuser';
    url.password = 'relaypass';
    relay = await startRelay([{ id: 'a', url: url.href }]);
  });

  afterAll(async () => {
    await relay.close();
    await node.stop();
  });

  const port = () => new URL(relay.url).port;
  const cli = async (...args: string[]) => {
    const res = await runProgram('/usr/bin/influx', [
      '-host',
      '127.0.0.1',
      '-port',
      port(),
      ...args,
    ]);
    expect(res.stdout + res.stderr).not.toMatch(/ERR:/);
    return res;
  };
  /** The user a node request authenticates as: from Basic auth or from u/p, else none. */
  const userOf = (req: RecordedRequest): string | undefined => {
    const header = req.headers.authorization;
    if (header?.startsWith('Basic ')) {
      return Buffer.from(header.slice(6), 'base64').toString('utf8');
    }
    const u = req.query.get('u');
    return u === null ? undefined : `${u}:${req.query.get('p') ?? ''}`;
  };
  const lastQuery = () => node.queries[node.queries.length - 1];

  it('an anonymous influx CLI reaches the node anonymously, reading and dropping', async () => {
    await cli('-execute', 'SHOW DATABASES');
    expect(lastQuery().query.get('q') ?? lastQuery().text).toMatch(/SHOW DATABASES/);
    expect(userOf(lastQuery())).toBeUndefined();
    await cli('-execute', 'DROP DATABASE x');
    expect(userOf(lastQuery())).toBeUndefined();
    expect(node.queries.every((q) => q.headers.authorization !== relayUser)).toBe(true);
  });

  it("the influx CLI's own user is forwarded, never the relay's", async () => {
    await cli('-username', 'bob', '-password', 'bobpw', '-execute', 'DROP DATABASE x');
    expect(userOf(lastQuery())).toBe('bob:bobpw');
  });

  it("python-influxdb's own user is forwarded (and an anonymous one stays anonymous)", async () => {
    const script = `
from influxdb import InfluxDBClient
InfluxDBClient(host="127.0.0.1", port=${port()}, username="carol", password="cpw").query("SHOW DATABASES")
InfluxDBClient(host="127.0.0.1", port=${port()}, username=None, password=None).query("SHOW DATABASES")
`;
    const res = await runProgram('/usr/bin/python3', ['-c', script]);
    expect(res.stderr).toBe('');
    const [own, anonymous] = node.queries.slice(-2);
    expect(userOf(own)).toBe('carol:cpw');
    expect(userOf(anonymous)).toBeUndefined();
  });
});

import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import request from 'supertest';
import { startInfluxd, type InfluxNode } from '../support/influxd';
import {
  ensureBuilt,
  runRelayToExit,
  spawnRelay,
  type RelayProcess,
} from '../support/relay-process';

/** `count` points of measurement `m` with v = first..first+count-1 and distinct timestamps. */
function batch(first: number, count: number): string {
  const lines: string[] = [];
  for (let v = first; v < first + count; v += 1)
    lines.push(`m,src=e2e v=${v}i ${1_600_000_000_000 + v}`);
  return lines.join('\n');
}

/** Sum of first..first+count-1. */
const sumOf = (first: number, count: number) => (count * (2 * first + count - 1)) / 2;

/** Polls `check` until it holds or the deadline passes; the caller then asserts the state. */
async function until(check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check().catch(() => false)) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function backlogEntries(relay: RelayProcess, node: string): Promise<number> {
  const res = await request(relay.url).get(`/hh/nodes/${node}`).expect(200);
  return res.body.backlog.entries as number;
}

describe('the relay against real influxd nodes', () => {
  let a: InfluxNode;
  let b: InfluxNode;
  let dataDir: string;
  let relay: RelayProcess | undefined;

  beforeAll(async () => {
    [a, b] = await Promise.all([startInfluxd(), startInfluxd(), ensureBuilt()]).then(([x, y]) => [
      x,
      y,
    ]);
  }, 120_000);

  afterAll(async () => {
    await Promise.all([a?.cleanup(), b?.cleanup()]);
  });

  beforeEach(async () => {
    dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'hh-e2e-'));
    if (!b.running) await b.start();
    if (!a.running) await a.start();
  });

  afterEach(async () => {
    await relay?.kill();
    relay = undefined;
    await fs.rm(dataDir, { recursive: true, force: true });
  });

  const relayEnv = (extra: Record<string, string> = {}) => ({
    HH_NODES: `a=${a.url},b=${b.url}`,
    HH_DATA_DIR: path.join(dataDir, 'hh'),
    HH_RETRY_INTERVAL: '20ms',
    HH_RETRY_MAX_INTERVAL: '200ms',
    HH_WRITE_TIMEOUT: '5s',
    ...extra,
  });

  const write = (db: string, body: string, query = '') =>
    request(relay!.url)
      .post(`/write?db=${db}${query}`)
      .set('content-type', 'text/plain')
      .send(body);

  async function createDb(db: string): Promise<void> {
    await Promise.all([a.createDatabase(db), b.createDatabase(db)]);
  }

  it('puts every point written through the relay on both nodes', async () => {
    await createDb('both');
    relay = await spawnRelay(relayEnv());
    for (let i = 0; i < 10; i += 1) await write('both', batch(i * 500, 500)).expect(204);
    for (const node of [a, b]) {
      expect(await node.count('both', 'm', 'v')).toBe(5000);
      expect(await node.sum('both', 'm', 'v')).toBe(sumOf(0, 5000));
    }
  });

  it('keeps answering 204 with a node stopped, survives a SIGKILL, and replays every point once', async () => {
    await createDb('outage');
    relay = await spawnRelay(relayEnv());
    await write('outage', batch(0, 1000)).expect(204);
    await b.stop(); // SIGTERM: the node goes away cleanly
    for (let i = 1; i < 5; i += 1) await write('outage', batch(i * 1000, 1000)).expect(204);
    expect(await backlogEntries(relay, 'b')).toBe(4);

    await relay.kill(); // crash with the hand-offs on disk
    relay = await spawnRelay(relayEnv());
    expect(await backlogEntries(relay, 'b')).toBe(4);
    for (let i = 5; i < 8; i += 1) await write('outage', batch(i * 1000, 1000)).expect(204);

    await b.start();
    await until(async () => (await backlogEntries(relay!, 'b')) === 0);
    for (const node of [a, b]) {
      expect(await node.count('outage', 'm', 'v')).toBe(8000);
      expect(await node.sum('outage', 'm', 'v')).toBe(sumOf(0, 8000));
    }
  });

  it('answers consistency=all with a node down with an error, and still hands the write off', async () => {
    await createDb('strict');
    relay = await spawnRelay(relayEnv());
    await b.stop();
    const res = await write('strict', batch(0, 100), '&consistency=all').expect(500);
    expect(res.body.error).toMatch(/^partial write/);
    expect(await a.count('strict', 'm', 'v')).toBe(100);
    await b.start();
    await until(async () => (await backlogEntries(relay!, 'b')) === 0);
    expect(await b.count('strict', 'm', 'v')).toBe(100);
  });

  it('answers 400 with the node error to bad line protocol, and queues nothing', async () => {
    await createDb('bad');
    relay = await spawnRelay(relayEnv());
    const res = await write('bad', 'this is not line protocol').expect(400);
    expect(res.body.error).toMatch(/unable to parse/);
    expect(await backlogEntries(relay, 'a')).toBe(0);
    expect(await backlogEntries(relay, 'b')).toBe(0);
  });

  it('answers 503 when a queue is full, and what was already queued still replays', async () => {
    await createDb('full');
    relay = await spawnRelay(relayEnv({ HH_MAX_SIZE: '256KiB', HH_MAX_SEGMENT_SIZE: '64KiB' }));
    await b.stop();
    let accepted = 0;
    let next = 0;
    let status = 204;
    while (status === 204 && next < 100_000) {
      status = (await write('full', batch(next, 500))).status;
      if (status === 204) accepted += 500;
      next += 500;
    }
    expect(status).toBe(503);
    expect(accepted).toBeGreaterThan(0);
    await b.start();
    await until(async () => (await backlogEntries(relay!, 'b')) === 0);
    expect(await b.count('full', 'm', 'v')).toBe(accepted);
    expect(await b.sum('full', 'm', 'v')).toBe(sumOf(0, accepted));
    // The node that was up took every batch live, the refused one included.
    expect(await a.count('full', 'm', 'v')).toBe(next);
  });

  it('answers 401 to a wrong token and 413 over the body limit', async () => {
    await createDb('guarded');
    relay = await spawnRelay(relayEnv({ HH_AUTH_TOKEN: 'e2e-token', HH_MAX_BODY_SIZE: '10KB' }));
    await write('guarded', batch(0, 10)).set('authorization', 'Bearer wrong').expect(401);
    await write('guarded', batch(0, 10)).set('authorization', 'Bearer e2e-token').expect(204);
    const big = await write('guarded', batch(0, 1000))
      .set('authorization', 'Bearer e2e-token')
      .expect(413);
    expect(big.body.error).toMatch(/too large/);
    expect(await a.count('guarded', 'm', 'v')).toBe(10);
  });

  it('works for the query path: /ping, and /query through to a node', async () => {
    relay = await spawnRelay(relayEnv());
    // The version the nodes report (their /ping), as InfluxDB's own /ping?verbose answers it.
    const verbose = await request(relay.url).get('/ping?verbose=true').expect(200);
    expect(verbose.body.version).toMatch(/^1\.\d+\.\d+/);
    await request(relay.url)
      .get('/ping')
      .expect(204)
      .expect('x-influxdb-version', verbose.body.version);
    await request(relay.url)
      .post('/query')
      .type('form')
      .send({ q: 'CREATE DATABASE viaquery' })
      .expect(200);
    const res = await request(relay.url).get('/query?q=SHOW+DATABASES').expect(200);
    expect(JSON.stringify(res.body)).toContain('viaquery');
    // A schema statement reaches every node, not only the one a read would go to.
    for (const node of [a, b]) {
      expect(JSON.stringify(await node.query('SHOW DATABASES'))).toContain('viaquery');
    }
  });

  it('exits 0 on SIGTERM after closing its queues', async () => {
    relay = await spawnRelay(relayEnv());
    expect(await relay.stop()).toBe(0);
    expect(relay.stdout()).toContain('"msg":"shut down cleanly"');
    relay = undefined;
  });

  it('refuses a bad configuration: exit 1, one message naming every bad variable, nothing on disk', async () => {
    const target = path.join(dataDir, 'never');
    const { code, stderr } = await runRelayToExit({
      HH_DATA_DIR: target,
      HH_PORT: 'ninety',
      HH_FSYNC: 'sometimes',
      HH_MAX_SIZE: '-1GiB',
      HH_WRITE_CONSISTENCY: 'most',
    });
    expect(code).toBe(1);
    for (const name of ['HH_PORT', 'HH_FSYNC', 'HH_MAX_SIZE', 'HH_WRITE_CONSISTENCY']) {
      expect(stderr).toContain(name);
    }
    await expect(fs.access(target)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it.each(['a/b', '..', 'x y', 'ü'])(
    'rejects node id %j at start-up and creates nothing',
    async (id) => {
      const target = path.join(dataDir, 'never');
      const { code, stderr } = await runRelayToExit({
        HH_DATA_DIR: target,
        HH_NODES: `${id}=http://127.0.0.1:9`,
      });
      expect(code).toBe(1);
      expect(stderr).toContain('HH_NODES');
      await expect(fs.access(target)).rejects.toMatchObject({ code: 'ENOENT' });
    },
  );
});

/**
 * `npm start`'s relay (dist/main.js) started with HH_STORE=jetstream while no NATS server runs
 * (a reboot during a NATS maintenance, no supervisor to restart it): it starts and listens,
 * writes every node takes live answer 204, writes that need a hand-off answer 503, /health says
 * NATS is down while /health/ready and /health/live stay 200 — and once a nats-server answers on
 * that port, without a restart, it opens the node streams, takes the leases, takes hand-offs
 * (204) and replays them to the node, in order. Real influxd nodes, a real nats-server.
 */
import * as path from 'node:path';
import { closedPort } from '../support/fake-influx-node';
import { startInfluxd, type InfluxNode } from '../support/influxd';
import {
  checkNode,
  DB,
  exchange,
  expectEveryAckedInOrder,
  nodeOf,
  nodesOf,
  PointStream,
} from '../support/jetstream-relays';
import { startNatsServer, type NatsServer } from '../support/nats-server';
import { ensureBuilt, spawnRelay, type RelayProcess } from '../support/relay-process';
import { makeTempDir, removeDir } from '../support/temp-dir';
import { until } from '../support/until';

jest.setTimeout(240_000);

interface HealthBody {
  status: string;
  info?: Record<string, { status: string }>;
  error?: Record<string, { status: string; state?: string }>;
}

describe('a relay started while NATS is down', () => {
  let dataDir: string;
  let a: InfluxNode;
  let b: InfluxNode;
  let nats: NatsServer | undefined;
  let relay: RelayProcess | undefined;

  beforeAll(async () => {
    await ensureBuilt();
    dataDir = await makeTempDir();
    [a, b] = await Promise.all([startInfluxd(), startInfluxd()]);
    await Promise.all([a.createDatabase(DB), b.createDatabase(DB)]);
  });
  afterAll(async () => {
    await relay?.kill();
    await nats?.kill();
    await Promise.all([a?.cleanup(), b?.cleanup()]);
    await removeDir(dataDir);
  });

  it('serves live writes, refuses hand-offs with 503, and heals by itself once NATS answers', async () => {
    const natsPort = await closedPort();
    await b.stop();
    relay = await spawnRelay({
      HH_NODES: `a=${a.url},b=${b.url}`,
      HH_DATA_DIR: path.join(dataDir, 'relay'),
      HH_STORE: 'jetstream',
      HH_NATS_URL: `nats://127.0.0.1:${natsPort}`,
      HH_RELAY_ID: 'relay-1',
      HH_MAX_SIZE: '16MiB',
      HH_LEASE_TTL: '2s',
      HH_RETRY_INTERVAL: '20ms',
      HH_RETRY_MAX_INTERVAL: '250ms',
      HH_WRITE_TIMEOUT: '5s',
      HH_REPLAY_BATCH_BYTES: '2KiB',
    });
    const url = relay.url;
    const health = async (route = '') => {
      const res = await exchange(`${url}/health${route}`);
      return { status: res.status, body: JSON.parse(res.text) as HealthBody };
    };

    // Up and listening with NATS unreachable: live, ready, and /health names NATS as down.
    expect((await health('/live')).status).toBe(200);
    expect((await health('/ready')).status).toBe(200);
    const down = await health();
    expect(down.status).toBe(503);
    expect(down.body.error?.nats).toMatchObject({ status: 'down', state: 'reconnecting' });
    expect((await nodesOf(relay)).store).toMatchObject({ kind: 'jetstream', nats: 'reconnecting' });
    expect((await exchange(`${url}/metrics`)).text).toMatch(/^hh_nats_connected 0$/m);

    // b is down: its copy needs a hand-off, which cannot be stored yet.
    const refused = await exchange(`${url}/write?db=${DB}`, 'POST', PointStream.body('probe', 0));
    expect(refused.status).toBe(503);
    expect(JSON.parse(refused.text)).toEqual({
      error: expect.stringMatching(
        /^hinted handoff failed: node b: ERR_NATS_UNAVAILABLE: NATS JetStream is unavailable \(append on HH_b: not connected to any server\)$/,
      ),
    });

    // Both nodes answer and no backlog is known: nothing needs NATS, every write answers 204.
    await b.start();
    const stream = new PointStream(1, () => url, { paceMs: 10 });
    stream.start();
    expect(await until(async () => stream.ackedCount >= 20)).toBe(true);
    await stream.stop();
    expect(stream.unexpected([])).toEqual({});

    // b down again, and NATS still down: its hand-offs answer 503 ...
    await b.stop();
    stream.start();
    expect(await until(async () => stream.refusedWith(503) >= 5)).toBe(true);
    const ackedWithoutNats = stream.ackedCount;
    // ... until a nats-server answers on that port: then the relay opens b's stream and takes
    // the hand-offs (204) — no restart.
    nats = await startNatsServer({ port: natsPort });
    expect(await until(async () => stream.ackedCount >= ackedWithoutNats + 30, 120_000)).toBe(true);
    await stream.stop();
    expect(stream.unexpected([503])).toEqual({});
    expect((await nodesOf(relay)).store).toMatchObject({ kind: 'jetstream', nats: 'connected' });
    expect(await until(async () => (await nodeOf(relay!, 'b')).lease?.held === true)).toBe(true);
    expect((await nodeOf(relay, 'b')).backlog.entries).toBeGreaterThan(0);

    // b back: it gets every acknowledged write, in order, and the relay is healthy.
    await b.start();
    expect(
      await until(async () => (await checkNode(b, stream)).every((s) => s.missing.length === 0)),
    ).toBe(true);
    expectEveryAckedInOrder(await checkNode(b, stream), stream);
    expectEveryAckedInOrder(await checkNode(a, stream), stream);
    expect(await until(async () => (await nodeOf(relay!, 'b')).backlog.entries === 0)).toBe(true);
    expect(await until(async () => (await health()).status === 200)).toBe(true);
    expect((await health()).body.info?.nats).toMatchObject({ status: 'up', state: 'connected' });
    expect((await exchange(`${url}/metrics`)).text).toMatch(/^hh_nats_connected 1$/m);

    expect(await relay.stop()).toBe(0);
    relay = undefined;
  });

  it('logs the outage without the password of the URL, and shuts down cleanly (exit 0) when NATS never answered', async () => {
    const natsPort = await closedPort();
    const idle = await spawnRelay({
      HH_NODES: `a=${a.url}`,
      HH_DATA_DIR: path.join(dataDir, 'idle'),
      HH_STORE: 'jetstream',
      HH_NATS_URL: `nats://hh:pw-not-logged@127.0.0.1:${natsPort}`,
      HH_MAX_SIZE: '16MiB',
      HH_SHUTDOWN_TIMEOUT: '5s',
    });
    expect((await nodesOf(idle)).store).toMatchObject({ nats: 'reconnecting' });
    const started = Date.now();
    expect(await idle.stop()).toBe(0);
    expect(Date.now() - started).toBeLessThan(30_000);
    const out = idle.stdout() + idle.stderr();
    expect(out).toContain(`starting without NATS: hand-offs answer 503 until it answers`);
    expect(out).toContain(`nats://127.0.0.1:${natsPort}`);
    expect(out).not.toContain('pw-not-logged');
  });
});

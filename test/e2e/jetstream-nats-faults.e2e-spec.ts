/**
 * The built relay (`node dist/main.js`, HH_STORE=jetstream, replicas 3) on a real 3-server NATS
 * cluster through real NATS faults, with two real influxd nodes:
 *   - the server leading b's stream, then the server the relay is connected to, SIGKILLed
 *     during a stream of hand-offs: no acknowledged write is lost, the only refusals are 503s;
 *   - the whole cluster stopped and started: hand-offs answer 503 while it is down, writes that
 *     need none answer 204, and the same relay process takes hand-offs again once it is back.
 */
import type { InfluxNode } from '../support/influxd';
import {
  checkNode,
  DB,
  exchange,
  expectEveryAckedInOrder,
  jetstreamRelayEnv,
  nodeOf,
  nodesOf,
  PointStream,
  serverOfRelay,
  streamLeader,
  useFleet,
} from '../support/jetstream-relays';
import type { NatsCluster, NatsServer } from '../support/nats-server';
import { spawnRelay, type RelayProcess } from '../support/relay-process';
import { until } from '../support/until';

jest.setTimeout(240_000);

/** The relay says its NATS link is down (`/hh/nodes` store state). */
const natsLost = (relay: RelayProcess) => async () =>
  ['reconnecting', 'closed'].includes((await nodesOf(relay)).store?.nats ?? 'absent');

describe('one relay on a 3-server NATS cluster (R3) through NATS faults', () => {
  let cluster: NatsCluster;
  let a: InfluxNode;
  let b: InfluxNode;
  let work: string;
  const relays: RelayProcess[] = [];

  useFleet('hh-js-faults-', relays, (f) => ({ cluster, a, b, work } = f));

  const startRelay = async (id: string) => {
    const relay = await spawnRelay(jetstreamRelayEnv(cluster, id, work, { a, b }));
    relays.push(relay);
    return relay;
  };

  /**
   * Starts b and waits until `relay` has replayed all of b's backlog (and of a's: a live write
   * to a that timed out under load was handed off to a).
   */
  const catchUp = async (relay: RelayProcess) => {
    await b.start();
    const drained = async () =>
      (await nodeOf(relay, 'b')).backlog.entries === 0 &&
      (await nodeOf(relay, 'a')).backlog.entries === 0;
    expect(await until(drained, 120_000)).toBe(true);
  };

  it('loses no acknowledged hand-off when the server leading b’s stream, then the server the relay is on, are SIGKILLed mid-stream', async () => {
    const relay = await startRelay('relay-kill');
    await b.stop();
    const stream = new PointStream(4, () => relay.url, { prefix: 'kill' });
    const killed: string[] = [];
    /** SIGKILLs `server` while hand-offs stream, waits for 150 more acknowledged, restarts it. */
    const killDuringStream = async (server: NatsServer, what: string) => {
      await server.kill();
      killed.push(`${server.name} (${what}) after ${stream.ackedCount}`);
      const atKill = stream.ackedCount;
      // Hand-offs go on with two of three servers (a new leader is elected, the client
      // reconnects to another server).
      expect(await until(async () => stream.ackedCount >= atKill + 150, 90_000)).toBe(true);
      await server.start();
    };
    stream.start();
    try {
      expect(await until(async () => stream.ackedCount >= 150, 60_000)).toBe(true);
      await killDuringStream(await streamLeader(cluster, 'b'), "b's stream leader");
      await killDuringStream(await serverOfRelay(cluster, 'relay-kill'), "the relay's server");
    } finally {
      await stream.stop();
    }
    expect(stream.unexpected([503])).toEqual({});
    console.log(
      `killed ${killed.join(', then ')} acknowledged writes; ${stream.ackedCount} acknowledged ` +
        `in all, ${stream.refusedWith(503)} answered 503`,
    );
    await catchUp(relay);
    expectEveryAckedInOrder(await checkNode(b, stream), stream);
    expectEveryAckedInOrder(await checkNode(a, stream), stream);
    // A clean stop releases b's lease, for the next test's relay.
    expect(await relay.stop()).toBe(0);
  });

  it('answers 503 to hand-offs while the whole cluster is down, 204 to writes that need none, and recovers without a restart', async () => {
    const relay = await startRelay('relay-outage');
    await b.stop();
    const stream = new PointStream(2, () => relay.url, { prefix: 'outage' });
    const write = (i: number) =>
      exchange(`${relay.url}/write?db=${DB}`, 'POST', PointStream.body('outage-single', i));

    // Hand-offs stored in b's stream before the outage.
    stream.start();
    expect(await until(async () => stream.ackedCount >= 40, 60_000)).toBe(true);
    await stream.stop();

    const ackedBeforeOutage = stream.ackedCount;
    await cluster.stopAll();
    expect(await until(natsLost(relay), 30_000)).toBe(true);
    // b is down: every write needs a hand-off, and none can be stored.
    const refused = await write(0);
    expect(refused.status).toBe(503);
    expect(JSON.parse(refused.text)).toEqual({
      error: expect.stringMatching(/^hinted handoff failed: node b: /),
    });
    stream.start();
    await new Promise((r) => setTimeout(r, 2_000));
    await stream.stop();
    expect(stream.refusedWith(503)).toBeGreaterThan(0);
    expect(stream.ackedCount).toBe(ackedBeforeOutage);
    const ackedWhileDown = stream.ackedCount;

    // The same relay process, no restart: hand-offs are taken again once the cluster is back.
    await cluster.startAll();
    stream.start();
    expect(await until(async () => stream.ackedCount >= ackedWhileDown + 40, 120_000)).toBe(true);
    await stream.stop();
    expect((await nodesOf(relay)).store).toMatchObject({ kind: 'jetstream', nats: 'connected' });
    expect(stream.unexpected([503])).toEqual({});

    // b gets every write acknowledged before, during and after the outage, in order.
    await catchUp(relay);
    expectEveryAckedInOrder(await checkNode(b, stream), stream);

    // Both nodes up, nothing queued: with the cluster down again, writes need no hand-off and
    // are taken live by both nodes.
    await cluster.stopAll();
    expect(await until(natsLost(relay), 30_000)).toBe(true);
    const live = await write(1);
    expect(live.status).toBe(204);
    for (const node of [a, b]) {
      const [result] = await node.query(`SELECT v FROM "each" WHERE w = 'outage-single'`, DB);
      expect(result?.series?.[0]?.values?.map((row) => row[1])).toContain(1);
    }
    console.log(
      `whole-cluster outage: ${stream.refusedWith(503)} hand-offs answered 503 while down, ` +
        `${stream.ackedCount} acknowledged in all, all on b after the catch-up`,
    );
    await relay.kill();
  });
});

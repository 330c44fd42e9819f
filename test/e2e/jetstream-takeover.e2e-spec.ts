/**
 * Two relays (the built `node dist/main.js`, HH_STORE=jetstream) on one real 3-server NATS
 * cluster with replicas 3, two real influxd nodes, node b down. Writes stream through relay 1,
 * which holds b's replay lease; relay 1 is SIGKILLed mid-stream. Relay 2 must take the lease
 * within the lease's bound, take further writes behind relay 1's hints, and — once b is back —
 * replay them all to b, in order.
 */
import type { InfluxNode } from '../support/influxd';
import {
  checkNode,
  expectEveryAckedInOrder,
  jetstreamRelayEnv,
  nodeOf,
  PointStream,
  useFleet,
} from '../support/jetstream-relays';
import type { NatsCluster } from '../support/nats-server';
import { spawnRelay, type RelayProcess } from '../support/relay-process';
import { until } from '../support/until';

jest.setTimeout(240_000);

const LEASE_TTL_MS = 2_000;
/** The lease's takeover bound (TTL + the check interval, TTL/2) plus slack for a loaded machine. */
const TAKEOVER_BOUND_MS = LEASE_TTL_MS * 1.5 + 3_000;

describe('two relays on a 3-server NATS cluster (R3), node b down, the lease holder SIGKILLed', () => {
  let cluster: NatsCluster;
  let a: InfluxNode;
  let b: InfluxNode;
  let work: string;
  const relays: RelayProcess[] = [];

  useFleet('hh-js-takeover-', relays, (f) => ({ cluster, a, b, work } = f));

  it('relay 2 takes the lease within TTL + check interval, and b ends with every acknowledged point, in order', async () => {
    await b.stop();
    const env = (id: string) =>
      jetstreamRelayEnv(cluster, id, work, { a, b }, { HH_LEASE_TTL: `${LEASE_TTL_MS}ms` });
    const relay1 = await spawnRelay(env('relay-1'));
    relays.push(relay1);
    expect(await until(async () => (await nodeOf(relay1, 'b')).lease?.held === true, 30_000)).toBe(
      true,
    );
    const relay2 = await spawnRelay(env('relay-2'));
    relays.push(relay2);
    const seesRelay1 = async () => (await nodeOf(relay2, 'b')).lease?.holder === 'relay-1';
    expect(await until(seesRelay1, 15_000)).toBe(true);
    expect((await nodeOf(relay2, 'b')).lease).toEqual({ holder: 'relay-1', held: false });

    // Writes through relay 1 (b's copies handed off into b's stream), then relay 1 is
    // SIGKILLed while they go on.
    const stream = new PointStream(4, () => relay1.url);
    stream.start();
    expect(await until(async () => stream.ackedCount >= 200, 60_000)).toBe(true);
    await relay1.kill();
    const killedAt = Date.now();
    await stream.stop();
    // Relay 2 sees relay 1's hints in the shared stream (its view refreshes every second).
    expect(await until(async () => (await nodeOf(relay2, 'b')).backlog.entries > 0, 15_000)).toBe(
      true,
    );

    expect(await until(async () => (await nodeOf(relay2, 'b')).lease?.held === true, 30_000)).toBe(
      true,
    );
    const takeoverMs = Date.now() - killedAt;
    expect(takeoverMs).toBeLessThan(TAKEOVER_BOUND_MS);
    expect((await nodeOf(relay2, 'b')).lease).toEqual({ holder: 'relay-2', held: true });

    // More writes, now through relay 2: they queue behind relay 1's hints in the same stream.
    const before = stream.ackedCount;
    stream.start(() => relay2.url);
    expect(await until(async () => stream.ackedCount >= before + 100, 60_000)).toBe(true);
    await stream.stop();

    await b.start();
    // a's queue too: a live write to a that timed out under load was handed off to a.
    const drained = async () =>
      (await nodeOf(relay2, 'b')).backlog.entries === 0 &&
      (await nodeOf(relay2, 'a')).backlog.entries === 0;
    expect(await until(drained, 120_000)).toBe(true);
    const onB = await checkNode(b, stream);
    expectEveryAckedInOrder(onB, stream);
    // a took every write live: what it holds is the same picture.
    expectEveryAckedInOrder(await checkNode(a, stream), stream);
    // Only the requests cut off by the kill may have failed: no 5xx from a live relay.
    expect(stream.unexpected([0])).toEqual({});
    console.log(
      `takeover in ${takeoverMs} ms (bound ${TAKEOVER_BOUND_MS}); ${stream.ackedCount} writes ` +
        `acknowledged, ${stream.refusedWith(0)} cut off by the kill; b's last values ` +
        onB.map((s) => `${s.series}=${s.last} (last acked ${s.lastAcked})`).join(', '),
    );
  });
});

/**
 * The relay app with HH_STORE=jetstream on a real nats-server: hand-offs for a down node go to
 * its stream and reach it, in order, once it answers; while NATS is down a write that needs a
 * hand-off answers 503 in InfluxDB's shape, a write every node takes live answers 204, and the
 * relay works again once NATS is back, without a restart. The nodes are fake InfluxDB nodes
 * (unit level); the multi-relay and cluster fault tests run real relay processes elsewhere.
 */
import { JetStreamQueue, NatsLink, NodeLease, openLeaseBucket } from '../../src/modules/jetstream';
import { closedPort, FakeInfluxNode, type Responder } from '../support/fake-influx-node';
import { startNatsServer, type NatsServer } from '../support/nats-server';
import { startRelay, type RunningRelay } from '../support/relay-app';
import { until } from '../support/until';

jest.setTimeout(120_000);

const down: Responder = (_req, res) => {
  res.writeHead(503, { 'content-type': 'application/json' }).end('{"error":"down"}');
};
/** The values `v=<n>i` of the lines of a write body. */
function values(text: string): number[] {
  return text
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => Number(/ v=(\d+)i/.exec(l)![1]));
}

/** Takes every write (204), recording the values it took into `into`, in order. */
function up(into: number[]): Responder {
  return (req, res) => {
    if (req.path === '/write') into.push(...values(req.text));
    res.writeHead(204, { 'X-Influxdb-Version': '1.6.7-fake' }).end();
  };
}

interface NodesBody {
  store: { kind: string; nats?: string; server?: string };
  nodes: {
    id: string;
    backlog: { entries: number };
    lease?: { holder: string | null; held: boolean };
  }[];
}

describe('the relay with HH_STORE=jetstream on a real nats-server', () => {
  let nats: NatsServer;
  let a: FakeInfluxNode;
  let b: FakeInfluxNode;
  let relay: RunningRelay;
  /** What each node took (answered 204 to), in order. */
  const tookA: number[] = [];
  const tookB: number[] = [];

  const write = (v: number) =>
    fetch(`${relay.url}/write?db=test`, {
      method: 'POST',
      body: `m,src=t v=${v}i ${1_600_000_000_000 + v}`,
    });
  const nodes = async (): Promise<NodesBody> =>
    (await (await fetch(`${relay.url}/hh/nodes`)).json()) as NodesBody;
  const nodeB = async () => (await nodes()).nodes.find((n) => n.id === 'b')!;

  beforeAll(async () => {
    nats = await startNatsServer();
    a = await new FakeInfluxNode().start();
    b = await new FakeInfluxNode().start();
    a.responder = up(tookA);
    b.responder = up(tookB);
    relay = await startRelay(
      [
        { id: 'a', url: a.url },
        { id: 'b', url: b.url },
      ],
      {
        store: 'jetstream',
        natsUrl: nats.url,
        relayId: 'relay-1',
        leaseTtlMs: 2000,
        retryIntervalMs: 100,
        retryMaxIntervalMs: 500,
        maxSize: 64 * 1024 * 1024,
      },
    );
  });

  afterAll(async () => {
    await relay?.close();
    await a?.stop();
    await b?.stop();
    await nats?.kill();
  });

  it('shows the store, the NATS connection and who holds each lease', async () => {
    expect(await until(async () => (await nodeB()).lease?.held === true)).toBe(true);
    const body = await nodes();
    expect(body.store).toEqual({
      kind: 'jetstream',
      nats: 'connected',
      server: expect.any(String),
    });
    for (const node of body.nodes) expect(node.lease).toEqual({ holder: 'relay-1', held: true });
    const metrics = await (await fetch(`${relay.url}/metrics`)).text();
    expect(metrics).toMatch(/^hh_nats_connected 1$/m);
    expect(metrics).toMatch(/^hh_replay_lease_held\{node="b"\} 1$/m);
    const health = await fetch(`${relay.url}/health`);
    expect(health.status).toBe(200);
    expect(((await health.json()) as { details: Record<string, unknown> }).details.nats).toEqual({
      status: 'up',
      state: 'connected',
      server: expect.any(String),
      servers: [nats.url],
    });
  });

  it('hands writes for a down node off to its stream, and replays them in order once it answers', async () => {
    b.responder = down;
    for (let v = 0; v < 30; v++) expect((await write(v)).status).toBe(204);
    expect(tookA).toEqual(Array.from({ length: 30 }, (_, v) => v));
    expect(await until(async () => (await nodeB()).backlog.entries > 0)).toBe(true);
    b.responder = up(tookB);
    expect(await until(async () => tookB.length >= 30)).toBe(true);
    expect(await until(async () => (await nodeB()).backlog.entries === 0)).toBe(true);
    // Every acknowledged point, in the order written (a batch sent twice would repeat a run).
    expect(tookB).toEqual(Array.from({ length: 30 }, (_, v) => v));
  });

  it('answers 503 for hand-offs while NATS is down, 204 for writes every node takes, and heals when NATS returns', async () => {
    const before = tookB.length;
    await nats.kill();
    expect(await until(async () => (await nodes()).store.nats !== 'connected')).toBe(true);

    // Both nodes answer: nothing needs NATS.
    const live = await write(100);
    expect(live.status).toBe(204);
    expect(tookB.slice(before)).toEqual([100]);

    // b is down: its copy needs a hand-off, which cannot be stored.
    b.responder = down;
    const refused = await write(101);
    expect(refused.status).toBe(503);
    expect(refused.headers.get('content-type')).toMatch(/application\/json/);
    const error = ((await refused.json()) as { error: string }).error;
    expect(error).toMatch(/hinted handoff failed: node b: ERR_NATS_UNAVAILABLE/);
    expect(tookA).toContain(101);

    const health = await fetch(`${relay.url}/health`);
    expect(health.status).toBe(503);
    expect((await fetch(`${relay.url}/health/ready`)).status).toBe(200);
    const metrics = await (await fetch(`${relay.url}/metrics`)).text();
    expect(metrics).toMatch(/^hh_nats_connected 0$/m);

    // NATS back (same store): hand-offs are taken again and reach b once it answers.
    await nats.start();
    expect(await until(async () => (await nodes()).store.nats === 'connected')).toBe(true);
    expect(await until(async () => (await write(102)).status === 204, 60_000)).toBe(true);
    expect(await until(async () => (await nodeB()).lease?.held === true, 60_000)).toBe(true);
    b.responder = up(tookB);
    expect(await until(async () => tookB.includes(102), 60_000)).toBe(true);
    // 101 was refused (never acknowledged): the client retries it; nothing else is missing.
    expect(tookB.slice(before).filter((v) => v >= 100)).toEqual(expect.arrayContaining([100, 102]));
    expect(tookB.slice(before)).not.toContain(101);
  });
});

describe('the relay replays a node only while it holds the node’s lease', () => {
  let nats: NatsServer;
  let b: FakeInfluxNode;
  let relay: RunningRelay;
  let link: NatsLink;
  let other: NodeLease;
  const tookB: number[] = [];

  beforeAll(async () => {
    nats = await startNatsServer();
    b = await new FakeInfluxNode().start();
    b.responder = down;
    // Another relay holds b's lease before this one starts.
    link = await NatsLink.connect({ servers: nats.url });
    other = new NodeLease(await openLeaseBucket(link, { ttlMs: 2000 }), 'b', 'relay-other');
    expect(await other.acquire()).toBe(true);
    other.start();
    relay = await startRelay([{ id: 'b', url: b.url }], {
      store: 'jetstream',
      natsUrl: nats.url,
      relayId: 'relay-1',
      leaseTtlMs: 2000,
      retryIntervalMs: 50,
      retryMaxIntervalMs: 200,
      maxSize: 64 * 1024 * 1024,
    });
  });

  afterAll(async () => {
    await relay?.close();
    await other?.stop();
    await link?.close();
    await b?.stop();
    await nats?.kill();
  });

  it('hands off but does not replay while another relay holds the lease, then takes over once it is released', async () => {
    const nodeB = async () =>
      ((await (await fetch(`${relay.url}/hh/nodes`)).json()) as NodesBody).nodes[0];
    for (let v = 0; v < 10; v++) {
      const res = await fetch(`${relay.url}/write?db=test`, {
        method: 'POST',
        body: `m,src=t v=${v}i ${1_600_000_000_000 + v}`,
      });
      expect(res.status).toBe(204);
    }
    expect(await nodeB()).toMatchObject({
      backlog: { entries: 10 },
      lease: { holder: 'relay-other', held: false },
    });
    // Only the first write was tried live (and failed); the rest went behind it.
    const tried = b.writes.length;
    expect(tried).toBe(1);
    b.responder = up(tookB);
    // Several of this relay's retry intervals and lease checks pass: b is sent nothing.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(tookB).toEqual([]);
    expect(b.writes).toHaveLength(tried);

    await other.stop(); // released: this relay takes the lease at its next check
    expect(await until(async () => (await nodeB()).lease?.held === true)).toBe(true);
    expect(await until(async () => tookB.length >= 10)).toBe(true);
    expect(tookB).toEqual(Array.from({ length: 10 }, (_, v) => v));
    expect((await nodeB()).lease).toEqual({ holder: 'relay-1', held: true });
  });

  it('releases its leases when it shuts down, so another relay need not wait for the TTL', async () => {
    const bucket = await openLeaseBucket(link, { ttlMs: 2000 });
    const probe = new NodeLease(bucket, 'b', 'probe');
    expect(await probe.holder()).toBe('relay-1');
    await relay.close();
    relay = undefined as unknown as RunningRelay;
    // Deleted at once by the closing relay, not left to expire.
    expect(await probe.holder()).toBeNull();
    expect(await probe.acquire()).toBe(true);
    await probe.release();
  });
});

describe('an operator purge on a relay that does not hold the lease', () => {
  let nats: NatsServer;
  let relay: RunningRelay;
  let link: NatsLink;
  let other: NodeLease;

  beforeAll(async () => {
    nats = await startNatsServer();
    link = await NatsLink.connect({ servers: nats.url });
    other = new NodeLease(await openLeaseBucket(link, { ttlMs: 2000 }), 'b', 'relay-other');
    expect(await other.acquire()).toBe(true);
    other.start();
    relay = await startRelay([{ id: 'b', url: `http://127.0.0.1:${await closedPort()}` }], {
      store: 'jetstream',
      natsUrl: nats.url,
      relayId: 'relay-1',
      leaseTtlMs: 2000,
      maxSize: 64 * 1024 * 1024,
    });
  });

  afterAll(async () => {
    await relay?.close();
    await other?.stop();
    await link?.close();
    await nats?.kill();
  });

  it('purges the stream, and does not count the holder’s later advances as expired', async () => {
    for (let v = 0; v < 5; v++) {
      await fetch(`${relay.url}/write?db=test`, { method: 'POST', body: `m v=${v}i` });
    }
    expect(relay.handoff.backlog('b').entries).toBe(5);
    expect(await relay.handoff.purge('b')).toMatchObject({ entries: 5 });

    // The lease holder (another relay) appends and delivers three entries.
    const holder = new JetStreamQueue(link, 'b', { maxSize: 64 * 1024 * 1024 });
    await holder.open();
    try {
      for (let i = 0; i < 3; i++) await holder.append(Buffer.from(`h${i}`));
      expect(await holder.peek(1024, 3)).toHaveLength(3);
      await holder.advance(3);
    } finally {
      await holder.close();
    }
    const mine = relay.handoff.queueOf('b') as JetStreamQueue;
    // This relay's view catches up with the stream (refreshed every second)...
    expect(await until(async () => mine.position().offset === 9)).toBe(true);
    // ...and counts nothing of that as an expiry.
    expect(mine.expired()).toBe(0);
    const metrics = await (await fetch(`${relay.url}/metrics`)).text();
    expect(metrics).toMatch(/^hh_purged_entries_total\{node="b",reason="age"\} 0$/m);
    expect(metrics).toMatch(/^hh_purged_entries_total\{node="b",reason="operator"\} 5$/m);
  });
});

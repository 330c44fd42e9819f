/**
 * What the end-to-end tests of HH_STORE=jetstream share: the environment of a relay child on a
 * NATS cluster, its `/hh/nodes` view (lease and store state), one HTTP exchange without
 * keep-alive, and `PointStream` — writers streaming writes through a relay that record which
 * writes were acknowledged, so a test can check a node ends with every one of them, in order.
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { nodeStreamNames } from '../../src/modules/jetstream';
import { NatsLink } from '../../src/modules/jetstream';
import { startInfluxd, type InfluxNode } from './influxd';
import { startNatsCluster, type NatsCluster, type NatsServer } from './nats-server';
import { exchange } from './http-exchange';
import { ensureBuilt, type RelayProcess } from './relay-process';

export const DB = 'hh';

/** What a fleet test runs on: a 3-server cluster, influxd a and b (database DB), a scratch dir. */
export interface Fleet {
  cluster: NatsCluster;
  a: InfluxNode;
  b: InfluxNode;
  work: string;
}

/**
 * Starts the fleet before the file's tests (the built relay checked fresh) and hands it over;
 * afterwards kills the relays the tests put into `relays`, then stops and removes the rest.
 */
export function useFleet(prefix: string, relays: RelayProcess[], take: (f: Fleet) => void): void {
  let fleet: Partial<Fleet> = {};
  beforeAll(async () => {
    await ensureBuilt();
    const work = await fs.mkdtemp(path.join(os.tmpdir(), prefix));
    fleet.work = work;
    const [cluster, a, b] = await Promise.all([
      startNatsCluster(3),
      startInfluxd(),
      startInfluxd(),
    ]);
    fleet = { cluster, a, b, work };
    await Promise.all([a.createDatabase(DB), b.createDatabase(DB)]);
    take(fleet as Fleet);
  }, 120_000);
  afterAll(async () => {
    await Promise.all(relays.map((r) => r.kill()));
    await Promise.all([fleet.a?.cleanup(), fleet.b?.cleanup(), fleet.cluster?.cleanup()]);
    if (fleet.work) await fs.rm(fleet.work, { recursive: true, force: true });
  });
}

/** A relay of the test fleet: both nodes, HH_STORE=jetstream on every server of `cluster`. */
export function jetstreamRelayEnv(
  cluster: NatsCluster,
  relayId: string,
  dataDir: string,
  nodes: { a: InfluxNode; b: InfluxNode },
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    HH_NODES: `a=${nodes.a.url},b=${nodes.b.url}`,
    HH_DATA_DIR: path.join(dataDir, relayId),
    HH_STORE: 'jetstream',
    HH_NATS_URL: cluster.urls.join(','),
    HH_JETSTREAM_REPLICAS: '3',
    HH_RELAY_ID: relayId,
    // The test servers have 1 GB of file store each: 2 nodes × (hints + dead letters) × 3
    // replicas × 16 MiB fits with room to spare.
    HH_MAX_SIZE: '16MiB',
    HH_RETRY_INTERVAL: '20ms',
    HH_RETRY_MAX_INTERVAL: '250ms',
    HH_WRITE_TIMEOUT: '5s',
    // Small replay batches: a catch-up of a few hundred hand-offs takes many batches (and
    // advances), as a real backlog does, instead of one.
    HH_REPLAY_BATCH_BYTES: '2KiB',
    ...extra,
  };
}

export interface LeaseView {
  holder: string | null;
  held: boolean;
}

export interface NodeView {
  id: string;
  state: string;
  backlog: { entries: number };
  lease?: LeaseView;
}

export interface NodesView {
  nodes: NodeView[];
  store?: { kind: 'disk' | 'jetstream'; nats?: 'connected' | 'reconnecting' | 'closed' };
}

export { exchange, type Exchange } from './http-exchange';

export async function nodesOf(relay: RelayProcess): Promise<NodesView> {
  const res = await exchange(`${relay.url}/hh/nodes`);
  if (res.status !== 200) throw new Error(`/hh/nodes answered ${res.status}: ${res.text}`);
  return JSON.parse(res.text) as NodesView;
}

export async function nodeOf(relay: RelayProcess, id: string): Promise<NodeView> {
  const node = (await nodesOf(relay)).nodes.find((n) => n.id === id);
  if (!node) throw new Error(`/hh/nodes has no node ${id}`);
  return node;
}

/** The server (of `cluster`) leading node `id`'s hint stream, asked over a client of its own. */
export async function streamLeader(cluster: NatsCluster, id: string): Promise<NatsServer> {
  const link = await NatsLink.connect({
    servers: cluster.urls.filter((_, i) => cluster.servers[i].running),
  });
  try {
    const info = await link.jsm.streams.info(nodeStreamNames(id).stream);
    const leader = cluster.servers.find((s) => s.name === info.cluster?.leader);
    if (!leader) throw new Error(`stream of ${id} has no leader (${JSON.stringify(info.cluster)})`);
    return leader;
  } finally {
    await link.close();
  }
}

/**
 * The running server of `cluster` that relay `relayId`'s NATS connection is on, from each
 * server's `/connz` (the relay names its connection `hinted-handoff <relay id>`).
 */
export async function serverOfRelay(cluster: NatsCluster, relayId: string): Promise<NatsServer> {
  for (const server of cluster.servers.filter((s) => s.running)) {
    const res = await exchange(`${server.monitorUrl}/connz?limit=1024`);
    const body = JSON.parse(res.text) as { connections?: { name?: string }[] };
    if (body.connections?.some((c) => c.name === `hinted-handoff ${relayId}`)) return server;
  }
  throw new Error(`no running server has a connection of relay ${relayId}`);
}

/** The base timestamp of the writes (ns): every point of a PointStream lies after it. */
const T0 = 1_600_000_000_000_000_000n;

/** What one writer of a PointStream sent and what the relay answered. */
export interface WriterLog {
  series: string;
  /** Request numbers the relay answered 204. */
  acked: number[];
  /** The highest request number sent (answered or not). */
  lastSent: number;
  /** Answers other than 204, by status (0: no answer — the connection failed). */
  refused: Map<number, number>;
}

/**
 * `writers` loops, each writing its own series through whichever relay `target()` names, one
 * request at a time. Request i of writer w carries two points: `last,w=<w> v=i` at one fixed
 * timestamp (InfluxDB keeps the last value written there, so a node that got the writes in
 * order ends with the highest value sent, and one that got them out of order with an older one),
 * and `each,w=<w> v=i` at its own timestamp (so every request leaves its own point).
 */
export class PointStream {
  readonly logs: WriterLog[];
  private stopping = false;
  private loops: Promise<void>[] = [];
  private paceMs: number;

  constructor(
    writers: number,
    private target: () => string,
    options: { paceMs?: number; prefix?: string } = {},
  ) {
    this.paceMs = options.paceMs ?? 0;
    this.logs = Array.from({ length: writers }, (_, w) => ({
      series: `${options.prefix ?? 'w'}${w}`,
      acked: [],
      lastSent: -1,
      refused: new Map(),
    }));
  }

  static body(series: string, i: number): string {
    return (
      `last,w=${series} v=${i}i ${T0}\n` + `each,w=${series} v=${i}i ${T0 + BigInt(i + 1) * 1000n}`
    );
  }

  get ackedCount(): number {
    return this.logs.reduce((sum, log) => sum + log.acked.length, 0);
  }

  refusedWith(status: number): number {
    return this.logs.reduce((sum, log) => sum + (log.refused.get(status) ?? 0), 0);
  }

  /** Every status other than 204 and `allowed` that any writer got, with counts. */
  unexpected(allowed: number[]): Record<number, number> {
    const out: Record<number, number> = {};
    for (const log of this.logs) {
      for (const [status, n] of log.refused) {
        if (!allowed.includes(status)) out[status] = (out[status] ?? 0) + n;
      }
    }
    return out;
  }

  /** Starts (or restarts, after `stop`) the writers, sending to `target` from now on. */
  start(target = this.target): void {
    this.target = target;
    this.stopping = false;
    this.loops = this.logs.map((log) => this.loop(log));
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all(this.loops);
  }

  private async loop(log: WriterLog): Promise<void> {
    while (!this.stopping) {
      const i = log.lastSent + 1;
      log.lastSent = i;
      const status = await exchange(
        `${this.target()}/write?db=${DB}`,
        'POST',
        PointStream.body(log.series, i),
      ).then(
        (res) => res.status,
        () => 0,
      );
      if (status === 204) log.acked.push(i);
      else log.refused.set(status, (log.refused.get(status) ?? 0) + 1);
      if (status !== 204 || this.paceMs > 0) {
        await new Promise((r) => setTimeout(r, Math.max(this.paceMs, status === 204 ? 0 : 50)));
      }
    }
  }
}

/** Values of `field` v of `measurement` on `node` for one series, in time order. */
async function valuesOf(node: InfluxNode, measurement: string, series: string): Promise<number[]> {
  const [result] = await node.query(`SELECT v FROM "${measurement}" WHERE w = '${series}'`, DB);
  return (result?.series?.[0]?.values ?? []).map((row) => Number(row[1]));
}

export interface SeriesOnNode {
  series: string;
  /** Acknowledged requests whose own point the node lacks. */
  missing: number[];
  /** Points for requests never sent (must be none). */
  unknown: number[];
  /** The value at the fixed timestamp (null: none). */
  last: number | null;
  /** The highest acknowledged request. */
  lastAcked: number;
}

/** What `node` holds of each writer's series, against what the relay acknowledged. */
export async function checkNode(node: InfluxNode, stream: PointStream): Promise<SeriesOnNode[]> {
  return Promise.all(
    stream.logs.map(async (log) => {
      const each = new Set(await valuesOf(node, 'each', log.series));
      const [last] = await valuesOf(node, 'last', log.series);
      return {
        series: log.series,
        missing: log.acked.filter((i) => !each.has(i)),
        unknown: [...each].filter((i) => i < 0 || i > log.lastSent),
        last: last ?? null,
        lastAcked: log.acked.length > 0 ? Math.max(...log.acked) : -1,
      };
    }),
  );
}

/**
 * The node has every acknowledged point and none never sent, and the value it keeps at the
 * fixed timestamp is the last acknowledged one — or a later one that was sent but not
 * acknowledged (in flight when a relay was killed, or refused after its hand-off may have been
 * stored: a 503 tells the client to retry, not that nothing was stored). An older value would
 * mean the writes reached the node out of order.
 */
export function expectEveryAckedInOrder(found: SeriesOnNode[], stream: PointStream): void {
  for (const [w, got] of found.entries()) {
    const log = stream.logs[w];
    expect({ series: got.series, missing: got.missing, unknown: got.unknown }).toEqual({
      series: log.series,
      missing: [],
      unknown: [],
    });
    expect(got.last).not.toBeNull();
    expect(got.last!).toBeGreaterThanOrEqual(got.lastAcked);
    expect(got.last!).toBeLessThanOrEqual(log.lastSent);
  }
}

/// <reference types="jest" />
// (The influxd and nats-server harnesses under test/support register a jest afterAll when jest
// runs them; the reference above only lets them type-check here, where jest does not run.)
/**
 * Hand-offs through one relay into JetStream: a relay with HH_STORE=jetstream and node b down
 * (every write's copy for b is published to b's stream before the write is answered), on one
 * real nats-server (R1) and on a real 3-server cluster (R3), beside the same relay with the disk
 * store, in the same run, against the same two real influxd nodes (a takes every write live).
 *
 *   npm run bench:build && node .bench-build/bench/jetstream-relay.bench.js
 *
 * Two loads, each closed-loop over BENCH_CONNECTIONS (8) connections for BENCH_SECONDS (6) s:
 * the relay benchmark's 5 000-point bodies (throughput), and BENCH_JS_SMALL_POINTS-point bodies
 * (default 10: the cost of one hand-off, as many small clients write). Figures are hand-offs/s
 * (write requests answered 204, each one hand-off for b) and points/s.
 * Then each relay's catch-up: a backlog of BENCH_JS_CATCHUP_POINTS (500 000) points in 5 000-point
 * hand-offs, replayed into b once it is back (the replay read from the stream, per relay and
 * per node), beside the disk store's catch-up of the same backlog.
 */
import { promises as fs } from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { startInfluxd, type InfluxNode } from '../test/support/influxd';
import { startNatsCluster, startNatsServer } from '../test/support/nats-server';
import { printTable, type BenchRow } from './bench-table';
import { BodyFactory, POINTS, post } from './line-load';
import { backlogOf, startRelay, stopRelay, type Relay } from './relay-child';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 6);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 8);
const SMALL_POINTS = Number(process.env.BENCH_JS_SMALL_POINTS ?? 10);
const CATCHUP_POINTS = Number(process.env.BENCH_JS_CATCHUP_POINTS ?? 500_000);
const DB = 'bench';

interface Load {
  name: string;
  points: number;
  body: () => Buffer;
}

/** Small bodies: `SMALL_POINTS` points over as many series, each body with new timestamps. */
function smallBodies(): () => Buffer {
  let next = 0n;
  return () => {
    const ts = 1_700_000_000_000_000_000n + next * 1_000_000_000n;
    next += 1n;
    const lines = Array.from(
      { length: SMALL_POINTS },
      (_, i) => `cpu,host=h${i} usage_user=${i + 0.5},usage_idle=${i}i ${ts}`,
    );
    return Buffer.from(lines.join('\n'));
  };
}

interface Rate {
  handoffs: number;
  points: number;
}

/** `CONNECTIONS` loops posting `load` bodies to `relay` for `seconds`: answered writes per second. */
async function closedLoop(relay: Relay, load: Load, seconds: number): Promise<Rate> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONNECTIONS });
  const url = `${relay.url}/write?db=${DB}`;
  const deadline = Date.now() + seconds * 1000;
  const started = Date.now();
  let answered = 0;
  await Promise.all(
    Array.from({ length: CONNECTIONS }, async () => {
      while (Date.now() < deadline) {
        await post(agent, url, load.body());
        answered += 1;
      }
    }),
  );
  const elapsed = (Date.now() - started) / 1000;
  agent.destroy();
  return { handoffs: answered / elapsed, points: (answered * load.points) / elapsed };
}

/** `closedLoop`, then b's backlog purged, so no phase runs against a fuller stream than another. */
async function measured(relay: Relay, load: Load, seconds = SECONDS): Promise<Rate> {
  const rate = await closedLoop(relay, load, seconds);
  await purge(relay, 'b');
  return rate;
}

/**
 * With b down, hands off `load` bodies until b's backlog holds CATCHUP_POINTS; then starts b
 * and resolves the points per second of the replay until the backlog is empty, and stops b.
 */
async function catchUp(relay: Relay, load: Load, b: InfluxNode): Promise<number> {
  while ((await backlogOf(relay, 'b')) * load.points < CATCHUP_POINTS) {
    await closedLoop(relay, load, 1);
  }
  const entries = await backlogOf(relay, 'b');
  await b.start();
  const started = Date.now();
  while ((await backlogOf(relay, 'b')) > 0) {
    if (Date.now() - started > 300_000) throw new Error('catch-up did not finish in 5 min');
    await new Promise((r) => setTimeout(r, 50));
  }
  const seconds = (Date.now() - started) / 1000;
  await b.stop();
  return (entries * load.points) / seconds;
}

/** Drops `node`'s backlog (the relay allows it from loopback with no admin token). */
async function purge(relay: Relay, node: string): Promise<void> {
  const res = await fetch(`${relay.url}/hh/nodes/${node}/purge?confirm=true`, { method: 'POST' });
  if (!res.ok) throw new Error(`purge of ${node} answered ${res.status}: ${await res.text()}`);
}

async function main(): Promise<void> {
  const work = await fs.mkdtemp(path.join(os.tmpdir(), 'hh-bench-js-relay-'));
  const nodes: InfluxNode[] = [];
  const relays: Relay[] = [];
  // Room for 2 nodes × (hints + dead letters) × HH_MAX_SIZE on each server.
  const single = await startNatsServer({ maxFileStore: '4GB' });
  const cluster = await startNatsCluster(3, { maxFileStore: '4GB' });
  try {
    const [a, b] = await Promise.all([startInfluxd(), startInfluxd()]);
    nodes.push(a, b);
    await Promise.all([a.createDatabase(DB), b.createDatabase(DB)]);
    await b.stop();
    const base = (id: string) => ({
      HH_NODES: `a=${a.url},b=${b.url}`,
      HH_DATA_DIR: path.join(work, id),
      // Room for one phase's hand-offs at each relay's own rate (on a quiet machine the disk
      // relay and JetStream R1 filled 200 MiB within a 6 s phase and answered 503).
      HH_MAX_SIZE: '512MiB',
      HH_RELAY_ID: id,
      HH_RETRY_MAX_INTERVAL: '200ms',
    });
    const disk = await startRelay(base('disk'));
    const r1 = await startRelay({
      ...base('js-r1'),
      HH_STORE: 'jetstream',
      HH_NATS_URL: single.url,
    });
    const r3 = await startRelay({
      ...base('js-r3'),
      HH_STORE: 'jetstream',
      HH_NATS_URL: cluster.urls.join(','),
      HH_JETSTREAM_REPLICAS: '3',
    });
    relays.push(disk, r1, r3);
    // A relay that ignored HH_STORE would measure the disk store twice over: refuse to report.
    for (const [relay, kind] of [
      [disk, 'disk'],
      [r1, 'jetstream'],
      [r3, 'jetstream'],
    ] as const) {
      const view = (await (await fetch(`${relay.url}/hh/nodes`)).json()) as {
        store?: { kind?: string };
      };
      if (view.store?.kind !== kind) {
        throw new Error(
          `a relay meant to use the ${kind} store says ${JSON.stringify(view.store)}`,
        );
      }
    }

    const bodies = new BodyFactory();
    const loads: Load[] = [
      { name: `${POINTS}-point bodies`, points: POINTS, body: () => bodies.body() },
      { name: `${SMALL_POINTS}-point bodies`, points: SMALL_POINTS, body: smallBodies() },
    ];
    const rows: BenchRow[] = [];
    const notes: string[] = [];
    for (const load of loads) {
      // Warm-up (JIT, connections, the streams' first blocks), then the disk relay and the two
      // JetStream relays back to back.
      for (const relay of relays) await measured(relay, load, 2);
      const onDisk = await measured(disk, load);
      const onR1 = await measured(r1, load);
      const onR3 = await measured(r3, load);
      const perSecond = (r: Rate) => ({ value: r.handoffs, unit: 'hand-offs/s' });
      const baseline = { ...perSecond(onDisk), label: 'same relay, disk store' };
      rows.push(
        { label: `relay → JetStream R1, ${load.name}`, measured: perSecond(onR1), baseline },
        { label: `relay → JetStream R3, ${load.name}`, measured: perSecond(onR3), baseline },
      );
      notes.push(
        `${load.name}: disk ${Math.round(onDisk.points)} points/s, R1 ${Math.round(onR1.points)}, ` +
          `R3 ${Math.round(onR3.points)}`,
      );
    }
    const [catchUpDisk, catchUpR1, catchUpR3] = [
      await catchUp(disk, loads[0], b),
      await catchUp(r1, loads[0], b),
      await catchUp(r3, loads[0], b),
    ];
    const points = (value: number) => ({ value, unit: 'points/s' });
    const catchUpBaseline = { ...points(catchUpDisk), label: 'same relay, disk store' };
    const backlog = `${(CATCHUP_POINTS / 1e6).toFixed(1)} M points`;
    rows.push(
      {
        label: `catch-up of ≥ ${backlog} into b, JetStream R1`,
        measured: points(catchUpR1),
        baseline: catchUpBaseline,
      },
      {
        label: `catch-up of ≥ ${backlog} into b, JetStream R3`,
        measured: points(catchUpR3),
        baseline: catchUpBaseline,
      },
    );
    printTable(
      `one relay handing off every write for node b (down), ${CONNECTIONS} connections, ` +
        `${SECONDS} s phases, ${os.cpus().length} CPUs, load ${os.loadavg()[0].toFixed(2)}`,
      rows,
    );
    for (const note of notes) console.log(note);
    const queued = await Promise.all(relays.map((r) => backlogOf(r, 'b')));
    console.log(
      `b's backlog as each relay sees it: disk ${queued[0]}, R1 ${queued[1]}, R3 ${queued[2]}`,
    );
  } finally {
    await Promise.all(relays.map(stopRelay));
    await Promise.all(nodes.map((n) => n.cleanup()));
    await single.kill();
    await cluster.cleanup();
    await fs.rm(work, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);

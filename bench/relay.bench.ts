/// <reference types="jest" />
// (The influxd harness under test/support registers a jest afterAll when jest runs it; the
// reference above only lets it type-check here, where it runs without jest.)
/**
 * The relay against two real influxd nodes, each figure beside a baseline measured in the same
 * run (`npm run bench:relay`). Every body is 5 000 points over 1 000 series with new timestamps.
 *   1. relay, both nodes up  vs  a plain client posting every body to both nodes itself;
 *   2. relay with node b down (its copies handed off to disk)  vs  the same plain client;
 *   3. catch-up of a backlog of ≥ BENCH_BACKLOG_POINTS (2 M) into b once it is back  vs  b's
 *      direct write rate with as many connections as the replay has lanes (goal ≥ 0.9×);
 *   4. the same catch-up while live writes go on through the relay at half b's direct rate:
 *      the live p99 beside the live p99 with no catch-up running (goal ≤ 1.5×), and the
 *      catch-up time beside (3)'s.
 * BENCH_SECONDS (6) sets each measured phase, BENCH_ROUNDS (2) the rounds of (1),
 * BENCH_CONNECTIONS (8) the client connections; BENCH_REPLAY_LANES and BENCH_REPLAY_BATCH_BYTES,
 * when set, become the relay's HH_REPLAY_LANES and HH_REPLAY_BATCH_BYTES (else its defaults).
 * BENCH_PHASES=catchup runs only (3), for tuning the lanes.
 */
import { promises as fs } from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { DEFAULTS } from '../src/config/defaults';
import { startInfluxd, type InfluxNode } from '../test/support/influxd';
import { printTable, type BenchRow } from './bench-table';
import { BodyFactory, closedLoop, paced, POINTS } from './line-load';
import { backlogOf, startRelay, stopRelay, type Relay } from './relay-child';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 6);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 8);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const BACKLOG_POINTS = Number(process.env.BENCH_BACKLOG_POINTS ?? 2_000_000);
const LANES = Number(process.env.BENCH_REPLAY_LANES ?? DEFAULTS.replayLanes);
const ONLY_CATCHUP = process.env.BENCH_PHASES === 'catchup';
const DB = 'bench';
const CATCH_UP_LIMIT_MS = 180_000;
/** Where the direct-to-b baselines write, so the relayed data on a and b can be compared. */
const DIRECT_DB = 'direct';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Writes through the relay (b down) until b's queue holds `points`; resolves its entries. */
async function growBacklog(relay: Relay, bodies: BodyFactory, points: number): Promise<number> {
  let entries = await backlogOf(relay, 'b');
  while (entries * POINTS < points) {
    await closedLoop(bodies, [`${relay.url}/write?db=${DB}`], CONNECTIONS, 2);
    entries = await backlogOf(relay, 'b');
  }
  return entries;
}

/** Starts b and resolves the seconds until its queue is empty (polled every 50 ms). */
async function catchUp(relay: Relay, b: InfluxNode): Promise<number> {
  await b.start();
  const started = Date.now();
  while ((await backlogOf(relay, 'b')) > 0) {
    // A catch-up slower than the live writes queueing behind it never ends: say so.
    if (Date.now() - started > CATCH_UP_LIMIT_MS)
      throw new Error('catch-up did not finish in 3 min');
    await sleep(50);
  }
  return (Date.now() - started) / 1000;
}

async function main(): Promise<void> {
  const bodies = new BodyFactory();
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'hh-bench-relay-'));
  const nodes: InfluxNode[] = [];
  let relay: Relay | undefined;
  try {
    const [a, b] = await Promise.all([startInfluxd(), startInfluxd()]);
    nodes.push(a, b);
    await Promise.all([a.createDatabase(DB), b.createDatabase(DB), b.createDatabase(DIRECT_DB)]);
    const writeUrl = (n: InfluxNode, db = DB) => `${n.url}/write?db=${db}`;
    const env: Record<string, string> = {
      HH_NODES: `a=${a.url},b=${b.url}`,
      HH_DATA_DIR: path.join(dataDir, 'hh'),
      HH_RETRY_MAX_INTERVAL: '200ms',
    };
    if (process.env.BENCH_REPLAY_LANES) env.HH_REPLAY_LANES = process.env.BENCH_REPLAY_LANES;
    if (process.env.BENCH_REPLAY_BATCH_BYTES) {
      env.HH_REPLAY_BATCH_BYTES = process.env.BENCH_REPLAY_BATCH_BYTES;
    }
    relay = await startRelay(env);
    const relayWrite = `${relay.url}/write?db=${DB}`;
    const rows: BenchRow[] = [];
    const rate = (value: number) => ({ value, unit: 'points/s' });

    // Warm-up, then baseline and relay interleaved (influxd's compactions grow as data comes
    // in, so a phase run later would be measured on a busier node): best of ROUNDS.
    await closedLoop(bodies, [writeUrl(a), writeUrl(b)], CONNECTIONS, 2);
    let fanout = 0;
    let bothUp = 0;
    if (!ONLY_CATCHUP) {
      await closedLoop(bodies, [relayWrite], CONNECTIONS, 2);
      for (let round = 0; round < ROUNDS; round += 1) {
        const f = await closedLoop(bodies, [writeUrl(a), writeUrl(b)], CONNECTIONS, SECONDS);
        fanout = Math.max(fanout, f);
        bothUp = Math.max(bothUp, await closedLoop(bodies, [relayWrite], CONNECTIONS, SECONDS));
      }
    }
    const bDirect = writeUrl(b, DIRECT_DB);
    const directB = await closedLoop(bodies, [bDirect], CONNECTIONS, SECONDS);
    const directLanes =
      LANES === CONNECTIONS ? directB : await closedLoop(bodies, [bDirect], LANES, SECONDS);
    const directOne = await closedLoop(bodies, [bDirect], 1, SECONDS);
    // Half the node's rate — unless that is more than the relay carries with both nodes up
    // (on a shared 2-core machine it may be): then 70 % of that, or the "no catch-up" baseline
    // would measure a relay queueing requests rather than a live feed.
    const liveRate = ONLY_CATCHUP ? 0 : Math.min(directB / 2, 0.7 * bothUp);
    let liveAlone = { p99: 0, p50: 0, pointsPerSecond: 0, sent: 0 };
    if (!ONLY_CATCHUP) {
      const until = Date.now() + SECONDS * 1000;
      liveAlone = await paced(bodies, relayWrite, liveRate, () => Date.now() >= until);
    }

    await b.stop();
    let oneDown = 0;
    if (!ONLY_CATCHUP) oneDown = await closedLoop(bodies, [relayWrite], CONNECTIONS, SECONDS);
    const entries = await growBacklog(relay, bodies, BACKLOG_POINTS);
    const seconds = await catchUp(relay, b);
    const catchUpRate = (entries * POINTS) / seconds;

    let withLive: { seconds: number; entries: number; live: typeof liveAlone } | undefined;
    if (!ONLY_CATCHUP) {
      await b.stop();
      const queued = await growBacklog(relay, bodies, BACKLOG_POINTS);
      let done = false;
      const live = paced(bodies, relayWrite, liveRate, () => done);
      const took = await catchUp(relay, b);
      done = true;
      withLive = { seconds: took, entries: queued, live: await live };
    }

    if (!ONLY_CATCHUP) {
      rows.push(
        {
          label: 'relay, both nodes up',
          measured: rate(bothUp),
          baseline: { ...rate(fanout), label: 'client → both nodes' },
          goal: { min: 0.8 },
        },
        {
          label: 'relay, node b down (hand-off)',
          measured: rate(oneDown),
          baseline: { ...rate(fanout), label: 'client → both nodes' },
          goal: { min: 0.8 },
        },
      );
    }
    const backlog = `${((entries * POINTS) / 1e6).toFixed(1)} M points`;
    rows.push(
      {
        label: `catch-up of ${backlog}, ${LANES} lanes`,
        measured: rate(catchUpRate),
        baseline: { ...rate(directLanes), label: `direct to b, ${LANES} conns` },
        goal: { min: 0.9 },
      },
      {
        label: `catch-up of ${backlog}, ${LANES} lanes`,
        measured: rate(catchUpRate),
        baseline: { ...rate(directOne), label: 'direct to b, 1 conn' },
      },
    );
    if (withLive) {
      rows.push(
        {
          label: `live p99 during catch-up (live ${Math.round(liveRate / 1000)} k points/s = ${(liveRate / directB).toFixed(2)}× b's rate)`,
          measured: { value: withLive.live.p99, unit: 'ms' },
          baseline: { value: liveAlone.p99, unit: 'ms', label: 'live p99, no catch-up' },
          goal: { max: 1.5 },
        },
        {
          label: `catch-up time of ${((withLive.entries * POINTS) / 1e6).toFixed(1)} M points with live writes`,
          measured: { value: withLive.seconds * 1000, unit: 'ms' },
          baseline: { value: seconds * 1000, unit: 'ms', label: 'catch-up alone' },
        },
      );
    }
    printTable(
      `relay: ${POINTS}-point bodies, 1 000 series, new timestamps; ${CONNECTIONS} client connections, ` +
        `${SECONDS} s phases, ${os.cpus().length} CPUs, load ${os.loadavg()[0].toFixed(2)}`,
      rows,
    );
    console.log(
      `catch-up alone: ${entries} entries in ${seconds.toFixed(1)} s; direct to b: ${Math.round(directB)} points/s (${CONNECTIONS} conns)` +
        (withLive
          ? `; with live: ${withLive.entries} entries in ${withLive.seconds.toFixed(1)} s, live sent ${withLive.live.sent} bodies at ${Math.round(withLive.live.pointsPerSecond)} points/s, p50 ${withLive.live.p50.toFixed(1)} ms (alone: p50 ${liveAlone.p50.toFixed(1)} ms)`
          : ''),
    );
    // Every point the relay took reached both nodes once their queues are empty (a live write
    // to a that timed out under load is handed off to a): a catch-up that lost points would
    // show here (new timestamps: every point is distinct).
    for (
      let i = 0;
      i < 600 && (await backlogOf(relay, 'a')) + (await backlogOf(relay, 'b')) > 0;
      i++
    ) {
      await sleep(100);
    }
    const counts = await Promise.all([a, b].map((n) => n.count(DB, 'cpu', 'usage_user')));
    const status = async (id: string) =>
      JSON.stringify(
        await new Promise((resolve, reject) =>
          http
            .get(`${relay!.url}/hh/nodes/${id}`, (res) => {
              let text = '';
              res.on('data', (c: Buffer) => (text += c.toString()));
              res.on('end', () => resolve(JSON.parse(text)));
            })
            .on('error', reject),
        ),
      );
    console.log(`node a holds ${counts[0]} points, node b ${counts[1]}`);
    if (counts[0] !== counts[1]) console.log(await status('a'), await status('b'));
    if (counts[0] !== counts[1]) throw new Error('the nodes differ');
  } finally {
    if (relay) await stopRelay(relay);
    await Promise.all(nodes.map((n) => n.cleanup()));
    await fs.rm(dataDir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);

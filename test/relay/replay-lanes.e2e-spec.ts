import { startInfluxd, type InfluxNode } from '../support/influxd';
import { rawRequest } from './raw-request';
import { startRelay, type RunningRelay } from '../support/relay-app';

/**
 * Lanes against real influxd: node a takes every write live, node b is down and catches up from
 * its queue in 4 lanes. The writes rewrite the same points again and again (InfluxDB keeps the
 * last value written for a point), with the tags in varying order and escaped names, so a write
 * of a series landing before an earlier one shows as b differing from a.
 */
describe('replay lanes against real InfluxDB', () => {
  let a: InfluxNode;
  let b: InfluxNode;
  let relay: RunningRelay | undefined;

  beforeEach(async () => {
    [a, b] = await Promise.all([startInfluxd(), startInfluxd()]);
    await Promise.all([a.createDatabase('d'), b.createDatabase('d')]);
  }, 60_000);

  afterEach(async () => {
    await relay?.close();
    relay = undefined;
    await Promise.all([a.cleanup(), b.cleanup()]);
  });

  /** Write k: every point of 200 series at t = 1..3 s rewritten with value k. */
  const rewrite = (k: number, series = 200) => {
    const lines: string[] = [];
    for (let s = 0; s < series; s++) {
      // Tags in either order, and one series with an escaped space: one series each way.
      const tags = k % 2 === 0 ? `host=h${s},dc=d${s % 3}` : `dc=d${s % 3},host=h${s}`;
      const name = s === 7 ? 'm,host=a\\ b' : `m,${tags}`;
      for (let t = 1; t <= 3; t++) lines.push(`${name} v=${k}.5,n=${k}i ${t}000000000`);
    }
    return `${lines.join('\n')}\n`;
  };

  const post = async (path: string, body?: string) => {
    const res = await rawRequest(`${relay!.url}${path}`, 'POST', {}, body);
    return res.status;
  };

  /** Every point as `tags time → values`. */
  const dump = async (node: InfluxNode, db: string) => {
    const [result] = await node.query('SELECT * FROM m GROUP BY *', db);
    const points = new Map<string, string>();
    for (const series of result.series ?? []) {
      for (const [time, ...values] of series.values) {
        points.set(`${JSON.stringify(series.tags)} ${String(time)}`, JSON.stringify(values));
      }
    }
    return points;
  };

  /** The points where b differs from a (the first few), and how many points a holds. */
  async function differences(db: string): Promise<{ differ: string[]; points: number }> {
    const [want, got] = await Promise.all([dump(a, db), dump(b, db)]);
    const differ = [...want]
      .filter(([key, values]) => got.get(key) !== values)
      .map(([key, values]) => `${key}: a ${values}, b ${got.get(key)}`);
    if (got.size !== want.size) differ.push(`a has ${want.size} points, b ${got.size}`);
    return { differ: differ.slice(0, 5), points: want.size };
  }

  async function replayUntilEmpty(): Promise<void> {
    for (let i = 0; i < 50 && relay!.handoff.backlog('b').entries > 0; i++) {
      await relay!.handoff.replayNow('b').catch(() => new Promise((r) => setTimeout(r, 200)));
    }
    expect(relay!.handoff.backlog('b').entries).toBe(0);
  }

  it('catches up to the same data as the node that took every write live, statements in order and a refused write dead-lettered', async () => {
    relay = await startRelay(
      [
        { id: 'a', url: a.url },
        { id: 'b', url: b.url },
      ],
      { replayLanes: 4, replayBatchBytes: 4 * 1024 * 1024 },
    );
    await b.stop();
    for (let k = 0; k < 40; k++) {
      expect(await post('/write?db=d', rewrite(k))).toBe(204);
      if (k === 20) {
        expect(await post(`/query?q=${encodeURIComponent('CREATE DATABASE second')}`)).toBe(200);
      }
      if (k >= 20) expect(await post('/write?db=second', rewrite(k, 20))).toBe(204);
      // A write the nodes refuse (v is a float field): dead-lettered on b, the rest goes on.
      if (k === 30) expect(await post('/write?db=d', 'm,host=h0,dc=d0 v="text" 9')).toBe(400);
    }
    expect(relay.handoff.backlog('b').entries).toBeGreaterThan(60);

    await b.start();
    await replayUntilEmpty();
    expect(await differences('d')).toEqual({ differ: [], points: 600 });
    expect(await differences('second')).toEqual({ differ: [], points: 60 });
    // The last write won on every point.
    const [result] = await b.query('SELECT count(v), min(v), max(v) FROM m', 'd');
    expect(result.series?.[0].values[0].slice(1)).toEqual([600, 39.5, 39.5]);
    const letters = await relay.handoff.deadLetters('b');
    expect(letters).toHaveLength(1);
  }, 120_000);

  it('catches up a backlog of many read windows and segments, every point its own, to the same data', async () => {
    // 5 MiB of writes with a new timestamp per point, in 1 MiB segments: the replay reads
    // through many windows, each read into again once the head passed its payloads, and through
    // several segments; a payload read over before its batch went out would miss or change points.
    relay = await startRelay(
      [
        { id: 'a', url: a.url },
        { id: 'b', url: b.url },
      ],
      { replayLanes: 4, replayBatchBytes: 1024 * 1024, maxSegmentSize: 1024 * 1024 },
    );
    await b.stop();
    const writes = 60;
    const perWrite = 2000;
    for (let k = 0; k < writes; k++) {
      const lines: string[] = [];
      for (let i = 0; i < perWrite; i++) {
        const at = k * perWrite + i;
        lines.push(`m,host=h${at % 50} v=${at}.5,n=${k}i ${1_000_000 + at}000000`);
      }
      expect(await post('/write?db=d', `${lines.join('\n')}\n`)).toBe(204);
    }
    expect(relay.handoff.backlog('b').bytes).toBeGreaterThan(4 * 1024 * 1024);

    await b.start();
    await replayUntilEmpty();
    expect(await differences('d')).toEqual({ differ: [], points: writes * perWrite });
  }, 180_000);

  it('a node killed mid catch-up (SIGKILL) ends with the same data once it is back', async () => {
    relay = await startRelay(
      [
        { id: 'a', url: a.url },
        { id: 'b', url: b.url },
      ],
      { replayLanes: 4, replayBatchBytes: 1024 * 1024, writeTimeoutMs: 5_000 },
    );
    await b.stop();
    for (let k = 0; k < 120; k++) expect(await post('/write?db=d', rewrite(k, 400))).toBe(204);
    const queued = relay.handoff.backlog('b').entries;

    await b.start();
    const draining = relay.handoff.replayNow('b').catch(() => undefined);
    // Kill it once part of the backlog went through (or the replay ended first: still checked).
    while (relay.handoff.backlog('b').entries > queued / 2 && b.running) {
      await new Promise((r) => setTimeout(r, 5));
    }
    await b.kill();
    await draining;
    await b.start();
    await replayUntilEmpty();
    expect(await differences('d')).toEqual({ differ: [], points: 1200 });
    const [result] = await b.query('SELECT count(v), min(v), max(v) FROM m', 'd');
    expect(result.series?.[0].values[0].slice(1)).toEqual([1200, 119.5, 119.5]);
  }, 180_000);
});

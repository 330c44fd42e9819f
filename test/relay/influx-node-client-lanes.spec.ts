import { InfluxNodeClient } from '../../src/modules/relay/influx-node-client';
import { encodeEnvelope } from '../../src/modules/relay/write-envelope';
import { FakeInfluxNode } from '../support/fake-influx-node';

/** One hand-off holding one point of each of `series` series. */
const entry = (series: number, k: number) =>
  encodeEnvelope({
    db: 'd',
    rp: '',
    precision: '',
    encoding: 'identity',
    body: Buffer.from(
      Array.from({ length: series }, (_, s) => `m,host=h${s} v=${k} ${k}`).join('\n'),
    ),
  });

describe('InfluxNodeClient lanes and the live share', () => {
  let node: FakeInfluxNode;
  let client: InfluxNodeClient;
  let inFlight = 0;
  let maxInFlight = 0;
  let liveDelayMs = 0;

  beforeEach(async () => {
    inFlight = 0;
    maxInFlight = 0;
    liveDelayMs = 0;
    node = await new FakeInfluxNode().start();
    node.responder = (req, res) => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      // Live writes carry db=live; replays db=d.
      const delay = req.query.get('db') === 'live' ? liveDelayMs : 30;
      setTimeout(() => {
        inFlight--;
        res.writeHead(204).end();
      }, delay);
    };
  });

  afterEach(async () => {
    await client.close();
    await node.stop();
  });

  const live = () =>
    client.sendLive('a', { db: 'live', rp: '', precision: '' }, Buffer.from('m v=1 1'), 'identity');

  it('replays a batch as one request per lane at once, each series in one lane in order', async () => {
    client = new InfluxNodeClient([{ id: 'a', url: node.url }], {
      timeoutMs: 5000,
      replayLanes: 8,
    });
    await client.send('a', [entry(200, 1), entry(200, 2)]);
    expect(node.writes).toHaveLength(8);
    expect(maxInFlight).toBe(8);
    const lines = node.writes.flatMap((w) => w.text.split('\n').filter(Boolean));
    expect(lines).toHaveLength(400);
    for (let s = 0; s < 200; s++) {
      expect(lines.filter((l) => l.startsWith(`m,host=h${s} `))).toEqual([
        `m,host=h${s} v=1 1`,
        `m,host=h${s} v=2 2`,
      ]);
    }
  });

  it('takes fewer lanes while live writes are slower than they were, and all of them once live writes stop', async () => {
    client = new InfluxNodeClient([{ id: 'a', url: node.url }], {
      timeoutMs: 5000,
      replayLanes: 8,
    });
    for (let i = 0; i < 10; i++) await live(); // ~instant: the floor
    liveDelayMs = 60;
    for (let i = 0; i < 10; i++) await live(); // slower: a catch-up is in the way
    maxInFlight = 0;
    await client.send('a', [entry(200, 1)]);
    expect(maxInFlight).toBeLessThanOrEqual(4);
    await new Promise((r) => setTimeout(r, 1100)); // no live write for a second
    maxInFlight = 0;
    await client.send('a', [entry(200, 2)]);
    expect(maxInFlight).toBe(8);
  });

  it('keeps every lane when HH_REPLAY_ADAPTIVE is off', async () => {
    client = new InfluxNodeClient([{ id: 'a', url: node.url }], {
      timeoutMs: 5000,
      replayLanes: 8,
      replayAdaptive: false,
    });
    for (let i = 0; i < 10; i++) await live();
    liveDelayMs = 60;
    for (let i = 0; i < 10; i++) await live();
    maxInFlight = 0;
    await client.send('a', [entry(200, 1)]);
    expect(maxInFlight).toBe(8);
  });
});

import request from 'supertest';
import { ConsoleSampler } from '../../src/modules/console/console-sampler.service';
import { FakeInfluxNode } from '../support/fake-influx-node';
import { startRelay, type RunningRelay } from '../support/relay-app';

/** The console's overview in the real relay app, with a node that answers 503. */
describe('the console in the relay app', () => {
  let relay: RunningRelay;
  let up: FakeInfluxNode;
  let down: FakeInfluxNode;

  beforeEach(async () => {
    up = await new FakeInfluxNode().start();
    down = await new FakeInfluxNode().start();
    down.responder = (_req, res) => res.writeHead(503).end('{"error":"overloaded"}');
    relay = await startRelay([
      { id: 'up', url: up.url },
      { id: 'down', url: down.url },
    ]);
  });

  afterEach(async () => {
    await relay.close();
    await up.stop();
    await down.stop();
  });

  it('counts hand-offs, replays and the last error with its time', async () => {
    const before = Date.now();
    for (let i = 0; i < 3; i++) {
      await request(relay.url).post('/write?db=d').send(`m v=${i} ${i}`).expect(204);
    }
    const sampler = relay.app.get(ConsoleSampler);
    sampler.sample();
    const res = await request(relay.url).get('/hh/ui/api/overview').expect(200);
    const down_ = res.body.nodes.find((n: { id: string }) => n.id === 'down');
    expect(down_.backlog.entries).toBe(3);
    expect(down_.totals).toMatchObject({ handedOffEntries: 3, replayedEntries: 0 });
    const up_ = res.body.nodes.find((n: { id: string }) => n.id === 'up');
    expect(up_.totals).toMatchObject({ handedOffEntries: 0, replayedEntries: 0 });

    // A replay that fails records the node's error and when.
    await request(relay.url).post('/hh/nodes/down/replay').expect(502);
    const failed = await request(relay.url).get('/hh/nodes/down').expect(200);
    expect(failed.body.lastError).toMatch(/503/);
    expect(Date.parse(failed.body.lastErrorAt)).toBeGreaterThanOrEqual(before);

    // Once it answers, the replay is counted and the error cleared.
    down.responder = (_req, res) => res.writeHead(204).end();
    await request(relay.url).post('/hh/nodes/down/replay').expect(200);
    sampler.sample(Date.now() + 1000);
    const after = await request(relay.url).get('/hh/ui/api/overview').expect(200);
    const drained = after.body.nodes.find((n: { id: string }) => n.id === 'down');
    expect(drained.totals).toMatchObject({ handedOffEntries: 3, replayedEntries: 3 });
    expect(drained.lastError).toBeUndefined();
    expect(drained.lastErrorAt).toBeUndefined();
    expect(drained.history.at(-1).replayRate).toBeGreaterThan(0);
    expect(drained.etaSeconds).toBe(0);
  });
});

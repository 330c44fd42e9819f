/**
 * The JetStream store through real faults on a real 3-server cluster (replicas 3): the stream's
 * leader SIGKILLed during a stream of hand-offs, then the whole cluster stopped and started.
 */
import { JetStreamQueue, NatsLink, NatsUnavailableError } from '../../src/modules/jetstream';
import { startNatsCluster, type NatsCluster } from '../support/nats-server';

jest.setTimeout(90_000);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, cond: () => boolean | Promise<boolean>, ms = 30_000) {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

/**
 * Every entry from the head, read in batches as a replayer does (without advancing). Right
 * after a server restarts the cluster may still be settling and refuse a read, as it may an
 * append: like the replayer after its back-off, this reads again.
 */
async function readAll(q: JetStreamQueue): Promise<string[]> {
  let out: string[] = [];
  await until('the entries to be read', async () => {
    try {
      out = [];
      for (;;) {
        const batch = await q.peek(256 * 1024, 500, out.length);
        if (batch.length === 0) return true;
        out.push(...batch.map((b) => b.toString()));
      }
    } catch (err) {
      expect(err).toBeInstanceOf(NatsUnavailableError);
      return false;
    }
  });
  return out;
}

describe('JetStreamQueue on a 3-server cluster, replicas 3, through faults', () => {
  let cluster: NatsCluster;
  let link: NatsLink;
  let q: JetStreamQueue;

  beforeAll(async () => {
    cluster = await startNatsCluster(3);
    link = await NatsLink.connect({ servers: cluster.urls });
    q = new JetStreamQueue(link, 'node-b', { replicas: 3, maxSize: 64 * 1024 * 1024 });
    await q.open();
  }, 60_000);
  afterAll(async () => {
    await q?.close();
    await link?.close();
    await cluster?.cleanup();
  });

  it('loses no acknowledged entry when the stream leader, then the server the client is on, are SIGKILLed mid-stream, and stores none twice', async () => {
    const acked: string[][] = [[], [], [], []];
    let refused = 0;
    const others: unknown[] = [];
    let stop = false;
    const writers = acked.map(async (mine, w) => {
      for (let i = 0; !stop; i++) {
        const id = `w${w}-${String(i).padStart(6, '0')}`;
        try {
          await q.append(Buffer.from(id));
          mine.push(id);
        } catch (err) {
          if (err instanceof NatsUnavailableError) refused++;
          else others.push(err);
          await sleep(20);
        }
      }
    });
    const total = () => acked.reduce((s, a) => s + a.length, 0);
    await until('hand-offs before the kill', () => total() >= 300);
    const info = await link.jsm.streams.info(q.stream);
    const leader = cluster.servers.find((s) => s.name === info.cluster?.leader);
    expect(leader).toBeDefined();
    await leader!.kill();
    const atKill = total();
    await until('hand-offs after the kill', () => total() >= atKill + 200, 45_000);
    // Then the server this client is connected to (unless it was the leader just killed).
    await leader!.start();
    const mine = cluster.servers.find((s) => s.url === `nats://${link.server()}`);
    await mine?.kill();
    const atSecondKill = total();
    await until('hand-offs after the second kill', () => total() >= atSecondKill + 200, 45_000);
    await mine?.start();
    stop = true;
    await Promise.all(writers);
    expect(others).toEqual([]);

    const stored = await readAll(q);
    expect(new Set(stored).size).toBe(stored.length);
    const position = new Map(stored.map((id, i) => [id, i]));
    for (const mine of acked) {
      const at = mine.map((id) => position.get(id));
      expect(at.filter((p) => p === undefined)).toEqual([]);
      // One writer's acknowledged entries are stored in the order they were acknowledged.
      expect([...at].sort((a, b) => a! - b!)).toEqual(at);
    }
    expect(q.backlog().entries).toBe(stored.length);
    expect(refused).toBeLessThan(total());
  });

  it('refuses appends at once while the whole cluster is down, and works again once it is back, without a reopen', async () => {
    await q.append(Buffer.from('before'));
    const before = q.backlog().entries;
    const down = new Promise<void>((resolve) =>
      link.on('state', (s) => s !== 'connected' && resolve()),
    );
    await cluster.stopAll();
    await down;
    const started = Date.now();
    await expect(q.append(Buffer.from('while down'))).rejects.toBeInstanceOf(NatsUnavailableError);
    await expect(q.peek(1024)).rejects.toBeInstanceOf(NatsUnavailableError);
    expect(Date.now() - started).toBeLessThan(500);
    expect(q.backlog().entries).toBe(before);

    await cluster.startAll();
    await until('the connection to come back', () => link.isConnected(), 30_000);
    // The stream's replicas elect a leader again: appends may be refused for a moment, never hang.
    await until('an append to be acknowledged again', async () => {
      const t = Date.now();
      try {
        await q.append(Buffer.from('after'));
        return true;
      } catch (err) {
        expect(err).toBeInstanceOf(NatsUnavailableError);
        expect(Date.now() - t).toBeLessThan(7000);
        return false;
      }
    });
    const all = await readAll(q);
    expect(all).toContain('before');
    expect(all).not.toContain('while down');
    expect(all[all.length - 1]).toBe('after');
    await q.advance(all.length);
    expect(q.backlog().entries).toBe(0);
  });
});

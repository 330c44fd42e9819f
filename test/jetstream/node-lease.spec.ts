/**
 * The replay lease on a real nats-server: one holder among contenders, takeover within the
 * bound after the holder's process is SIGKILLed, release, and a holder that cannot renew.
 */
import { join } from 'node:path';
import { NatsLink, NodeLease, openLeaseBucket } from '../../src/modules/jetstream';
import { LineChild } from '../support/line-child';
import { startNatsServer, type NatsServer } from '../support/nats-server';

jest.setTimeout(60_000);

const TTL_MS = 1500;
const CHECK_MS = 200;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Resolves with the time `lease` emitted `event`, or rejects after `ms`. */
function when(lease: NodeLease, event: 'acquired' | 'lost', ms: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no '${event}' within ${ms} ms`)), ms);
    lease.once(event, () => {
      clearTimeout(timer);
      resolve(Date.now());
    });
  });
}

describe('NodeLease on a real nats-server', () => {
  let server: NatsServer;
  const links: NatsLink[] = [];
  const leases: NodeLease[] = [];
  let bucket = 0;

  /** A relay's view: its own connection, the shared bucket, a lease for node `b`. */
  async function relay(id: string, name: string): Promise<NodeLease> {
    const link = await NatsLink.connect({ servers: server.url });
    links.push(link);
    const bucket = await openLeaseBucket(link, { bucket: name, ttlMs: TTL_MS });
    const lease = new NodeLease(bucket, 'b', id, { checkEveryMs: CHECK_MS });
    leases.push(lease);
    return lease;
  }

  beforeAll(async () => {
    server = await startNatsServer();
  });
  afterEach(async () => {
    for (const l of leases.splice(0)) await l.stop().catch(() => undefined);
    for (const l of links.splice(0)) await l.close().catch(() => undefined);
  });
  afterAll(() => server.kill());

  it('two contenders: exactly one holds the lease, and keeps it while it renews', async () => {
    const name = `leases-${++bucket}`;
    const [a, b] = [await relay('relay-a', name), await relay('relay-b', name)];
    const won = await Promise.all([a.acquire(), b.acquire()]);
    expect(won.filter(Boolean)).toHaveLength(1);
    const [winner, loser] = won[0] ? [a, b] : [b, a];
    expect(await loser.holder()).toBe(winner.holderId);
    // Both keep at it for three TTLs: the holder renews, the other never gets in.
    const loserGot = jest.fn();
    loser.on('acquired', loserGot);
    winner.start();
    loser.start();
    await sleep(3 * TTL_MS);
    expect(winner.isHeld()).toBe(true);
    expect(loser.isHeld()).toBe(false);
    expect(loserGot).not.toHaveBeenCalled();
    expect(await a.holder()).toBe(winner.holderId);
  });

  it('when the holder process is SIGKILLed, another relay takes the lease within TTL + check interval', async () => {
    const name = 'hh-leases';
    const child = new LineChild([
      join(__dirname, 'fixtures', 'lease-child.js'),
      server.url,
      'relay-1',
      String(TTL_MS),
    ]);
    try {
      await child.untilLine('held');
      const other = await relay('relay-2', name);
      other.start();
      await sleep(TTL_MS);
      expect(other.isHeld()).toBe(false);
      expect(await other.holder()).toBe('relay-1');
      const killedAt = Date.now();
      await child.kill();
      const takenAt = await when(other, 'acquired', 4 * TTL_MS);
      // The key expires TTL after the dead holder's last renewal (at most TTL before the kill).
      expect(takenAt - killedAt).toBeLessThanOrEqual(TTL_MS + CHECK_MS + 1000);
      expect(await other.holder()).toBe('relay-2');
    } finally {
      await child.kill();
    }
  });

  it('a released lease is taken at the next check, without waiting for the TTL', async () => {
    const name = `leases-${++bucket}`;
    const [a, b] = [await relay('relay-a', name), await relay('relay-b', name)];
    expect(await a.acquire()).toBe(true);
    b.start();
    const releasedAt = Date.now();
    await a.release();
    const takenAt = await when(b, 'acquired', 2 * TTL_MS);
    expect(takenAt - releasedAt).toBeLessThan(TTL_MS);
    expect(await a.holder()).toBe('relay-b');
  });

  it('a holder that cannot renew drops the lease by the end of its TTL', async () => {
    const own = await startNatsServer();
    const link = await NatsLink.connect({ servers: own.url });
    links.push(link);
    const bucket = await openLeaseBucket(link, { ttlMs: TTL_MS });
    const lease = new NodeLease(bucket, 'b', 'relay-a', { checkEveryMs: CHECK_MS });
    leases.push(lease);
    const acquired = when(lease, 'acquired', 5000);
    lease.start();
    await acquired;
    const lost = when(lease, 'lost', 3 * TTL_MS);
    const killedAt = Date.now();
    await own.kill();
    const lostAt = await lost;
    expect(lostAt - killedAt).toBeLessThanOrEqual(TTL_MS + 200);
    expect(lease.isHeld()).toBe(false);
    await expect(lease.holder()).rejects.toThrow(/unavailable/);
  });

  it('refuses a TTL below one second and a renewal interval not below the TTL', async () => {
    const link = await NatsLink.connect({ servers: server.url });
    links.push(link);
    await expect(openLeaseBucket(link, { ttlMs: 500 })).rejects.toThrow(RangeError);
    const leases = await openLeaseBucket(link, { bucket: `leases-${++bucket}`, ttlMs: TTL_MS });
    expect(() => new NodeLease(leases, 'b', 'x', { renewEveryMs: TTL_MS })).toThrow(RangeError);
    expect(() => new NodeLease(leases, '../b', 'x')).toThrow(/node id/);
  });
});

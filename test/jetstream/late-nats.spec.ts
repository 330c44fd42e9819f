/**
 * The JetStream pieces of a relay started while no NATS server answers, on a real nats-server
 * started later on the port they were given: the link keeps connecting and reports the first
 * connection; a queue opens without its stream (no backlog known, appends refused with
 * NatsUnavailableError) and, once NATS answers, opens it and knows the backlog another relay
 * left (or, when the servers cannot reserve it, refuses appends with ERR_JETSTREAM_CONFIG); a
 * lease on a late bucket is not taken before NATS answers and is taken after.
 */
import {
  JetStreamQueue,
  LateLeaseBucket,
  NatsLink,
  NatsUnavailableError,
  NodeLease,
} from '../../src/modules/jetstream';
import { closedPort } from '../support/fake-influx-node';
import { startNatsServer, type NatsServer } from '../support/nats-server';
import { until } from '../support/until';

jest.setTimeout(60_000);

describe('JetStream store pieces started before NATS', () => {
  let port: number;
  let server: NatsServer | undefined;
  const links: NatsLink[] = [];

  beforeEach(async () => {
    port = await closedPort();
  });
  afterEach(async () => {
    await Promise.all(links.splice(0).map((l) => l.close()));
    await server?.kill();
    server = undefined;
  });

  const lateLink = () => {
    const link = NatsLink.connectWhenAvailable({ servers: `nats://127.0.0.1:${port}` });
    links.push(link);
    return link;
  };

  it('a link keeps connecting until a server answers, then says so', async () => {
    const link = lateLink();
    const states: string[] = [];
    link.on('state', (s: string) => states.push(s));
    expect(link.state()).toBe('reconnecting');
    expect(link.server()).toBe('');
    expect(() => link.jsm).toThrow(NatsUnavailableError);
    // Several attempts fail meanwhile (the back-off starts at 250 ms).
    await new Promise((r) => setTimeout(r, 800));
    expect(states).toEqual([]);
    server = await startNatsServer({ port });
    expect(await until(async () => link.isConnected(), 20_000)).toBe(true);
    expect(states).toEqual(['connected']);
    expect(link.server()).toBe(`127.0.0.1:${port}`);
    expect((await link.jsm.getAccountInfo()).streams).toBeGreaterThanOrEqual(0);
  });

  it('a link closed before any server answered stops trying and is closed', async () => {
    const link = lateLink();
    await link.close();
    expect(link.state()).toBe('closed');
    server = await startNatsServer({ port });
    await new Promise((r) => setTimeout(r, 1500));
    expect(link.state()).toBe('closed');
    const connz = (await (await fetch(`${server.monitorUrl}/connz`)).json()) as {
      num_connections: number;
    };
    expect(connz.num_connections).toBe(0);
  });

  it('a queue opens without its stream, refuses appends, then finds the backlog left in it', async () => {
    const link = lateLink();
    const queue = new JetStreamQueue(link, 'late', { maxSize: 1024 * 1024 });
    await queue.open();
    expect(queue.isOpen()).toBe(true);
    expect(queue.backlog().entries).toBe(0);
    await expect(queue.append(Buffer.from('x'))).rejects.toThrow(
      /append on HH_late: not connected to any server/,
    );
    await expect(queue.peek(1024)).rejects.toBeInstanceOf(NatsUnavailableError);

    // Another relay, connected, left two entries in the node's stream.
    server = await startNatsServer({ port });
    const other = await NatsLink.connect({ servers: server.url });
    links.push(other);
    const left = new JetStreamQueue(other, 'late', { maxSize: 1024 * 1024 });
    await left.open();
    await left.append(Buffer.from('first'));
    await left.append(Buffer.from('second'));
    await left.close();

    // Known by the refresh once connected, without any call; then appended behind, in order.
    expect(await until(async () => queue.backlog().entries === 2, 20_000)).toBe(true);
    await queue.append(Buffer.from('third'));
    expect((await queue.peek(1024)).map(String)).toEqual(['first', 'second', 'third']);
    await queue.close();
  });

  it('a stream the servers cannot reserve, found once NATS answers, refuses appends naming HH_MAX_SIZE', async () => {
    const link = lateLink();
    // The test server gives JetStream 1 GB of file store: 2 GiB cannot be reserved.
    const queue = new JetStreamQueue(link, 'huge', { maxSize: 2 * 1024 ** 3 });
    await queue.open();
    server = await startNatsServer({ port });
    expect(await until(async () => link.isConnected(), 20_000)).toBe(true);
    const refused = await queue.append(Buffer.from('x')).catch((err: unknown) => err);
    expect(refused).toMatchObject({ code: 'ERR_JETSTREAM_CONFIG' });
    expect(String(refused)).toMatch(/needs 2147483648 bytes \(HH_MAX_SIZE\)/);
    expect(queue.backlog().entries).toBe(0);
    await queue.close();
  });

  it('a lease on a late bucket is taken only once NATS answers', async () => {
    const link = lateLink();
    let prepared = 0;
    const bucket = new LateLeaseBucket(link, { bucket: `late-${port}`, ttlMs: 2000 }, async () => {
      prepared++;
    });
    const lease = new NodeLease(bucket, 'late', 'relay-1', { checkEveryMs: 100 });
    expect(await lease.acquire()).toBe(false);
    expect(bucket.isOpen()).toBe(false);
    lease.start();
    try {
      server = await startNatsServer({ port });
      // No one opened the bucket explicitly: the lease's own checks do, after `prepare`.
      expect(await until(async () => lease.isHeld(), 20_000)).toBe(true);
      expect(bucket.isOpen()).toBe(true);
      expect(prepared).toBeGreaterThanOrEqual(1);
      expect(await lease.holder()).toBe('relay-1');
    } finally {
      await lease.stop();
    }
  });
});

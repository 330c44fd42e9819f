/**
 * The store and the lease together, as phase-B wiring will use them: a replaying process is
 * SIGKILLed mid-drain, another relay takes the lease and continues from the durable head, so
 * the node gets every entry, in order, with at most the batch in flight sent twice.
 */
import { join } from 'node:path';
import { JetStreamQueue, NatsLink, NodeLease, openLeaseBucket } from '../../src/modules/jetstream';
import { LineChild } from '../support/line-child';
import { startNatsServer, type NatsServer } from '../support/nats-server';

jest.setTimeout(60_000);

const TTL_MS = 1500;
const BATCH = 10;
const ENTRIES = 400;

describe('replay takeover on a real nats-server', () => {
  let server: NatsServer;
  beforeAll(async () => {
    server = await startNatsServer();
  });
  afterAll(() => server.kill());

  it('the next lease holder continues from the durable head, in order, after the holder is SIGKILLed', async () => {
    const link = await NatsLink.connect({ servers: server.url });
    const queue = new JetStreamQueue(link, 'b', { maxSize: 16 * 1024 * 1024 });
    await queue.open();
    const ids = Array.from({ length: ENTRIES }, (_, i) => `e${String(i).padStart(4, '0')}`);
    for (const id of ids) await queue.append(Buffer.from(id));

    const child = new LineChild([
      join(__dirname, 'fixtures', 'replayer-child.js'),
      server.url,
      'relay-1',
      String(TTL_MS),
      String(BATCH),
    ]);
    const lease = new NodeLease(await openLeaseBucket(link, { ttlMs: TTL_MS }), 'b', 'relay-2', {
      checkEveryMs: 100,
    });
    try {
      await child.untilLine('held');
      lease.start();
      const sentByChild = () => child.lines.filter((l) => l.startsWith('sent ')).length;
      await child.until(() => sentByChild() >= 8);
      await child.kill();
      const first = child.lines
        .filter((l) => l.startsWith('sent '))
        .flatMap((l) => l.slice(5).split(' '));
      expect(first.length).toBeLessThan(ENTRIES);

      await new Promise<void>((resolve) => lease.once('acquired', resolve));
      expect(await lease.holder()).toBe('relay-2');
      const second: string[] = [];
      for (;;) {
        const batch = await queue.peek(1024 * 1024, BATCH);
        if (batch.length === 0) break;
        second.push(...batch.map((b) => b.toString()));
        await queue.advance(batch.length);
      }
      // No gap, no reordering: the second holder starts at or before where the first stopped.
      const resumeAt = ids.indexOf(second[0]);
      expect(resumeAt).toBeGreaterThan(0);
      expect(first).toEqual(ids.slice(0, first.length));
      expect(second).toEqual(ids.slice(resumeAt));
      expect(first.length - resumeAt).toBeGreaterThanOrEqual(0);
      expect(first.length - resumeAt).toBeLessThanOrEqual(BATCH);
      expect(queue.backlog().entries).toBe(0);
    } finally {
      await child.kill();
      await lease.stop();
      await queue.close();
      await link.close();
    }
  });
});

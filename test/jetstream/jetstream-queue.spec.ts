import { promises as fsp } from 'node:fs';
/**
 * What the JetStream store adds to the contract, on a real nats-server: max_age expiry counted
 * by the reader, dead letters on their own stream, limits kept in step with the configuration.
 */
import { JetStreamQueue, NatsLink, NatsUnavailableError } from '../../src/modules/jetstream';
import { startNatsServer, type NatsServer } from '../support/nats-server';

jest.setTimeout(30_000);

const MiB = 1024 * 1024;
const texts = (bs: Buffer[]) => bs.map((b) => b.toString());

async function until(what: string, cond: () => boolean, ms = 15_000) {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('JetStreamQueue on a real nats-server', () => {
  let server: NatsServer;
  let link: NatsLink;
  const queues: JetStreamQueue[] = [];
  const queue = async (node: string, options: ConstructorParameters<typeof JetStreamQueue>[2]) => {
    const q = new JetStreamQueue(link, node, { maxSize: MiB, ...options });
    queues.push(q);
    await q.open();
    return q;
  };

  beforeAll(async () => {
    server = await startNatsServer();
    link = await NatsLink.connect({ servers: server.url });
  });
  afterAll(async () => {
    for (const q of queues) await q.close();
    await link.close();
    await server.kill();
  });

  it('max age: the server drops old entries, and the reader counts them', async () => {
    const expired: number[] = [];
    const reader = await queue('aged', {
      maxAgeMs: 1000,
      refreshIntervalMs: 50,
      onExpired: (n) => expired.push(n),
    });
    const writer = await queue('aged', { maxAgeMs: 1000, refreshIntervalMs: 50 });
    expect(await reader.peek(MiB)).toEqual([]);
    for (const s of ['a', 'b', 'c']) await writer.append(Buffer.from(s));
    await until('three entries seen', () => reader.backlog().entries === 3);
    await until('the entries to expire', () => reader.expired() === 3);
    expect(expired.reduce((a, b) => a + b, 0)).toBe(3);
    expect(reader.backlog()).toEqual({ entries: 0, bytes: 0, oldest: null });
    // The writer never read: it follows the head without counting what it did not read.
    await until('the writer to see the expiry', () => writer.backlog().entries === 0);
    expect(writer.expired()).toBe(0);
    await writer.append(Buffer.from('d'));
    expect((await reader.current())!.toString()).toBe('d');
  });

  it('an advance by the reader is not counted as expired by an instance that only appends', async () => {
    const a = await queue('shared', { refreshIntervalMs: 50 });
    const b = await queue('shared', { refreshIntervalMs: 50 });
    await a.append(Buffer.from('1'));
    await a.append(Buffer.from('2'));
    expect(await b.peek(MiB)).toHaveLength(2);
    await b.advance(2);
    await until('a to see the advance', () => a.backlog().entries === 0);
    expect(a.expired()).toBe(0);
    expect(b.expired()).toBe(0);
  });

  it('a reader that stops reading (lease lost) does not count the next holder’s advances', async () => {
    const old = await queue('handover', { refreshIntervalMs: 50 });
    const next = await queue('handover', { refreshIntervalMs: 50 });
    for (const s of ['1', '2', '3']) await old.append(Buffer.from(s));
    expect(await old.peek(MiB, 1)).toHaveLength(1);
    old.stopReading();
    expect(texts(await next.peek(MiB))).toEqual(['1', '2', '3']);
    await next.advance(3);
    await until('the old reader to see the advance', () => old.backlog().entries === 0);
    expect(old.expired()).toBe(0);
    // Had it kept reading, the same movement counts as an expiry (one reader per node).
    const stale = await queue('handover', { refreshIntervalMs: 50 });
    expect(await stale.peek(MiB)).toEqual([]);
    await old.append(Buffer.from('4'));
    await until('the stale reader to see the entry', () => stale.backlog().entries === 1);
    await next.advance(1);
    await until('the stale reader to see the advance', () => stale.expired() === 1);
  });

  it('keeps dead letters on their own stream', async () => {
    const hints = await queue('dl-node', {});
    const dead = await queue('dl-node', { deadLetters: true });
    expect(dead.stream).toBe('HHDL_dl-node');
    await dead.append(Buffer.from('refused'));
    expect(dead.backlog().entries).toBe(1);
    expect(await hints.peek(MiB)).toEqual([]);
    expect((await dead.current())!.toString()).toBe('refused');
  });

  it('brings an existing stream to the configured limits when opened again', async () => {
    const first = await queue('limits', { maxSize: MiB, maxAgeMs: 0 });
    await first.append(Buffer.from('kept'));
    await first.close();
    const again = await queue('limits', { maxSize: 2 * MiB, maxAgeMs: 60_000 });
    const { config } = await link.jsm.streams.info(again.stream);
    expect(config.max_bytes).toBe(2 * MiB);
    expect(config.max_age).toBe(60_000 * 1e6);
    expect(config.discard).toBe('new');
    expect((await again.current())!.toString()).toBe('kept');
  });

  it('an append to a server that stopped answering (SIGSTOP) is refused within its budget, and the store works again once it answers', async () => {
    const frozen = await startNatsServer();
    const own = await NatsLink.connect({ servers: frozen.url });
    const q = new JetStreamQueue(own, 'frozen', { maxSize: MiB, publishTimeoutMs: 1000 });
    try {
      await q.open();
      await q.append(Buffer.from('before'));
      process.kill(frozen.pid!, 'SIGSTOP');
      // kill() only queues the signal: wait until the kernel shows the server stopped, or a
      // publish sent meanwhile is still acknowledged by its running threads.
      await waitStopped(frozen.pid!);
      const started = Date.now();
      await expect(q.append(Buffer.from('lost'))).rejects.toBeInstanceOf(NatsUnavailableError);
      expect(Date.now() - started).toBeLessThan(3000);
      process.kill(frozen.pid!, 'SIGCONT');
      await q.append(Buffer.from('after'));
      // The refused append may have reached the server after all (nothing acknowledged it).
      const all = texts(await q.peek(MiB)).filter((t) => t !== 'lost');
      expect(all).toEqual(['before', 'after']);
    } finally {
      if (frozen.pid) process.kill(frozen.pid, 'SIGCONT');
      await q.close();
      await own.close();
      await frozen.kill();
    }
  });

  it('refuses bad limits and an entry larger than the server takes', async () => {
    expect(() => new JetStreamQueue(link, 'x', { replicas: 2 })).toThrow(/1, 3 or 5/);
    expect(() => new JetStreamQueue(link, 'x', { maxSize: 0 })).toThrow(RangeError);
    const q = await queue('big', {});
    expect(q.maxEntrySize()).toBeLessThan(link.maxPayload());
    await expect(q.append(Buffer.alloc(q.maxEntrySize() + 1))).rejects.toThrow(/does not fit/);
    await q.append(Buffer.alloc(q.maxEntrySize()));
    expect(q.backlog().entries).toBe(1);
  });
});

/** Resolves once /proc says the process is stopped (state T), within 5 s. */
async function waitStopped(pid: number): Promise<void> {
  const until = Date.now() + 5000;
  for (;;) {
    const stat = await fsp.readFile(`/proc/${pid}/stat`, 'utf8');
    // The state follows the parenthesised command name, which may itself hold spaces.
    if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('T')) return;
    if (Date.now() > until) throw new Error(`process ${pid} did not stop: ${stat}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

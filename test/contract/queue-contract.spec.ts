/**
 * The hand-off queue contract, one suite run against every store: DiskBackedQueue in a temp dir,
 * JetStreamQueue on one real nats-server, and on a real 3-server cluster with 3 replicas.
 */
import fc from 'fast-check';
import { JetStreamQueue } from '../../src/modules/jetstream';
import { DiskBackedQueue, QueueFullError } from '../../src/modules/queue';
import type { HandoffQueue } from '../../src/modules/queue/handoff-queue.contract';
import { DiskStore, JetStreamStore, type StoreFactory } from './queue-stores';

// Type-level: both stores satisfy the contract as they are (a compile error otherwise).
const diskIsAQueue = (q: DiskBackedQueue): HandoffQueue => q;
const jetStreamIsAQueue = (q: JetStreamQueue): HandoffQueue => q;

jest.setTimeout(60_000);

const stores: StoreFactory[] = [new DiskStore(), new JetStreamStore(1), new JetStreamStore(3)];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const buf = (s: string) => Buffer.from(s);
const texts = (bs: Buffer[]) => bs.map((b) => b.toString());

describe.each(stores)('hand-off queue contract: $label', (store) => {
  let n = 0;
  /** A fresh queue name per call: tests never see each other's entries. */
  const fresh = () => `q${++n}-${Date.now().toString(36)}`;
  const openNew = async (name = fresh(), maxSize?: number) => {
    const q = store.create(name, { maxSize });
    await q.open();
    return q;
  };

  beforeAll(() => store.setup(), 60_000);
  afterAll(() => store.teardown(), 60_000);

  it('is a HandoffQueue', () => {
    expect(typeof diskIsAQueue).toBe('function');
    expect(typeof jetStreamIsAQueue).toBe('function');
  });

  it('starts empty', async () => {
    const q = await openNew();
    expect(q.isOpen()).toBe(true);
    expect(q.isFailed()).toBe(false);
    expect(q.backlog()).toEqual({ entries: 0, bytes: 0, oldest: null });
    expect(await q.current()).toBeNull();
    expect(await q.peek(1024)).toEqual([]);
  });

  it('reads appended entries in order from the head without consuming them', async () => {
    const q = await openNew();
    const before = Date.now();
    for (const s of ['a', 'bb', 'ccc']) await q.append(buf(s));
    expect(q.backlog().entries).toBe(3);
    expect(q.backlog().bytes).toBe(6);
    expect(q.backlog().oldest!.getTime()).toBeGreaterThanOrEqual(before - 1000);
    expect((await q.current())!.toString()).toBe('a');
    expect(texts(await q.peek(1024))).toEqual(['a', 'bb', 'ccc']);
    expect(texts(await q.peek(1024))).toEqual(['a', 'bb', 'ccc']);
    const entries = await q.peekEntries(1024, 2);
    expect(texts(entries.map((e) => e.payload))).toEqual(['a', 'bb']);
    expect(entries[0].appendedAt).toBeGreaterThanOrEqual(before - 1000);
    expect(q.lastModified().getTime()).toBeGreaterThanOrEqual(before - 1000);
  });

  it('peek honours maxBytes (at least one entry), maxEntries and skip', async () => {
    const q = await openNew();
    for (const s of ['aaaa', 'bbbb', 'cccc', 'dddd', 'eeee']) await q.append(buf(s));
    expect(texts(await q.peek(1))).toEqual(['aaaa']);
    expect(texts(await q.peek(8))).toEqual(['aaaa', 'bbbb']);
    expect(texts(await q.peek(9))).toEqual(['aaaa', 'bbbb']);
    expect(texts(await q.peek(1024, 3))).toEqual(['aaaa', 'bbbb', 'cccc']);
    expect(texts(await q.peek(8, Infinity, 2))).toEqual(['cccc', 'dddd']);
    expect(texts(await q.peek(1024, Infinity, 4))).toEqual(['eeee']);
    expect(await q.peek(1024, Infinity, 5)).toEqual([]);
    await expect(q.peek(1024, 1, -1)).rejects.toThrow(RangeError);
  });

  it('advance moves the head past delivered entries, and no farther than the tail', async () => {
    const q = await openNew();
    for (const s of ['a', 'b', 'c', 'd']) await q.append(buf(s));
    // Pipelined as the replayer does: batch k+1 peeked before batch k is advanced past.
    const k = await q.peek(2, 2);
    const next = await q.peek(2, 2, k.length);
    await q.advance(k.length);
    expect(texts(await q.peek(1024))).toEqual(texts(next));
    expect(q.backlog()).toMatchObject({ entries: 2, bytes: 2 });
    await q.advance(10);
    expect(q.backlog()).toEqual({ entries: 0, bytes: 0, oldest: null });
    expect(await q.current()).toBeNull();
    await q.append(buf('e'));
    expect(texts(await q.peek(1024))).toEqual(['e']);
    await expect(q.advance(1.5)).rejects.toThrow(RangeError);
  });

  it('a reopened queue starts at the durable head', async () => {
    const name = fresh();
    const q = await openNew(name);
    for (const s of ['a', 'b', 'c']) await q.append(buf(s));
    await q.advance(1);
    await q.close();
    expect(q.isOpen()).toBe(false);
    const again = await openNew(name);
    expect(texts(await again.peek(1024))).toEqual(['b', 'c']);
    expect(again.backlog()).toMatchObject({ entries: 2, bytes: 2 });
  });

  it('purgeOlderThan drops the entries appended before the time, and says how many', async () => {
    const q = await openNew();
    for (const s of ['old1', 'old2']) await q.append(buf(s));
    await sleep(30);
    const cut = new Date();
    await sleep(30);
    for (const s of ['new1', 'new2']) await q.append(buf(s));
    const result = await q.purgeOlderThan(cut);
    expect(result).toMatchObject({ entries: 2, bytes: 8 });
    expect(texts(await q.peek(1024))).toEqual(['new1', 'new2']);
    expect(await q.purgeOlderThan(cut)).toMatchObject({ entries: 0, bytes: 0 });
    expect((await q.purgeOlderThan(new Date(8.64e15))).entries).toBe(2);
    expect(q.backlog().entries).toBe(0);
  });

  it('a full queue refuses appends with QueueFullError, keeps nothing of them, and takes appends again once read', async () => {
    const q = await openNew(fresh(), 8 * 1024);
    const entry = Buffer.alloc(200, 7);
    let stored = 0;
    let full: unknown;
    for (let i = 0; i < 200 && !full; i++) {
      try {
        await q.append(entry);
        stored++;
      } catch (err) {
        full = err;
      }
    }
    expect(full).toBeInstanceOf(QueueFullError);
    expect(stored).toBeGreaterThan(10);
    expect(q.backlog().entries).toBe(stored);
    await expect(q.append(entry)).rejects.toBeInstanceOf(QueueFullError);
    expect(q.backlog().entries).toBe(stored);
    await q.advance(stored);
    await q.append(entry);
    expect(q.backlog().entries).toBe(1);
  });

  it('remove deletes a closed queue; an open one is refused', async () => {
    const name = fresh();
    const q = await openNew(name);
    await q.append(buf('x'));
    await expect(q.remove()).rejects.toThrow(/close it|is open/);
    await q.close();
    await q.remove();
    const again = await openNew(name);
    expect(again.backlog().entries).toBe(0);
  });

  it('behaves like an in-memory FIFO under any sequence of operations (model)', async () => {
    type Cmd =
      | { op: 'append'; len: number }
      | { op: 'peek'; maxBytes: number; maxEntries: number; skip: number }
      | { op: 'advance'; n: number }
      | { op: 'current' }
      | { op: 'reopen' };
    const cmd: fc.Arbitrary<Cmd> = fc.oneof(
      { weight: 5, arbitrary: fc.record({ op: fc.constant('append' as const), len: fc.nat(30) }) },
      {
        weight: 3,
        arbitrary: fc.record({
          op: fc.constant('peek' as const),
          maxBytes: fc.nat(80),
          maxEntries: fc.integer({ min: 1, max: 5 }),
          skip: fc.oneof(fc.constant(0), fc.nat(6)),
        }),
      },
      { weight: 3, arbitrary: fc.record({ op: fc.constant('advance' as const), n: fc.nat(4) }) },
      { weight: 1, arbitrary: fc.constant({ op: 'current' as const }) },
      { weight: 1, arbitrary: fc.constant({ op: 'reopen' as const }) },
    );
    let serial = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(cmd, { maxLength: 25 }), async (cmds) => {
        const name = fresh();
        let q = await openNew(name);
        const model: Buffer[] = [];
        for (const c of cmds) {
          if (c.op === 'append') {
            const p = Buffer.alloc(c.len, ++serial & 0xff);
            if (c.len >= 4) p.writeUInt32BE(serial);
            await q.append(p);
            model.push(p);
          } else if (c.op === 'peek') {
            const got = await q.peek(c.maxBytes, c.maxEntries, c.skip);
            const want: Buffer[] = [];
            let bytes = 0;
            for (const p of model.slice(c.skip)) {
              if (want.length >= c.maxEntries) break;
              if (want.length > 0 && bytes + p.length > c.maxBytes) break;
              want.push(p);
              bytes += p.length;
            }
            expect(got).toEqual(want);
          } else if (c.op === 'advance') {
            await q.advance(c.n);
            model.splice(0, c.n);
          } else if (c.op === 'current') {
            expect(await q.current()).toEqual(model[0] ?? null);
          } else {
            await q.close();
            q = await openNew(name);
          }
          const bytes = model.reduce((s, p) => s + p.length, 0);
          expect(q.backlog()).toMatchObject({ entries: model.length, bytes });
        }
        await q.close();
      }),
      { numRuns: 12 },
    );
  });
});

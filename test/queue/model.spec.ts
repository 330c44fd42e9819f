import fc from 'fast-check';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DiskBackedQueue } from '../../src/modules/queue';
import type { FsyncPolicy } from '../../src/config/defaults';

type Cmd =
  | { op: 'append'; len: number }
  | { op: 'current' }
  | { op: 'peek'; maxBytes: number; maxEntries: number; skip: number }
  | { op: 'advance'; n: number }
  | { op: 'reopen' }
  | { op: 'setMaxSegmentSize'; size: number }
  | { op: 'purge'; back: number }
  | { op: 'tick'; ms: number };

const cmd: fc.Arbitrary<Cmd> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      op: fc.constant('append' as const),
      len: fc.integer({ min: 0, max: 40 }),
    }),
  },
  { weight: 2, arbitrary: fc.constant({ op: 'current' as const }) },
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constant('peek' as const),
      maxBytes: fc.integer({ min: 0, max: 120 }),
      maxEntries: fc.integer({ min: 1, max: 6 }),
      // Mostly from the head; sometimes a batch or more ahead, as a pipelined replayer peeks.
      skip: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 12 })),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constant('advance' as const),
      n: fc.integer({ min: 0, max: 5 }),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ op: 'reopen' as const }) },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant('setMaxSegmentSize' as const),
      size: fc.constantFrom(140, 200, 300),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant('purge' as const),
      back: fc.integer({ min: 0, max: 50 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ op: fc.constant('tick' as const), ms: fc.integer({ min: 0, max: 20 }) }),
  },
);

interface ModelEntry {
  payload: Buffer;
  time: number;
}

/** Payloads tell their own number, so a misplaced entry shows which one it was. */
function payload(n: number, len: number): Buffer {
  const b = Buffer.alloc(len, n & 0xff);
  if (len >= 4) b.writeUInt32BE(n, 0);
  return b;
}

async function segmentBytes(dir: string): Promise<number> {
  let total = 0;
  for (const f of await readdir(dir))
    if (f.endsWith('.seg')) total += (await stat(join(dir, f))).size;
  return total;
}

/**
 * Random sequences of operations against a plain array (Vector's disk buffer model test): after
 * every step the queue's answers, backlog and head agree with the model. Small segments make
 * the segment numbers pass 10.
 */
describe('DiskBackedQueue against an array model', () => {
  it('agrees with the model after every step of random append / current / peek (with skip) / advance / reopen / setMaxSegmentSize / purge sequences', async () => {
    const base = await mkdtemp(join(tmpdir(), 'hh-queue-model-'));
    let run = 0;
    let maxSegmentSeen = 0;
    try {
      await fc.assert(
        fc.asyncProperty(
          fc.array(cmd, { minLength: 20, maxLength: 100, size: 'max' }),
          fc.constantFrom<FsyncPolicy>('never', 'interval', 'always'),
          async (cmds, fsync) => {
            const dir = join(base, `run${run++}`);
            let clock = 1_000;
            let counter = 0;
            const model: ModelEntry[] = [];
            let q = new DiskBackedQueue(dir, { maxSegmentSize: 200, fsync, now: () => clock });
            await q.open();
            try {
              for (const c of cmds) {
                switch (c.op) {
                  case 'append': {
                    const p = payload(counter++, c.len);
                    await q.append(p);
                    model.push({ payload: p, time: clock });
                    break;
                  }
                  case 'current':
                    expect(await q.current()).toEqual(model[0]?.payload ?? null);
                    break;
                  case 'peek': {
                    const expected: ModelEntry[] = [];
                    let bytes = 0;
                    for (const e of model.slice(c.skip)) {
                      if (expected.length >= c.maxEntries) break;
                      if (expected.length > 0 && bytes + e.payload.length > c.maxBytes) break;
                      expected.push(e);
                      bytes += e.payload.length;
                    }
                    const got = await q.peekEntries(c.maxBytes, c.maxEntries, c.skip);
                    expect(got.map((e) => e.payload)).toEqual(expected.map((e) => e.payload));
                    expect(got.map((e) => e.appendedAt)).toEqual(expected.map((e) => e.time));
                    break;
                  }
                  case 'advance':
                    await q.advance(c.n);
                    model.splice(0, c.n);
                    break;
                  case 'reopen':
                    await q.close();
                    q = new DiskBackedQueue(dir, { maxSegmentSize: 200, fsync, now: () => clock });
                    await q.open();
                    expect(q.diskUsage()).toBe(await segmentBytes(dir));
                    break;
                  case 'setMaxSegmentSize':
                    q.setMaxSegmentSize(c.size);
                    break;
                  case 'purge': {
                    const t = clock - c.back;
                    let entries = 0;
                    let bytes = 0;
                    while (model.length > 0 && model[0].time < t) {
                      entries++;
                      bytes += model.shift()!.payload.length;
                    }
                    const result = await q.purgeOlderThan(new Date(t));
                    expect({ entries: result.entries, bytes: result.bytes }).toEqual({
                      entries,
                      bytes,
                    });
                    break;
                  }
                  case 'tick':
                    clock += c.ms;
                    break;
                }
                expect(q.backlog()).toEqual({
                  entries: model.length,
                  bytes: model.reduce((n, e) => n + e.payload.length, 0),
                  oldest: model.length > 0 ? new Date(model[0].time) : null,
                });
              }
              const rest = await q.peek(Number.MAX_SAFE_INTEGER);
              expect(rest).toEqual(model.map((e) => e.payload));
              for (const f of await readdir(dir)) {
                if (f.endsWith('.seg'))
                  maxSegmentSeen = Math.max(maxSegmentSeen, Number(f.slice(0, -4)));
              }
            } finally {
              await q.close();
              await rm(dir, { recursive: true, force: true });
            }
          },
        ),
        { numRuns: 60, seed: 1126 },
      );
      expect(maxSegmentSeen).toBeGreaterThan(10);
    } finally {
      await rm(base, { recursive: true, force: true });
    }
  });
});

import fc from 'fast-check';
import { PermanentWriteError, TransientWriteError } from '../../src/modules/replay/errors';
import { sendInLanes, type LaneSender } from '../../src/modules/replay/replay-lanes';

/** An entry is a list of [series, value] points, or a barrier ("B"). */
type Point = [number, number];
const entry = (points: Point[]) => Buffer.from(JSON.stringify(points));
const BARRIER = Buffer.from('"B"');

interface Log {
  /** What reached the node, in arrival order: points and barriers. */
  events: (Point | 'B')[];
  inFlight: number;
  maxInFlight: number;
}

/** Lanes by series; `fail(pieces)` may throw for a lane request, with how many pieces it took. */
function sender(
  log: Log,
  fail: (pieces: Point[][]) => Error | undefined = () => undefined,
): LaneSender<Point[]> {
  return {
    partition(raw, lanes) {
      const parsed = JSON.parse(raw.toString()) as Point[] | 'B';
      if (parsed === 'B') return { barrier: true };
      const byLane = new Map<number, Point[]>();
      for (const p of parsed) {
        const lane = p[0] % lanes;
        byLane.set(lane, [...(byLane.get(lane) ?? []), p]);
      }
      return { pieces: [...byLane].map(([lane, piece]) => ({ lane, piece })) };
    },
    async sendPieces(pieces) {
      log.inFlight++;
      log.maxInFlight = Math.max(log.maxInFlight, log.inFlight);
      await new Promise((r) => setImmediate(r));
      log.inFlight--;
      const err = fail(pieces);
      const taken = err ? ((err as { delivered?: number }).delivered ?? 0) : pieces.length;
      for (const piece of pieces.slice(0, taken)) log.events.push(...piece);
      if (err) throw err;
    },
    async sendBarrier() {
      expect(log.inFlight).toBe(0);
      log.events.push('B');
    },
  };
}

const newLog = (): Log => ({ events: [], inFlight: 0, maxInFlight: 0 });

describe('sendInLanes', () => {
  it('sends the lanes at once, each lane in queue order', async () => {
    const log = newLog();
    const batch = [0, 1, 2].map((k) => entry([0, 1, 2, 3].map((s) => [s, k] as Point)));
    await sendInLanes(batch, 4, sender(log));
    expect(log.maxInFlight).toBe(4);
    for (let s = 0; s < 4; s++) {
      expect(log.events.filter((e) => e !== 'B' && e[0] === s)).toEqual([
        [s, 0],
        [s, 1],
        [s, 2],
      ]);
    }
  });

  it('drains every lane before a barrier and sends nothing after it until it is applied', async () => {
    const log = newLog();
    await sendInLanes(
      [
        entry([
          [0, 1],
          [1, 1],
        ]),
        BARRIER,
        entry([
          [0, 2],
          [1, 2],
        ]),
      ],
      2,
      sender(log),
    );
    const at = log.events.indexOf('B');
    expect(log.events.slice(0, at)).toHaveLength(2);
    expect(log.events.slice(at + 1)).toHaveLength(2);
    expect(log.events.slice(at + 1).every((e) => e !== 'B' && e[1] === 2)).toBe(true);
  });

  it('on a lane failure, counts as delivered only the entries every lane took, keeping the error class', async () => {
    const log = newLog();
    const batch = [0, 1, 2, 3].map((k) =>
      entry([
        [0, k],
        [1, k],
      ]),
    );
    // Lane 1 takes entries 0 and 1, then times out; lane 0 takes everything.
    const err = await sendInLanes(
      batch,
      2,
      sender(log, (pieces) =>
        pieces[0][0][0] === 1 ? new TransientWriteError('lane 1 down', 2) : undefined,
      ),
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransientWriteError);
    expect((err as TransientWriteError).delivered).toBe(2);
  });

  it('prefers a transient failure over a refusal, so a node going away is not dead-lettered', async () => {
    const log = newLog();
    const batch = [
      entry([
        [0, 1],
        [1, 1],
      ]),
    ];
    const err = await sendInLanes(
      batch,
      2,
      sender(log, (pieces) =>
        pieces[0][0][0] === 0 ? new PermanentWriteError('bad') : new TransientWriteError('down'),
      ),
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransientWriteError);
    expect((err as TransientWriteError).delivered).toBe(0);
  });

  it('a barrier that fails reports the entries before it as delivered', async () => {
    const log = newLog();
    const s = sender(log);
    s.sendBarrier = () => Promise.reject(new PermanentWriteError('refused', 0));
    const err = await sendInLanes([entry([[0, 1]]), entry([[1, 1]]), BARRIER], 2, s).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(PermanentWriteError);
    expect((err as PermanentWriteError).delivered).toBe(2);
  });

  it('property: retried from what was acknowledged, every series ends on its last queued value, and nothing past a batch is sent before it is acknowledged', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.oneof(
            fc.constant<'B'>('B'),
            fc.array(fc.tuple(fc.integer({ min: 0, max: 5 }), fc.integer({ min: 0, max: 99 })), {
              minLength: 1,
              maxLength: 4,
            }),
          ),
          { minLength: 1, maxLength: 12 },
        ),
        fc.integer({ min: 1, max: 4 }),
        fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 20, maxLength: 20 }),
        async (queue, lanes, faults) => {
          const log = newLog();
          let call = 0;
          // Each lane request may fail after taking some of its pieces (a fault schedule).
          const s = sender(log, (pieces) => {
            const f = faults[call++ % faults.length];
            return f === 0
              ? new TransientWriteError('x', Math.min(1, pieces.length - 1))
              : undefined;
          });
          const raw = queue.map((e) => (e === 'B' ? BARRIER : entry(e)));
          let head = 0;
          for (let attempt = 0; head < raw.length && attempt < 200; attempt++) {
            const batch = raw.slice(head, head + 3);
            const before = log.events.length;
            try {
              await sendInLanes(batch, lanes, s);
              head += batch.length;
            } catch (err) {
              head += (err as TransientWriteError).delivered;
            }
            // Nothing sent beyond the batch.
            const sent = log.events.slice(before).filter((e) => e !== 'B') as Point[];
            const allowed = new Set(
              batch
                .flatMap((b) => (b === BARRIER ? [] : (JSON.parse(b.toString()) as Point[])))
                .map((p) => p.join(':')),
            );
            expect(sent.every((p) => allowed.has(p.join(':')))).toBe(true);
          }
          if (head < raw.length) return; // the fault schedule never let it through
          const expected = new Map<number, number>();
          for (const e of queue) if (e !== 'B') for (const [k, v] of e) expected.set(k, v);
          const got = new Map<number, number>();
          for (const e of log.events) if (e !== 'B') got.set(e[0], e[1]);
          expect(got).toEqual(expected);
        },
      ),
      { numRuns: 300 },
    );
  });
});

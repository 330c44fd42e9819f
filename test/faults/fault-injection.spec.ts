import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FsyncPolicy } from '../../src/config/defaults';
import { DiskBackedQueue } from '../../src/modules/queue';
import { errno, FaultyFs, type FaultOp } from '../support/faulty-fs';

/**
 * One fault at every step: each file-system call of a workload (appends that roll segments,
 * peeks and advances that pass them, reopens) is in turn answered with an error. The error is
 * lifted at once, the queue healed the way the replayer heals it (reopen when failed or closed),
 * and the workload goes on without a restart. At the end every acknowledged entry has been
 * consumed exactly once, in order: the model. (A truncate only follows a failed write, and the
 * queue renames only a garbage position file: the failed write's cut is tested in
 * test/queue/lessons.spec.ts, the garbage position in test/queue/damage.spec.ts.)
 */

type Fault = { op: FaultOp; code: string };

const FAULTS: Fault[] = [
  { op: 'writev', code: 'ENOSPC' },
  { op: 'writev', code: 'EIO' },
  { op: 'datasync', code: 'EIO' },
  { op: 'datasync', code: 'ENOSPC' },
  { op: 'sync', code: 'EIO' },
  { op: 'open', code: 'EMFILE' },
  { op: 'open', code: 'ENOSPC' },
  { op: 'unlink', code: 'EIO' },
];

/** Most injection points tried per fault and mode (evenly spread over the calls made). */
const MAX_POINTS = 12;

interface Outcome {
  acknowledged: string[];
  consumed: string[];
  faults: number;
  /** Files the queue left open once closed (handles it lost track of in a fault). */
  leftOpen: string[];
}

/** The workload, with `fault` deciding each call; heals after every error. */
async function workload(
  dir: string,
  fsync: FsyncPolicy,
  fs: FaultyFs,
  inject: (op: FaultOp) => Error | undefined,
): Promise<Outcome> {
  const q = new DiskBackedQueue(dir, {
    fs,
    fsync,
    fsyncIntervalMs: 5,
    maxSegmentSize: 256,
    positionSyncEntries: 2,
  });
  const acknowledged: string[] = [];
  const consumed: string[] = [];
  let faults = 0;
  let armed = true;
  fs.fault = (op) => {
    if (!armed) return undefined;
    const err = inject(op);
    if (err) {
      faults++;
      armed = false; // lifted: one fault per run
    }
    return err;
  };
  const heal = async () => {
    if (!q.isOpen() || q.isFailed()) await q.reopen();
  };
  const attempt = async (fn: () => Promise<void>) => {
    try {
      await heal();
      await fn();
    } catch {
      await heal().catch(async () => {
        await heal(); // the fault is lifted: the second attempt opens
      });
    }
  };
  await attempt(() => q.open());
  let n = 0;
  for (let round = 0; round < 8; round++) {
    for (let i = 0; i < 3; i++) {
      const word = `e${String(n++).padStart(3, '0')}-${'x'.repeat(30)}`;
      await attempt(async () => {
        await q.append(Buffer.from(word));
        acknowledged.push(word);
      });
    }
    await attempt(async () => {
      const peeked = (await q.peek(1 << 20, 2)).map((b) => b.toString());
      await q.advance(peeked.length);
      consumed.push(...peeked);
    });
    if (round === 4) await attempt(() => q.reopen());
    // 'interval': let a tick (its fdatasyncs) run among the steps.
    if (fsync === 'interval') await new Promise((r) => setTimeout(r, 6));
  }
  armed = false;
  await heal();
  await q.close();
  await q.open();
  for (;;) {
    const rest = (await q.peek(1 << 20, 100)).map((b) => b.toString());
    if (rest.length === 0) break;
    await q.advance(rest.length);
    consumed.push(...rest);
  }
  await q.close();
  return { acknowledged, consumed, faults, leftOpen: fs.openFiles() };
}

describe('fault injection at every step (append, roll, advance, open)', () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'hh-faults-'));
  });
  afterAll(() => rm(root, { recursive: true, force: true }));

  let run = 0;
  const freshDir = () => join(root, `q${run++}`);

  describe.each<FsyncPolicy>(['always', 'interval'])("fsync '%s'", (fsync) => {
    it.each(FAULTS.map((f) => [`${f.op} ${f.code}`, f] as const))(
      '%s: the queue heals without a restart and every acknowledged entry is consumed once, in order',
      async (_name, fault) => {
        // A dry run counts the calls the workload makes of this kind.
        const counting = new FaultyFs();
        const dry = await workload(freshDir(), fsync, counting, () => undefined);
        expect(dry.consumed).toEqual(dry.acknowledged);
        expect(dry.leftOpen).toEqual([]);
        const calls = counting.log.filter((l) => l.startsWith(`${fault.op} `)).length;
        expect(calls).toBeGreaterThan(0);
        const step = Math.max(1, Math.floor(calls / MAX_POINTS));
        let injected = 0;
        for (let at = 0; at < calls; at += step) {
          let seen = 0;
          const out = await workload(freshDir(), fsync, new FaultyFs(), (op) =>
            op === fault.op && seen++ === at ? errno(fault.code) : undefined,
          );
          injected += out.faults;
          // Entries whose append failed may still be kept (their bytes reached the file): the
          // acknowledged ones are each consumed exactly once, in order, and nothing twice.
          const acked = new Set(out.acknowledged);
          expect(out.consumed.filter((w) => acked.has(w))).toEqual(out.acknowledged);
          expect(new Set(out.consumed).size).toBe(out.consumed.length);
          expect(out.leftOpen).toEqual([]);
        }
        expect(injected).toBeGreaterThan(0);
      },
      60_000,
    );
  });
});

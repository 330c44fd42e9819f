import * as path from 'node:path';
import { DiskBackedQueue } from '../../src/modules/queue/disk-backed-queue';
import { LineChild } from '../support/line-child';
import { makeTempDir, removeDir } from '../support/temp-dir';
import { TestSink } from '../support/test-sink';

const CHILD = path.join(__dirname, 'fixtures', 'replay-child.js');
const N = 3000;
const BATCH_BYTES = 2048;
const lineOf = (i: number) => `crash,seq=${i} value=${i}i`;
const seqOf = (l: string) => Number(/seq=(\d+)/.exec(l)![1]);
const linesOf = (body: Buffer) =>
  body
    .toString()
    .split('\n')
    .filter((l) => l !== '');

describe('a replaying process killed mid-drain', () => {
  let dir: string;
  let sink: TestSink;
  let child: LineChild | undefined;

  beforeEach(async () => {
    dir = await makeTempDir();
    sink = new TestSink();
    await sink.start();
    const q = new DiskBackedQueue(dir, { fsync: 'never' });
    await q.open();
    for (let i = 0; i < N; i++) await q.append(Buffer.from(lineOf(i)));
    await q.close();
  });

  afterEach(async () => {
    await child?.kill();
    await sink.stop();
    await removeDir(dir);
  });

  /** Runs the child until `stop` resolves, then SIGKILLs it; returns the bodies it got through. */
  async function runUntilKilled(stop: () => Promise<void>): Promise<Buffer[]> {
    const before = sink.accepted.length;
    child = new LineChild([CHILD, dir, sink.url, String(BATCH_BYTES)]);
    await child.untilLine('OPEN');
    await stop();
    await child.kill();
    expect(child.lines.filter((l) => l.startsWith('E '))).toEqual([]);
    return sink.accepted.slice(before);
  }

  /** Lines of `later` that were already delivered before: the resend after a crash. */
  function resent(before: Buffer[], later: Buffer[]): string[] {
    const seen = new Set(before.flatMap(linesOf));
    return later.flatMap(linesOf).filter((l) => seen.has(l));
  }

  it('re-sends at most the unacknowledged batch, and every entry arrives in order', async () => {
    // Kill 1: the node took a batch but its answer never came (a batch in flight).
    sink.takeButHangAtLines = 600;
    const hung = sink.waitForHang();
    const round1 = await runUntilKilled(() => hung);
    const unacked1 = linesOf(round1[round1.length - 1]);

    // Kill 2: at whatever moment the sink passes 1800 lines.
    const round2 = await runUntilKilled(() => sink.waitForLines(1800));

    // Restart: drains to the end.
    const before3 = sink.accepted.length;
    child = new LineChild([CHILD, dir, sink.url, String(BATCH_BYTES)]);
    await child.untilLine('DONE');
    await child.exited;
    const round3 = sink.accepted.slice(before3);

    // The resend after kill 1 is exactly the batch whose acknowledgement never came.
    expect(resent(round1, round2)).toEqual(unacked1);
    // After kill 2, at most the last batch the node took before the kill comes again.
    const lastOf2 = linesOf(round2[round2.length - 1]);
    const again = resent(round2, round3);
    expect(again.length).toBeLessThanOrEqual(lastOf2.length);
    for (const l of again) expect(lastOf2).toContain(l);

    // Every entry arrived at least once, and with resends folded away, in queue order.
    const all = sink.lines();
    const firstSeen: number[] = [];
    const seen = new Set<number>();
    for (const l of all) {
      const s = seqOf(l);
      if (!seen.has(s)) {
        seen.add(s);
        firstSeen.push(s);
      }
    }
    expect(firstSeen).toEqual(Array.from({ length: N }, (_, i) => i));
    // Duplicates come only from those two batches.
    expect(all.length - N).toBe(unacked1.length + again.length);
  });
});

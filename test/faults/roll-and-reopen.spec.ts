import type { FsyncPolicy } from '../../src/config/defaults';
import { type SegmentRange } from '../../src/modules/queue';
import { segmentFileName } from '../../src/modules/queue/segment-format';
import { verify } from '../../src/cli/verify-command';
import { buf, drain, QueueFixture } from '../queue/queue-test-helpers';
import { errno, FaultyFs } from '../support/faulty-fs';

const word = (i: number): string => `entry-${String(i).padStart(3, '0')}-${'x'.repeat(20)}`;

/** Faults met by a roll (descriptors or space run out as segment 2 is made) and by a reopen. */
describe('a failed roll and an append during a reopen', () => {
  const fx = new QueueFixture();
  beforeEach(() => fx.setup());
  afterEach(() => fx.teardown());

  const open = async (fs: FaultyFs, fsync: FsyncPolicy, missing: SegmentRange[][]) => {
    // Made through the fixture, which closes it after the test (a test that fails part-way, or
    // ends with the queue open, left its descriptors to the garbage collector).
    const q = fx.create(
      {
        fs,
        fsync,
        fsyncIntervalMs: 5,
        maxSegmentSize: 200,
        onMissingSegments: (m) => missing.push(m),
      },
      'q',
    );
    await q.open();
    return q;
  };

  it.each([
    ['always', 'EMFILE'],
    ['interval', 'EMFILE'],
    ['never', 'ENOSPC'],
  ] as const)(
    '(fsync %s) a successor that cannot be created (%s) reports no lost entries, now or at the next open',
    async (fsync, code) => {
      const fs = new FaultyFs();
      const second = segmentFileName(2);
      let failures = 0;
      fs.fault = (op, file) => {
        if (op !== 'open' || file !== second) return undefined;
        failures++;
        return errno(code);
      };
      const missing: SegmentRange[][] = [];
      const q = await open(fs, fsync, missing);
      const acknowledged: string[] = [];
      let i = 0;
      for (; failures === 0; i++) {
        await q.append(buf(word(i))).then(
          () => acknowledged.push(word(i)),
          () => undefined,
        );
      }
      fs.fault = () => undefined;
      // As the replayer's healer does: a failed (or closed) queue is reopened.
      if (q.isFailed() || !q.isOpen()) await q.reopen();
      for (let k = 0; k < 8; k++, i++) {
        await q.append(buf(word(i)));
        acknowledged.push(word(i));
      }
      expect(missing).toEqual([]);
      await q.close();

      expect((await verify(fx.dir)).missingSegments).toEqual([]);
      const again = await open(fs, fsync, missing);
      expect(missing).toEqual([]);
      expect(again.missingSegments()).toEqual([]);
      expect(await drain(again)).toEqual(acknowledged);
      await again.close();
    },
  );

  it('a seal that cannot be written after the successor was made undoes the roll, and the next append rolls', async () => {
    const fs = new FaultyFs();
    let armed = true;
    let successorMade = false;
    fs.fault = (op, file) => {
      if (op === 'open' && file === segmentFileName(2)) successorMade = true;
      if (armed && successorMade && op === 'writev' && file === segmentFileName(1)) {
        armed = false;
        return errno('ENOSPC');
      }
      return undefined;
    };
    const missing: SegmentRange[][] = [];
    const q = await open(fs, 'always', missing);
    const acknowledged: string[] = [];
    let rejected = 0;
    for (let i = 0; i < 20; i++) {
      await q.append(buf(word(i))).then(
        () => acknowledged.push(word(i)),
        (err: NodeJS.ErrnoException) => {
          expect(err.code).toBe('ENOSPC');
          rejected++;
        },
      );
    }
    expect(rejected).toBe(1);
    expect(q.isFailed()).toBe(false);
    expect((await fx.segmentFiles()).length).toBeGreaterThan(2);
    await q.close();
    const again = await open(fs, 'always', missing);
    expect(missing).toEqual([]);
    expect(await drain(again)).toEqual(acknowledged);
    await again.close();
  });

  it('an append made while a failed queue is being reopened waits for the reopen', async () => {
    const fs = new FaultyFs();
    const missing: SegmentRange[][] = [];
    const q = await open(fs, 'always', missing);
    await q.append(buf('before'));
    fs.fault = (op) => (op === 'writev' || op === 'truncate' ? errno('EIO') : undefined);
    await expect(q.append(buf('lost'))).rejects.toThrow('EIO');
    expect(q.isFailed()).toBe(true);
    fs.fault = () => undefined;

    const reopening = q.reopen();
    const during = q.append(buf('during'));
    await reopening;
    await expect(during).resolves.toBeUndefined();
    expect(await drain(q)).toEqual(['before', 'during']);
  });

  it('an append made during a reopen that fails rejects with the reopen error', async () => {
    const fs = new FaultyFs();
    const missing: SegmentRange[][] = [];
    const q = await open(fs, 'always', missing);
    await q.append(buf('before'));
    fs.fault = (op, file) => (op === 'open' && file.endsWith('.seg') ? errno('EMFILE') : undefined);

    const reopening = q.reopen();
    const during = q.append(buf('during'));
    await expect(reopening).rejects.toThrow('EMFILE');
    await expect(during).rejects.toThrow('EMFILE');
    fs.fault = () => undefined;
    await q.reopen();
    expect(await drain(q)).toEqual(['before']);
  });
});

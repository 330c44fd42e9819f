import { rename } from 'node:fs/promises';
import { QueueFailedError } from '../../src/modules/queue';
import {
  HEADER_SIZE,
  parseSegmentFileName,
  SEAL_SIZE,
  segmentFileName,
} from '../../src/modules/queue/segment-format';
import { errno, FaultyFs, gateSegmentWrites, interceptSegmentWrites } from '../support/faulty-fs';
import { buf, drain, peekAll, QueueFixture } from './queue-test-helpers';

/**
 * Field bugs of the queue this one's design follows (InfluxDB 1.x's hinted-handoff queue, in Go),
 * one regression test each; each test's name says what must hold instead.
 */
describe('lessons from the anchors', () => {
  const fx = new QueueFixture();
  beforeEach(() => fx.setup());
  afterEach(() => fx.teardown());

  describe('lesson 1: an append error surfaces', () => {
    it('rejects the append when the write fails with ENOSPC, keeps earlier data, and goes on once space is back', async () => {
      const fs = new FaultyFs();
      const q = await fx.open({ fs, fsync: 'interval' });
      await q.append(buf('before'));
      fs.fault = (op, file) =>
        op === 'writev' && file.endsWith('.seg') ? errno('ENOSPC') : undefined;
      await expect(q.append(buf('lost'))).rejects.toMatchObject({ code: 'ENOSPC' });
      expect(q.backlog().entries).toBe(1);
      fs.fault = () => undefined;
      await q.append(buf('after'));
      expect(await peekAll(q)).toEqual(['before', 'after']);
      await q.close();
      const again = await fx.open();
      expect(await drain(again)).toEqual(['before', 'after']);
    });

    it('cuts a partly written batch back so no later record sits behind a hole', async () => {
      const fs = new FaultyFs();
      const q = await fx.open({ fs });
      await q.append(buf('first'));
      let calls = 0;
      // A write that lands a few bytes and then fails, as a disk filling up mid-write does.
      interceptSegmentWrites(fs, async (fh, bufs, pos) => {
        if (calls++ === 0) {
          await fh.writev([bufs[0].subarray(0, 7)], pos);
          throw errno('ENOSPC');
        }
        return fh.writev(bufs, pos);
      });
      await q.close();
      await q.open();
      await expect(q.append(buf('torn'))).rejects.toMatchObject({ code: 'ENOSPC' });
      await q.append(buf('second'));
      await q.close();
      const again = await fx.open();
      expect(await drain(again)).toEqual(['first', 'second']);
      expect(again.corruptCount()).toBe(0);
    });

    it('rejects both appends when the first of two writes in flight fails, and cuts the file back to where the first began', async () => {
      const fs = new FaultyFs();
      const setGate = gateSegmentWrites(fs);
      const q = await fx.open({ fs, fsync: 'interval' });
      await q.append(buf('before'));
      const goodSize = q.diskUsage();
      let secondLanded!: () => void;
      const landed = new Promise<void>((r) => (secondLanded = r));
      let firstStarted!: () => void;
      const started = new Promise<void>((r) => (firstStarted = r));
      setGate(async (call, write) => {
        if (call === 0) {
          firstStarted();
          // The second write lands first, past the bytes the first one never writes: a hole.
          await landed;
          throw errno('ENOSPC');
        }
        await write();
        secondLanded();
      });
      const first = q.append(buf('first'));
      await started;
      const second = q.append(buf('second'));
      await expect(first).rejects.toMatchObject({ code: 'ENOSPC' });
      await expect(second).rejects.toMatchObject({ code: 'ENOSPC' });
      expect(q.backlog().entries).toBe(1);
      const { stat } = await import('node:fs/promises');
      expect((await stat(fx.path('q', segmentFileName(1)))).size).toBe(goodSize);
      setGate((_, write) => write());
      await q.append(buf('after'));
      expect(await peekAll(q)).toEqual(['before', 'after']);
      await q.close();
      const again = await fx.open();
      expect(await drain(again)).toEqual(['before', 'after']);
      expect(again.corruptCount()).toBe(0);
    });

    it('resolves the first and rejects the second when the second of two writes in flight fails', async () => {
      const fs = new FaultyFs();
      const setGate = gateSegmentWrites(fs);
      const q = await fx.open({ fs, fsync: 'interval' });
      await q.append(buf('before'));
      let secondFailed!: () => void;
      const failed = new Promise<void>((r) => (secondFailed = r));
      let firstStarted!: () => void;
      const started = new Promise<void>((r) => (firstStarted = r));
      setGate(async (call, write) => {
        if (call === 0) {
          firstStarted();
          await failed;
          await write();
          return;
        }
        secondFailed();
        throw errno('ENOSPC');
      });
      const first = q.append(buf('first'));
      await started;
      const second = q.append(buf('second'));
      await expect(first).resolves.toBeUndefined();
      await expect(second).rejects.toMatchObject({ code: 'ENOSPC' });
      setGate((_, write) => write());
      await q.append(buf('after'));
      await q.close();
      const again = await fx.open();
      expect(await drain(again)).toEqual(['before', 'first', 'after']);
      expect(again.corruptCount()).toBe(0);
    });

    it('rejects a batch written in two parts when its second part fails, and cuts off the first part', async () => {
      const fs = new FaultyFs();
      const setGate = gateSegmentWrites(fs);
      const q = await fx.open({ fs, fsync: 'interval' });
      await q.append(buf('before'));
      // Five 300 KiB entries in one tick: one batch, written as a 1.2 MiB part and a 300 KiB one.
      const big = (i: number) => Buffer.alloc(300 * 1024, i);
      const parts: number[] = [];
      setGate(async (call, write) => {
        parts.push(call);
        if (call === 1) throw errno('ENOSPC');
        await write();
      });
      const appends = [1, 2, 3, 4, 5].map((i) => q.append(big(i)));
      for (const a of appends) await expect(a).rejects.toMatchObject({ code: 'ENOSPC' });
      expect(parts).toEqual([0, 1]);
      setGate((_, write) => write());
      await q.append(buf('after'));
      await q.close();
      const again = await fx.open();
      expect(await drain(again)).toEqual(['before', 'after']);
      expect(again.corruptCount()).toBe(0);
    });

    it('rejects the appends behind a roll whose seal cannot be written, and rolls again later', async () => {
      const fs = new FaultyFs();
      const q = await fx.open({ fs, maxSegmentSize: HEADER_SIZE + 3 + SEAL_SIZE });
      await q.append(buf('one'));
      fs.fault = (op, file) =>
        op === 'writev' && file === segmentFileName(1) ? errno('ENOSPC') : undefined;
      await expect(q.append(buf('two'))).rejects.toMatchObject({ code: 'ENOSPC' });
      fs.fault = () => undefined;
      await q.append(buf('thr'));
      expect(await fx.segmentFiles()).toEqual([segmentFileName(1), segmentFileName(2)]);
      await q.close();
      await q.open();
      expect(await drain(q)).toEqual(['one', 'thr']);
    });

    it("rejects the append when fdatasync fails in 'always' mode and fails the queue until reopen", async () => {
      const fs = new FaultyFs();
      const q = await fx.open({ fs, fsync: 'always' });
      await q.append(buf('kept'));
      fs.fault = (op, file) =>
        op === 'datasync' && file.endsWith('.seg') ? errno('EIO') : undefined;
      await expect(q.append(buf('unsure'))).rejects.toMatchObject({ code: 'EIO' });
      fs.fault = () => undefined;
      await expect(q.append(buf('refused'))).rejects.toBeInstanceOf(QueueFailedError);
      await expect(q.advance()).rejects.toMatchObject({ code: 'ERR_QUEUE_FAILED' });
      await q.close();
      await q.open();
      const entries = await drain(q);
      // The entry whose fsync failed may or may not be there (at-least-once); the earlier one is.
      expect(entries[0]).toBe('kept');
      expect(entries).not.toContain('refused');
    });

    it("fails the queue when the 'interval' fdatasync of a rolled segment fails, so the next append rejects", async () => {
      const fs = new FaultyFs();
      let fired!: () => void;
      const failedSync = new Promise<void>((r) => (fired = r));
      const q = await fx.open({
        fs,
        fsync: 'interval',
        fsyncIntervalMs: 5,
        maxSegmentSize: HEADER_SIZE + 3 + SEAL_SIZE,
      });
      fs.fault = (op, file) => {
        if (op === 'datasync' && file === segmentFileName(1)) {
          fired();
          return errno('EIO');
        }
        return undefined;
      };
      await q.append(buf('one'));
      // 'two' rolls segment 1; its failed sync may be the roll's own (then 'two' rejects) or
      // the next interval tick's (then 'two' resolves), depending on timing: either way the
      // queue is failed and says so.
      const two = await q.append(buf('two')).then(
        () => 'resolved',
        (err: { code?: string }) => err.code,
      );
      expect(['resolved', 'ERR_QUEUE_FAILED']).toContain(two);
      await failedSync;
      await new Promise((r) => setImmediate(r));
      await expect(q.append(buf('thr'))).rejects.toMatchObject({ code: 'ERR_QUEUE_FAILED' });
    });

    it("fails the queue when the 'interval' fdatasync fails, so the next append rejects", async () => {
      const fs = new FaultyFs();
      let fired!: () => void;
      const failedSync = new Promise<void>((r) => (fired = r));
      const q = await fx.open({ fs, fsync: 'interval', fsyncIntervalMs: 5 });
      fs.fault = (op, file) => {
        if (op === 'datasync' && file.endsWith('.seg')) {
          fired();
          return errno('EIO');
        }
        return undefined;
      };
      await q.append(buf('written'));
      await failedSync;
      await new Promise((r) => setImmediate(r));
      await expect(q.append(buf('next'))).rejects.toMatchObject({ code: 'ERR_QUEUE_FAILED' });
    });

    it('rejects the advance when the position cannot be written, and leaves the head where it was', async () => {
      const fs = new FaultyFs();
      const q = await fx.open({ fs, fsync: 'always' });
      await q.append(buf('a'));
      await q.append(buf('b'));
      const pos = q.position();
      fs.fault = (op, file) => (op === 'writev' && file === 'position' ? errno('EIO') : undefined);
      await expect(q.advance()).rejects.toMatchObject({ code: 'EIO' });
      expect(q.position()).toEqual(pos);
      expect(q.backlog().entries).toBe(2);
      fs.fault = () => undefined;
      await q.advance();
      expect(await peekAll(q)).toEqual(['b']);
    });
  });

  it('lesson 2: purging a one-segment queue, then appending, then reading works', async () => {
    let clock = 1_000;
    const q = await fx.open({ now: () => clock });
    await q.append(buf('old 1'));
    await q.append(buf('old 2'));
    clock = 10_000;
    expect(await q.purgeOlderThan(new Date(5_000))).toEqual({ entries: 2, bytes: 10, segments: 0 });
    expect(await q.current()).toBeNull();
    await q.append(buf('fresh'));
    expect((await q.current())?.toString()).toBe('fresh');
    await q.close();
    await q.open();
    expect(await drain(q)).toEqual(['fresh']);
  });

  it('lesson 3: replays segment 10 after segment 9', async () => {
    const q = await fx.open({ maxSegmentSize: HEADER_SIZE + 4 + SEAL_SIZE });
    const all = Array.from({ length: 12 }, (_, i) => `s${String(i + 1).padStart(3, '0')}`);
    for (const s of all) await q.append(buf(s));
    expect((await fx.segmentFiles()).length).toBe(12);
    await q.close();
    await q.open();
    const seen: number[] = [];
    for (const s of all) {
      seen.push(q.position().segment);
      expect((await q.current())?.toString()).toBe(s);
      await q.advance();
    }
    expect(seen).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    expect(parseSegmentFileName(segmentFileName(10))).toBe(10);
    expect(
      [segmentFileName(10), segmentFileName(9)].map(parseSegmentFileName).sort((a, b) => a! - b!),
    ).toEqual([9, 10]);
  });

  it('lesson 4: a purge is not starved by appends in flight', async () => {
    let clock = 1_000;
    const q = await fx.open({ now: () => clock, maxSegmentSize: 300 });
    for (let i = 0; i < 20; i++) await q.append(buf(`old${i}`));
    clock = 9_000;
    const writes = Array.from({ length: 50 }, (_, i) => q.append(buf(`new${i}`)));
    const purged = await q.purgeOlderThan(new Date(5_000));
    await Promise.all(writes);
    expect(purged.entries).toBe(20);
    expect(await drain(q)).toEqual(Array.from({ length: 50 }, (_, i) => `new${i}`));
  });

  it('lesson 5: a torn write at the tail does not stop start-up nor lose the whole records before it', async () => {
    const q = await fx.open();
    for (const s of ['one', 'two', 'three']) await q.append(buf(s));
    await q.close();
    const { truncate } = await import('node:fs/promises');
    await truncate(fx.path('q', segmentFileName(1)), 3 * HEADER_SIZE + 3 + 3 + 2);
    await q.open();
    expect(await peekAll(q)).toEqual(['one', 'two']);
    expect(q.backlog()).toMatchObject({ entries: 2, bytes: 6 });
  });

  it('lesson 6: one unreadable record does not block the queue', async () => {
    const q = await fx.open();
    for (const s of ['good 1', 'bad', 'good 2']) await q.append(buf(s));
    await q.close();
    const { open } = await import('node:fs/promises');
    const fh = await open(fx.path('q', segmentFileName(1)), 'r+');
    // Flip one payload byte of the middle record: its checksum no longer matches.
    await fh.write(Buffer.from('X'), 0, 1, 2 * HEADER_SIZE + 6 + 1);
    await fh.close();
    await q.open();
    expect(await drain(q)).toEqual(['good 1', 'good 2']);
    expect(q.corruptCount()).toBe(1);
  });

  describe('lesson 10: a segment is unlinked only after the position passing it is durable', () => {
    it('fsyncs the position before unlinking the segment it passes', async () => {
      const fs = new FaultyFs();
      const q = await fx.open({ fs, fsync: 'never', maxSegmentSize: HEADER_SIZE + 1 + SEAL_SIZE });
      await q.append(buf('a'));
      await q.append(buf('b'));
      fs.log.length = 0;
      await q.advance();
      // 'never' writes no durable position at a crossing: the segment waits for close (or a tick).
      expect(fs.log).not.toContain(`unlink ${segmentFileName(1)}`);
      await q.close();
      const unlinkAt = fs.log.indexOf(`unlink ${segmentFileName(1)}`);
      const syncAt = fs.log.indexOf('datasync position');
      expect(syncAt).toBeGreaterThanOrEqual(0);
      expect(unlinkAt).toBeGreaterThan(syncAt);
      expect(fs.log.indexOf('writev position')).toBeLessThan(syncAt);
    });

    it('keeps the segment and the head when the position fsync fails', async () => {
      const fs = new FaultyFs();
      // 'always': the advance's own position is durable (see deferred-disposal.spec for the tick's).
      const q = await fx.open({ fs, fsync: 'always', maxSegmentSize: HEADER_SIZE + 1 + SEAL_SIZE });
      await q.append(buf('a'));
      await q.append(buf('b'));
      fs.fault = (op, file) =>
        op === 'datasync' && file === 'position' ? errno('EIO') : undefined;
      await expect(q.advance()).rejects.toMatchObject({ code: 'EIO' });
      expect(await fx.segmentFiles()).toEqual([segmentFileName(1), segmentFileName(2)]);
      expect(q.position().segment).toBe(1);
      expect((await q.current())?.toString()).toBe('a');
    });

    it('finishes an unlink interrupted by a crash on the next open', async () => {
      const q = await fx.open({ maxSegmentSize: HEADER_SIZE + 1 + SEAL_SIZE });
      for (const s of ['a', 'b', 'c']) await q.append(buf(s));
      await q.advance();
      const kept = fx.path('q', 'kept.seg.bak');
      await q.close();
      // Put segment 1 back as if the crash came between the durable position and the unlink.
      const { copyFile } = await import('node:fs/promises');
      await copyFile(fx.path('q', segmentFileName(2)), kept);
      await rename(kept, fx.path('q', segmentFileName(1)));
      await q.open();
      expect(await fx.segmentFiles()).toEqual([segmentFileName(2), segmentFileName(3)]);
      expect(await drain(q)).toEqual(['b', 'c']);
    });
  });
});

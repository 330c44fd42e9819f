import { QueueFullError } from '../../src/modules/queue';
import { HEADER_SIZE, SEAL_SIZE, segmentFileName } from '../../src/modules/queue/segment-format';
import { errno, FaultyFs } from '../support/faulty-fs';
import { buf, drain, QueueFixture, until } from './queue-test-helpers';

/**
 * A segment crossing does not fdatasync the position: the passed segments wait, on disk and
 * counted in diskUsage(), for the next durable position (the tick, an 'always' advance, a purge,
 * close), and only then leave the directory.
 */
describe('passed segments wait for the next durable position', () => {
  const fx = new QueueFixture();
  beforeEach(() => fx.setup());
  afterEach(() => fx.teardown());
  const one = HEADER_SIZE + 1 + SEAL_SIZE;
  const oneEntryPerSegment = { maxSegmentSize: one };
  const positionSyncs = (fs: FaultyFs) => fs.log.filter((l) => l === 'datasync position').length;

  it("drains across segments in 'interval' mode without an fdatasync per segment; close disposes of them after a durable position", async () => {
    const fs = new FaultyFs();
    const q = await fx.open({
      fs,
      fsync: 'interval',
      fsyncIntervalMs: 60_000,
      ...oneEntryPerSegment,
    });
    for (const s of ['a', 'b', 'c', 'd', 'e', 'f']) await q.append(buf(s));
    const usage = q.diskUsage();
    fs.log.length = 0;
    for (let i = 0; i < 5; i++) await q.advance();
    expect(positionSyncs(fs)).toBe(0);
    expect(fs.log.filter((l) => l.startsWith('rename') || l.startsWith('unlink'))).toEqual([]);
    // Still on disk, so still counted.
    expect(await fx.segmentFiles()).toHaveLength(6);
    expect(q.diskUsage()).toBe(usage);
    expect((await q.current())?.toString()).toBe('f');
    await q.close();
    const synced = fs.log.lastIndexOf('datasync position');
    expect(synced).toBeGreaterThanOrEqual(0);
    for (let id = 1; id <= 5; id++) {
      expect(fs.log.indexOf(`rename ${segmentFileName(id)}`)).toBeGreaterThan(synced);
    }
    expect(await fx.segmentFiles()).toEqual([segmentFileName(6)]);
    await q.open();
    expect(await drain(q)).toEqual(['f']);
  });

  it.each(['interval', 'never'] as const)(
    "'%s': the tick makes the position durable and then disposes of the passed segments",
    async (fsync) => {
      const fs = new FaultyFs();
      const q = await fx.open({ fs, fsync, fsyncIntervalMs: 20, ...oneEntryPerSegment });
      for (const s of ['a', 'b', 'c', 'd']) await q.append(buf(s));
      const usage = q.diskUsage();
      await q.advance(3);
      await until(async () => (await fx.segmentFiles()).length === 1, 'the passed segments to go');
      expect(await fx.segmentFiles()).toEqual([segmentFileName(4)]);
      const renamed = fs.log.indexOf(`rename ${segmentFileName(1)}`);
      expect(fs.log.slice(0, renamed)).toContain('datasync position');
      expect(q.diskUsage()).toBeLessThan(usage);
      expect(await drain(q)).toEqual(['d']);
    },
  );

  it("'always': the position is durable before advance() resolves, and the passed segment goes at once", async () => {
    const fs = new FaultyFs();
    const q = await fx.open({ fs, fsync: 'always', ...oneEntryPerSegment });
    for (const s of ['a', 'b', 'c']) await q.append(buf(s));
    fs.log.length = 0;
    await q.advance();
    expect(fs.log.indexOf('datasync position')).toBeGreaterThanOrEqual(0);
    expect(fs.log.indexOf(`rename ${segmentFileName(1)}`)).toBeGreaterThan(
      fs.log.indexOf('datasync position'),
    );
    expect(await fx.segmentFiles()).toEqual([2, 3].map(segmentFileName));
  });

  it('frees a passed segment at once when the queue is within two segments of maxSize: a full queue takes appends again after one advance', async () => {
    const q = await fx.open({
      fsync: 'interval',
      fsyncIntervalMs: 60_000,
      maxSize: 4 * one,
      ...oneEntryPerSegment,
    });
    let appended = 0;
    for (;;) {
      try {
        await q.append(buf(String(appended % 10)));
        appended++;
      } catch (err) {
        expect(err).toBeInstanceOf(QueueFullError);
        break;
      }
    }
    expect(appended).toBeGreaterThan(1);
    await q.advance();
    await expect(q.append(buf('x'))).resolves.toBeUndefined();
    expect(await fx.segmentFiles()).toHaveLength(appended);
  });

  it('keeps the passed segments when the durable position at the tick fails, and loses nothing', async () => {
    const fs = new FaultyFs();
    const q = await fx.open({ fs, fsync: 'interval', fsyncIntervalMs: 20, ...oneEntryPerSegment });
    for (const s of ['a', 'b', 'c']) await q.append(buf(s));
    fs.fault = (op, file) => (op === 'datasync' && file === 'position' ? errno('EIO') : undefined);
    await q.advance(2);
    await until(() => q.isFailed(), 'the tick to fail the queue');
    expect(await fx.segmentFiles()).toEqual([1, 2, 3].map(segmentFileName));
    fs.fault = () => undefined;
    await q.reopen();
    // The head held in memory is resumed (the files still hold it), made durable, then the rest.
    expect(await drain(q)).toEqual(['c']);
    expect(await fx.segmentFiles()).toEqual([segmentFileName(3)]);
  });
});

describe('a purge after passed segments wait', () => {
  const fx = new QueueFixture();
  beforeEach(() => fx.setup());
  afterEach(() => fx.teardown());

  it('counts only the segments it purged, and disposes of the waiting ones with its durable position', async () => {
    let now = 1_000;
    const q = await fx.open({
      fsync: 'interval',
      fsyncIntervalMs: 60_000,
      maxSegmentSize: HEADER_SIZE + 1 + SEAL_SIZE,
      now: () => now,
    });
    for (const s of ['a', 'b', 'c', 'd', 'e']) {
      await q.append(buf(s));
      now += 1_000;
    }
    await q.advance(2);
    expect(await fx.segmentFiles()).toHaveLength(5);
    // Older than 'd' (appended at 4 000): 'c' only.
    expect(await q.purgeOlderThan(new Date(4_000))).toEqual({ entries: 1, bytes: 1, segments: 1 });
    expect(await fx.segmentFiles()).toEqual([4, 5].map(segmentFileName));
    expect(await drain(q)).toEqual(['d', 'e']);
  });
});

import { mkdir, readdir, writeFile } from 'node:fs/promises';
import {
  HEADER_SIZE,
  PASSED_DIR,
  SEAL_SIZE,
  segmentFileName,
} from '../../src/modules/queue/segment-format';
import { errno, FaultyFs } from '../support/faulty-fs';
import { buf, drain, QueueFixture } from './queue-test-helpers';

/** Passed segments: out of the directory at once, unlinked in the background, never left behind. */
describe('disposal of passed segments', () => {
  const fx = new QueueFixture();
  beforeEach(() => fx.setup());
  afterEach(() => fx.teardown());
  const oneEntryPerSegment = { maxSegmentSize: HEADER_SIZE + 1 + SEAL_SIZE };
  const passed = () => readdir(fx.path('q', PASSED_DIR)).catch(() => [] as string[]);

  it('moves a passed segment out of the directory before the advance resolves, and has unlinked it by close', async () => {
    const fs = new FaultyFs();
    // 'always': the advance's position is durable, so the segments go before it resolves.
    const q = await fx.open({ fs, fsync: 'always', ...oneEntryPerSegment });
    for (const s of ['a', 'b', 'c']) await q.append(buf(s));
    fs.log.length = 0;
    await q.advance(2);
    expect(await fx.segmentFiles()).toEqual([segmentFileName(3)]);
    // Renamed only once the position past them was durable; the first unlink already started
    // (the others run one at a time behind it).
    const synced = fs.log.indexOf('datasync position');
    expect(fs.log.indexOf(`rename ${segmentFileName(1)}`)).toBeGreaterThan(synced);
    expect(fs.log).toContain(`unlink ${segmentFileName(1)}`);
    await q.close();
    expect(await passed()).toEqual([]);
    await q.open();
    expect(await drain(q)).toEqual(['c']);
  });

  it('retries a failed unlink at close, and open removes what is still left (as after a crash)', async () => {
    const fs = new FaultyFs();
    const q = await fx.open({ fs, fsync: 'always', ...oneEntryPerSegment });
    for (const s of ['a', 'b']) await q.append(buf(s));
    fs.fault = (op) => (op === 'unlink' ? errno('EIO') : undefined);
    await q.advance();
    expect(await fx.segmentFiles()).toEqual([segmentFileName(2)]);
    expect(await passed()).toEqual([segmentFileName(1)]);
    await expect(q.close()).rejects.toMatchObject({ code: 'EIO' });
    expect(await passed()).toEqual([segmentFileName(1)]);
    fs.fault = () => undefined;
    // A file a crash left between the rename and the unlink.
    await writeFile(fx.path('q', PASSED_DIR, segmentFileName(9)), Buffer.alloc(10));
    await q.open();
    expect(await passed()).toEqual([]);
    expect(await drain(q)).toEqual(['b']);
  });

  it('opens a directory whose passed/ holds a leftover although the queue never ran here', async () => {
    await mkdir(fx.path('q', PASSED_DIR), { recursive: true });
    await writeFile(fx.path('q', PASSED_DIR, segmentFileName(1)), Buffer.alloc(10));
    const q = await fx.open();
    expect(await passed()).toEqual([]);
    await q.append(buf('x'));
    expect(await drain(q)).toEqual(['x']);
  });
});

describe('unlinks of passed segments', () => {
  const fx = new QueueFixture();
  beforeEach(() => fx.setup());
  afterEach(() => fx.teardown());

  it('runs them one at a time: a batch disposed of together does not fill the thread pool', async () => {
    const fs = new FaultyFs();
    let inFlight = 0;
    let most = 0;
    const unlink = fs.unlink.bind(fs);
    fs.unlink = async (path: string) => {
      most = Math.max(most, ++inFlight);
      try {
        await new Promise((r) => setTimeout(r, 5));
        return await unlink(path);
      } finally {
        inFlight--;
      }
    };
    const q = await fx.open({
      fs,
      fsync: 'interval',
      fsyncIntervalMs: 60_000,
      maxSegmentSize: HEADER_SIZE + 1 + SEAL_SIZE,
    });
    for (const s of ['a', 'b', 'c', 'd', 'e']) await q.append(buf(s));
    await q.advance(4);
    await q.close();
    expect(fs.log.filter((l) => l.startsWith('unlink') && l.endsWith('.seg'))).toHaveLength(4);
    expect(most).toBe(1);
    expect(await readdir(fx.path('q', PASSED_DIR))).toEqual([]);
  });
});

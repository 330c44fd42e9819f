import { readdir, readFile, stat } from 'node:fs/promises';
import { QueueLockedError } from '../../src/modules/queue';
import { errno, FaultyFs } from '../support/faulty-fs';
import { buf, drain, QueueFixture, until } from './queue-test-helpers';

/** Opening a queue whose disk is full: nothing open writes is needed to read and drain it. */
describe('open on a full disk', () => {
  const fx = new QueueFixture();
  beforeEach(() => fx.setup());
  afterEach(() => fx.teardown());

  it('holds the lock without its owner line, reads, drains and frees; a second open in this process is still refused', async () => {
    const q = await fx.open({ maxSegmentSize: 256 });
    for (let i = 0; i < 20; i++) await q.append(buf(`entry-${i}-${'x'.repeat(20)}`));
    await q.close();
    const fs = new FaultyFs();
    // The lock file is new: its owner line finds the disk full. The position write at open is
    // refused too (a real disk rewrites the position in place, but open must not need it).
    let opening = true;
    fs.fault = (op, file) =>
      op === 'writev' && (file === 'lock' || (opening && file === 'position'))
        ? errno('ENOSPC')
        : undefined;
    const full = await fx.open({ fs, maxSegmentSize: 256 }, 'q');
    opening = false;
    expect((await stat(fx.path('q', 'lock'))).size).toBe(0);
    await expect(fx.open({ maxSegmentSize: 256 }, 'q')).rejects.toBeInstanceOf(QueueLockedError);
    const segments = (await fx.segmentFiles()).length;
    expect(await drain(full)).toHaveLength(20);
    // Draining unlinks the passed segments (after the tick's durable position): the space a full
    // disk needs.
    await until(async () => (await fx.segmentFiles()).length < segments, 'passed segments to go');
    fs.fault = () => undefined;
    await full.close();
    expect(await readdir(fx.path('q'))).not.toContain('lock');
  });

  it('leaves a torn tail in place when its copy cannot be written, and appends over it', async () => {
    const q = await fx.open();
    await q.append(buf('whole'));
    await q.close();
    const { appendFile } = await import('node:fs/promises');
    await appendFile(fx.path('q', '00000000000000000001.seg'), Buffer.from('HHR2 torn bytes'));
    const fs = new FaultyFs();
    fs.fault = (op, file) =>
      op === 'writev' && file.endsWith('.torn') ? errno('ENOSPC') : undefined;
    const full = await fx.open({ fs }, 'q');
    expect(await readdir(fx.path('q', 'corrupt')).catch(() => [])).toEqual([]);
    await full.append(buf('after'));
    await full.close();
    const again = await fx.open({}, 'q');
    expect(await drain(again)).toEqual(['whole', 'after']);
    expect((await readFile(fx.path('q', '00000000000000000001.seg'))).includes('torn')).toBe(false);
  });
});

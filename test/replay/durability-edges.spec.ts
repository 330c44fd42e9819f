import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { DiskBackedQueue } from '../../src/modules/queue/disk-backed-queue';
import { DeadLetterQueue } from '../../src/modules/replay/dead-letter-queue';
import { FaultyFs } from '../support/faulty-fs';
import { makeTempDir, removeDir } from '../support/temp-dir';

/** Records each queue's file-system calls in one list, tagged by queue. */
function tagged(shared: string[], tag: string): FaultyFs {
  const fs = new FaultyFs();
  fs.fault = (op, file) => {
    shared.push(`${tag} ${op} ${file}`);
    return undefined;
  };
  return fs;
}

describe('durability edges', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await makeTempDir();
  });
  afterEach(() => removeDir(dir));

  it("requeue in 'interval' mode makes the target's appends durable before the dead-letter queue forgets them", async () => {
    const calls: string[] = [];
    // A tick far away: without an explicit sync the appends would sit in the page cache.
    const target = new DiskBackedQueue(join(dir, 'node'), {
      fsync: 'interval',
      fsyncIntervalMs: 600_000,
      fs: tagged(calls, 'target'),
    });
    const dlq = new DeadLetterQueue(join(dir, 'node'), {
      fsync: 'always',
      fs: tagged(calls, 'dlq'),
    });
    await target.open();
    await dlq.open();
    for (const l of ['a', 'b', 'c']) await dlq.add(Buffer.from(l), 1, 'refused', 400);
    calls.length = 0;
    expect(await dlq.requeue(target)).toBe(3);
    const targetSync = calls.indexOf('target datasync 00000000000000000001.seg');
    const dlqAdvance = calls.lastIndexOf('dlq datasync position');
    expect(targetSync).toBeGreaterThanOrEqual(0);
    expect(dlqAdvance).toBeGreaterThan(targetSync);
    await dlq.close();
    await target.close();
  });

  it('syncs the directory of a corrupt/ copy before the torn segment is cut, and the parent of a new queue directory', async () => {
    const calls: string[] = [];
    const q = new DiskBackedQueue(join(dir, 'nested', 'q'), { fs: tagged(calls, 'q') });
    await q.open();
    // The new queue directory's entry in its parent is made durable.
    expect(calls).toContain('q open nested');
    expect(calls.indexOf('q sync nested')).toBeGreaterThan(calls.indexOf('q open nested'));
    await q.append(Buffer.from('whole'));
    await q.close();
    const { appendFile } = await import('node:fs/promises');
    await appendFile(
      join(dir, 'nested', 'q', '00000000000000000001.seg'),
      Buffer.from('HHR2 torn'),
    );
    calls.length = 0;
    await q.open();
    const dirSync = calls.indexOf('q sync corrupt');
    const cut = calls.indexOf('q truncate 00000000000000000001.seg');
    expect(calls.indexOf('q sync 1-29.torn')).toBeGreaterThanOrEqual(0);
    expect(dirSync).toBeGreaterThan(calls.indexOf('q sync 1-29.torn'));
    expect(cut).toBeGreaterThan(dirSync);
    expect(await readdir(join(dir, 'nested', 'q', 'corrupt'))).toEqual(['1-29.torn']);
    await q.close();
  });
});

import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { DiskBackedQueue, QueueFullError, type QueueFileSystem } from '../../src/modules/queue';
import { errno, FaultyFs, interceptSegmentWrites } from '../support/faulty-fs';

const run = promisify(execFile);
const DISK = 256 * 1024;

/**
 * A real full disk: a 256 KiB tmpfs where the machine lets us mount one (root in a container
 * usually may); elsewhere the injected fs layer plays the full disk, failing segment writes with
 * ENOSPC once the segment files would pass the same size.
 */
async function fullDisk(
  base: string,
): Promise<{ dir: string; fs?: QueueFileSystem; release: () => Promise<void>; real: boolean }> {
  const mnt = join(base, 'mnt');
  await mkdir(mnt);
  try {
    await run('mount', ['-t', 'tmpfs', '-o', `size=${DISK}`, 'tmpfs', mnt]);
    return {
      dir: join(mnt, 'q'),
      real: true,
      release: async () => void (await run('umount', [mnt])),
    };
  } catch {
    const fs = new FaultyFs();
    let used = 0;
    interceptSegmentWrites(fs, async (fh, bufs, pos) => {
      const n = bufs.reduce((a, b) => a + b.length, 0);
      if (used + n > DISK) throw errno('ENOSPC');
      used += n;
      return fh.writev(bufs, pos);
    });
    return { dir: join(mnt, 'q'), fs, real: false, release: async () => undefined };
  }
}

describe('a full disk', () => {
  let base = '';
  beforeEach(async () => {
    base = await mkdtemp(join(tmpdir(), 'hh-queue-full-'));
  });
  afterEach(() => rm(base, { recursive: true, force: true }));

  it('rejects the append with ENOSPC (not QueueFullError), keeps earlier data, and accepts appends again once space is freed', async () => {
    const disk = await fullDisk(base);
    try {
      const q = new DiskBackedQueue(disk.dir, {
        fs: disk.fs,
        fsync: 'always',
        maxSegmentSize: 32 * 1024,
      });
      await q.open();
      const entry = (i: number) => Buffer.alloc(1024, i & 0xff);
      let acked = 0;
      let error: unknown = null;
      while (error === null && acked < 10_000) {
        await q.append(entry(acked)).then(
          () => acked++,
          (e: unknown) => (error = e),
        );
      }
      expect(error).toMatchObject({ code: 'ENOSPC' });
      expect(error).not.toBeInstanceOf(QueueFullError);
      expect(acked).toBeGreaterThan(100);
      expect(q.backlog().entries).toBe(acked);
      await expect(q.append(entry(acked))).rejects.toMatchObject({ code: 'ENOSPC' });

      // Replay half: passed segments are unlinked, which frees space for new appends.
      const half = Math.floor(acked / 2);
      await q.advance(half);
      await q.append(entry(acked));
      await q.close();

      await q.open();
      const rest = await q.peek(Number.MAX_SAFE_INTEGER);
      expect(rest).toHaveLength(acked - half + 1);
      rest.forEach((b, i) => expect(b.equals(entry(half + i))).toBe(true));
      expect(q.corruptCount()).toBe(0);
      await q.close();
    } finally {
      await disk.release();
    }
  });
});

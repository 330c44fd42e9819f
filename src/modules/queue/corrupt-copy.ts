import { join } from 'node:path';
import { mkdirDurable, syncDir, writeAll, type QueueFileSystem } from './queue-fs';
import { CORRUPT_DIR } from './segment-format';
import { type SegmentReader } from './segment-reader';

const COPY_CHUNK = 1024 * 1024;

/** Where the bytes of `segment` from `offset` are kept: corrupt/<segment>-<offset>.<ext>. */
export function corruptCopyPath(dir: string, segment: number, offset: number, ext: string): string {
  return join(dir, CORRUPT_DIR, `${segment}-${offset}.${ext}`);
}

/**
 * Copies `bytes` bytes of a segment from `offset` to its corrupt/ copy, in bounded chunks, durably:
 * the file and its directory entry are synced before this resolves, because the segment holding
 * the original is cut or unlinked later. Returns the copy's path.
 */
export async function copyToCorrupt(
  fs: QueueFileSystem,
  dir: string,
  reader: SegmentReader,
  segment: number,
  offset: number,
  bytes: number,
  ext: string,
): Promise<string> {
  const path = corruptCopyPath(dir, segment, offset, ext);
  await mkdirDurable(fs, join(dir, CORRUPT_DIR));
  const out = await fs.open(path, 'w');
  try {
    for (let done = 0; done < bytes;) {
      const chunk = await reader.readBytes(offset + done, Math.min(COPY_CHUNK, bytes - done));
      if (chunk.length === 0) break;
      await writeAll(out, [chunk], done);
      done += chunk.length;
    }
    await out.sync();
  } finally {
    await out.close();
  }
  await syncDir(fs, join(dir, CORRUPT_DIR));
  return path;
}

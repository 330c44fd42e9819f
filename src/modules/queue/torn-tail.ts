import type { QueueFileHandle } from './queue-fs';
import { decodeHeaderInto, GROUP_BYTES, HEADER_SIZE, newHeader } from './segment-format';

/** What ends a segment past its last whole record. */
export type CutKind =
  /** A write cut short by a crash: the queue cuts it off without alarm. */
  | 'torn'
  /** A complete record whose bytes are wrong: reported like any other damage. */
  | 'damaged';

/** Bytes at the end of the file checked for zeros: a lost page reads back as whole zero sectors. */
const ZERO_TAIL = 512;

/**
 * Tells a torn write from a damaged last group, for the bytes of `fh` from `validEnd` (the end
 * of the last whole group of records) to `size`. A torn write is what a crash leaves of an append
 * in flight: fewer bytes than a header, a group whose headers run past the end of the file (the
 * rest was never written), or a zero-filled end (pages that never reached the disk read back as
 * zeros). Anything else is a group that was written whole and is wrong now (bad magic, kind or
 * checksum with its bytes all there): damage, which must not vanish silently.
 */
export async function classifyCut(
  fh: QueueFileHandle,
  validEnd: number,
  size: number,
): Promise<CutKind> {
  const length = size - validEnd;
  if (length < HEADER_SIZE) return 'torn';
  const end = Buffer.alloc(Math.min(ZERO_TAIL, length));
  await fh.read(end, 0, end.length, size - end.length);
  if (end.every((b) => b === 0)) return 'torn';
  // A group spans at most GROUP_BYTES, or one record whose header says how long it is.
  const head = Buffer.alloc(Math.min(length, GROUP_BYTES + HEADER_SIZE));
  const { bytesRead } = await fh.read(head, 0, head.length, validEnd);
  return groupRunsPastEnd(head.subarray(0, bytesRead), length) ? 'torn' : 'damaged';
}

/** Whether the headers of the group at the start of `bytes` announce more than `length` bytes. */
function groupRunsPastEnd(bytes: Buffer, length: number): boolean {
  const h = newHeader();
  let count = 1;
  let p = 0;
  for (let i = 0; i < count; i++) {
    if (p + HEADER_SIZE > length) return true;
    if (p + HEADER_SIZE > bytes.length) return false;
    const header = decodeHeaderInto(bytes, p, h);
    if (typeof header === 'string') return false;
    if (i === 0) count = header.count;
    p += HEADER_SIZE + header.length;
    if (p > length) return true;
  }
  return false;
}

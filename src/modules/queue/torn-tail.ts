import type { QueueFileHandle } from './queue-fs';
import { decodeHeader, HEADER_SIZE, recordSize } from './segment-format';

/** What ends a segment past its last whole record. */
export type CutKind =
  /** A write cut short by a crash: the queue cuts it off without alarm. */
  | 'torn'
  /** A complete record whose bytes are wrong: reported like any other damage. */
  | 'damaged';

/** Bytes at the end of the file checked for zeros: a lost page reads back as whole zero sectors. */
const ZERO_TAIL = 512;

/**
 * Tells a torn write from a damaged last record, for the bytes of `fh` from `validEnd` (the end
 * of the last whole record) to `size`. A torn write is what a crash leaves of an append in
 * flight: fewer bytes than a header, a header whose length runs past the end of the file (the
 * rest was never written), or a zero-filled end (pages that never reached the disk read back as
 * zeros). Anything else is a record that was written whole and is wrong now (bad magic, kind or
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
  const head = Buffer.alloc(HEADER_SIZE);
  await fh.read(head, 0, HEADER_SIZE, validEnd);
  const header = decodeHeader(head, 0);
  if (typeof header !== 'string' && recordSize(header.length) > length) return 'torn';
  return 'damaged';
}

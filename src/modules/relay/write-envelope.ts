import { BadEnvelopeError } from './errors';
import { PRECISIONS, type ContentEncoding, type Precision, type WriteTarget } from './write-target';

/**
 * The relay's on-disk form of one handed-off write: what a node needs to apply it later.
 * Credentials are never stored: a hand-off holds data, not secrets.
 *
 * ```
 *  0         1          2           3        5         5+d      7+d        7+d+r
 *  +---------+----------+-----------+--------+---------+--------+----------+-----------+
 *  | version | encoding | precision | db len |   db    | rp len |    rp    |   body    |
 *  |  0x01   | 0 id,    | 0 default | u16 BE | d bytes | u16 BE | r bytes  | the rest, |
 *  |         | 1 gzip   | 1..7      |        | UTF-8   |        | UTF-8    | as sent   |
 *  +---------+----------+-----------+--------+---------+--------+----------+-----------+
 * ```
 * The body is the client's bytes as received (still gzipped when it came gzipped), so a
 * hand-off costs one copy and no compression work on the write path.
 */
export const ENVELOPE_VERSION = 1;
const FIXED_HEADER = 3;
const MAX_NAME_BYTES = 0xffff;

/** Index = precision code on disk; 0 is "no precision given". */
const PRECISION_CODES: readonly (Precision | '')[] = ['', ...PRECISIONS];
const ENCODING_CODES: readonly ContentEncoding[] = ['identity', 'gzip'];

export interface WriteEnvelope extends WriteTarget {
  encoding: ContentEncoding;
  body: Buffer;
}

/**
 * The database and retention policy names as UTF-8, each stored behind a u16 length (write and
 * statement envelopes alike): refused when one does not fit.
 */
export function encodeTargetNames(db: string, rp: string): { db: Buffer; rp: Buffer } {
  const names = { db: Buffer.from(db, 'utf8'), rp: Buffer.from(rp, 'utf8') };
  if (names.db.length > MAX_NAME_BYTES || names.rp.length > MAX_NAME_BYTES) {
    throw new BadEnvelopeError(
      `database or retention policy name longer than ${MAX_NAME_BYTES} bytes`,
    );
  }
  return names;
}

export function encodeEnvelope(envelope: WriteEnvelope): Buffer {
  if (envelope.db.length === 0) throw new BadEnvelopeError('envelope needs a database name');
  const { db, rp } = encodeTargetNames(envelope.db, envelope.rp);
  const precision = PRECISION_CODES.indexOf(envelope.precision);
  if (precision < 0)
    throw new BadEnvelopeError(`unknown precision ${JSON.stringify(envelope.precision)}`);
  const encoding = ENCODING_CODES.indexOf(envelope.encoding);
  if (encoding < 0)
    throw new BadEnvelopeError(`unknown encoding ${JSON.stringify(envelope.encoding)}`);

  const header = Buffer.allocUnsafe(FIXED_HEADER + 2 + db.length + 2 + rp.length);
  let at = header.writeUInt8(ENVELOPE_VERSION, 0);
  at = header.writeUInt8(encoding, at);
  at = header.writeUInt8(precision, at);
  at = header.writeUInt16BE(db.length, at);
  at += db.copy(header, at);
  at = header.writeUInt16BE(rp.length, at);
  rp.copy(header, at);
  return Buffer.concat([header, envelope.body], header.length + envelope.body.length);
}

/** Reads an envelope; the body is a view on `bytes`, not a copy. */
export function decodeEnvelope(bytes: Buffer): WriteEnvelope {
  if (bytes.length < FIXED_HEADER + 2) {
    throw new BadEnvelopeError(`envelope of ${bytes.length} bytes is shorter than its header`);
  }
  const version = bytes.readUInt8(0);
  if (version !== ENVELOPE_VERSION)
    throw new BadEnvelopeError(`unknown envelope version ${version}`);
  const encoding = ENCODING_CODES[bytes.readUInt8(1)];
  if (encoding === undefined)
    throw new BadEnvelopeError(`unknown encoding code ${bytes.readUInt8(1)}`);
  const precision = PRECISION_CODES[bytes.readUInt8(2)];
  if (precision === undefined)
    throw new BadEnvelopeError(`unknown precision code ${bytes.readUInt8(2)}`);

  let at = FIXED_HEADER;
  const dbLength = bytes.readUInt16BE(at);
  at += 2;
  if (dbLength === 0) throw new BadEnvelopeError('envelope has an empty database name');
  if (at + dbLength + 2 > bytes.length)
    throw new BadEnvelopeError('envelope truncated in the database name');
  const db = bytes.toString('utf8', at, at + dbLength);
  at += dbLength;
  const rpLength = bytes.readUInt16BE(at);
  at += 2;
  if (at + rpLength > bytes.length)
    throw new BadEnvelopeError('envelope truncated in the retention policy');
  const rp = bytes.toString('utf8', at, at + rpLength);
  at += rpLength;
  return { db, rp, precision, encoding, body: bytes.subarray(at) };
}

import { BadEnvelopeError } from './errors';
import {
  decodeEnvelope,
  encodeTargetNames,
  ENVELOPE_VERSION,
  type WriteEnvelope,
} from './write-envelope';

/**
 * The relay's on-disk form of one handed-off state-changing query (`CREATE DATABASE`, `DROP …`,
 * `SELECT … INTO`, …): what a node needs to apply it later through `POST /query`. It shares the
 * node's queue with the write envelopes, in order, and is told apart by its first byte.
 * Credentials are never stored.
 *
 * ```
 *  0         1        3         3+d      5+d       5+d+r       9+d+r       9+d+r+p
 *  +---------+--------+---------+--------+---------+-----------+-----------+-----------+
 *  | kind    | db len |   db    | rp len |   rp    | params len|  params   |   query   |
 *  |  0x02   | u16 BE | d bytes | u16 BE | r bytes |  u32 BE   |  p bytes  | the rest, |
 *  |         |        | UTF-8   |        | UTF-8   |           | UTF-8 JSON| UTF-8     |
 *  +---------+--------+---------+--------+---------+-----------+-----------+-----------+
 * ```
 * `db` and `rp` may be empty (`CREATE DATABASE x` needs neither); `params` is the client's
 * bound-parameter JSON, empty when none.
 */
export const STATEMENT_ENVELOPE_KIND = 2;

export interface StatementEnvelope {
  /** The whole query as the client sent it (one or several statements). */
  q: string;
  db: string;
  rp: string;
  params: string;
}

export function encodeStatementEnvelope(envelope: StatementEnvelope): Buffer {
  const params = Buffer.from(envelope.params, 'utf8');
  const q = Buffer.from(envelope.q, 'utf8');
  if (q.length === 0) throw new BadEnvelopeError('statement envelope needs a query');
  const { db, rp } = encodeTargetNames(envelope.db, envelope.rp);
  const header = Buffer.allocUnsafe(1 + 2 + db.length + 2 + rp.length + 4);
  let at = header.writeUInt8(STATEMENT_ENVELOPE_KIND, 0);
  at = header.writeUInt16BE(db.length, at);
  at += db.copy(header, at);
  at = header.writeUInt16BE(rp.length, at);
  at += rp.copy(header, at);
  header.writeUInt32BE(params.length, at);
  return Buffer.concat([header, params, q]);
}

export function decodeStatementEnvelope(bytes: Buffer): StatementEnvelope {
  const truncated = (what: string) =>
    new BadEnvelopeError(`statement envelope truncated in the ${what}`);
  if (bytes.length < 1 || bytes.readUInt8(0) !== STATEMENT_ENVELOPE_KIND) {
    throw new BadEnvelopeError('not a statement envelope');
  }
  let at = 1;
  const field = (lengthBytes: 2 | 4, what: string): string => {
    if (at + lengthBytes > bytes.length) throw truncated(what);
    const length = lengthBytes === 2 ? bytes.readUInt16BE(at) : bytes.readUInt32BE(at);
    at += lengthBytes;
    if (at + length > bytes.length) throw truncated(what);
    const text = bytes.toString('utf8', at, at + length);
    at += length;
    return text;
  };
  const db = field(2, 'database name');
  const rp = field(2, 'retention policy');
  const params = field(4, 'parameters');
  const q = bytes.toString('utf8', at);
  if (q.length === 0) throw new BadEnvelopeError('statement envelope has an empty query');
  return { q, db, rp, params };
}

/** One queue entry of the relay: a handed-off write or a handed-off statement. */
export type RelayEntry =
  ({ kind: 'write' } & WriteEnvelope) | ({ kind: 'statement' } & StatementEnvelope);

/**
 * Decodes any relay queue entry (what `hh dump`, dead-letter listings and the replay read):
 * a write envelope or a statement envelope, told apart by the first byte. Throws
 * BadEnvelopeError for anything else.
 */
export function decodeRelayEntry(bytes: Buffer): RelayEntry {
  if (bytes.length > 0 && bytes.readUInt8(0) === STATEMENT_ENVELOPE_KIND) {
    return { kind: 'statement', ...decodeStatementEnvelope(bytes) };
  }
  if (bytes.length > 0 && bytes.readUInt8(0) !== ENVELOPE_VERSION) {
    throw new BadEnvelopeError(`unknown envelope kind ${bytes.readUInt8(0)}`);
  }
  return { kind: 'write', ...decodeEnvelope(bytes) };
}

/** A one-line description of an entry for operators: never the write's data. */
export function describeRelayEntry(entry: RelayEntry): string {
  if (entry.kind === 'statement') {
    const on = entry.db ? ` (db ${JSON.stringify(entry.db)})` : '';
    return `statement ${JSON.stringify(entry.q)}${on}`;
  }
  const rp = entry.rp ? `, rp ${JSON.stringify(entry.rp)}` : '';
  return `write of ${entry.body.length} bytes to db ${JSON.stringify(entry.db)}${rp}`;
}

import { gunzipSync } from 'node:zlib';
import { decodeRelayEntry } from '../modules/relay/statement-envelope';
import type { ContentEncoding, Precision } from '../modules/relay/write-target';

/** Where a relay hand-off goes: the `/write` parameters it is replayed with. */
export interface StoredWriteTarget {
  db: string;
  rp: string;
  precision: Precision | '';
  encoding: ContentEncoding;
}

/** Where a handed-off statement runs: the `/query` parameters it is replayed with. */
export interface StoredStatementTarget {
  db: string;
  rp: string;
}

/**
 * A queue entry as the CLI shows it: the relay's write target or statement (when it is one of
 * the relay's entries) and the body (the line protocol, or the query text).
 */
export interface StoredWrite {
  target?: StoredWriteTarget;
  statement?: StoredStatementTarget;
  body: Buffer;
}

/**
 * Reads a queue entry. The relay stores each hand-off as a write envelope (target, then the
 * body as the client sent it) or a statement envelope (a state-changing query); both are
 * decoded with the relay's own decoder, and a gzip body is inflated for reading. Anything
 * else — a library user's own payloads — is shown as stored.
 */
export function readStoredWrite(payload: Buffer): StoredWrite {
  let envelope;
  try {
    envelope = decodeRelayEntry(payload);
  } catch {
    return { body: payload };
  }
  if (envelope.kind === 'statement') {
    return { statement: { db: envelope.db, rp: envelope.rp }, body: Buffer.from(envelope.q) };
  }
  const { db, rp, precision, encoding } = envelope;
  let body = envelope.body;
  if (encoding === 'gzip') {
    try {
      // Synchronous is fine in a one-shot command; the relay caps what it stores anyway.
      body = gunzipSync(body);
    } catch {
      // A damaged gzip body is shown as stored; --hex gives its bytes.
    }
  }
  return { target: { db, rp, precision, encoding }, body };
}

/** `statement db=mydb`: what the node's `/query` will be asked (the query is the body). */
export function describeStatement(statement: StoredStatementTarget): string {
  const parts = ['statement'];
  if (statement.db) parts.push(`db=${statement.db}`);
  if (statement.rp) parts.push(`rp=${statement.rp}`);
  return parts.join(' ');
}

/** `db=mydb rp=autogen precision=s gzip`: what the node's `/write` will be asked. */
export function describeTarget(target: StoredWriteTarget): string {
  const parts = [`db=${target.db}`];
  if (target.rp) parts.push(`rp=${target.rp}`);
  if (target.precision) parts.push(`precision=${target.precision}`);
  if (target.encoding !== 'identity') parts.push(`(${target.encoding})`);
  return parts.join(' ');
}

import { gunzipSync } from 'node:zlib';
import { decodeEnvelope } from '../modules/relay/write-envelope';
import type { ContentEncoding, Precision } from '../modules/relay/write-target';

/** Where a relay hand-off goes: the `/write` parameters it is replayed with. */
export interface StoredWriteTarget {
  db: string;
  rp: string;
  precision: Precision | '';
  encoding: ContentEncoding;
}

/** A queue entry as the CLI shows it: the relay's target (when it is one) and the body. */
export interface StoredWrite {
  target?: StoredWriteTarget;
  body: Buffer;
}

/**
 * Reads a queue entry. The relay stores each hand-off as a write envelope (target, then the
 * body as the client sent it); it is decoded with the relay's own decoder, and a gzip body is
 * inflated for reading. Anything else — a library user's own payloads — is shown as stored.
 */
export function readStoredWrite(payload: Buffer): StoredWrite {
  let envelope;
  try {
    envelope = decodeEnvelope(payload);
  } catch {
    return { body: payload };
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

/** `db=mydb rp=autogen precision=s gzip`: what the node's `/write` will be asked. */
export function describeTarget(target: StoredWriteTarget): string {
  const parts = [`db=${target.db}`];
  if (target.rp) parts.push(`rp=${target.rp}`);
  if (target.precision) parts.push(`precision=${target.precision}`);
  if (target.encoding !== 'identity') parts.push(`(${target.encoding})`);
  return parts.join(' ');
}

/**
 * How a dead letter is stored in the dead-letter queue: one queue entry per refused write.
 *
 *   0        4                      4+H
 *   +--------+----------------------+----------------------+
 *   | H (BE) | header (JSON, H B)   | payload (as handed)  |
 *   +--------+----------------------+----------------------+
 *
 * The header holds `{ appendedAt, at, status?, error }`: when the write was first handed off,
 * when the node refused it, and the node's answer. The payload follows untouched, so no
 * encoding of the (possibly binary) payload is needed.
 */
export interface DeadLetterHeader {
  /** When the write was first handed off (ms). */
  appendedAt: number;
  /** When it was dead-lettered (ms). */
  at: number;
  status?: number;
  error: string;
}

export interface DecodedDeadLetter extends DeadLetterHeader {
  payload: Buffer;
}

/** Keeps the node's answer short: it is shown to operators, not replayed. */
const MAX_ERROR_CHARS = 1024;

export function encodeDeadLetter(payload: Uint8Array, header: DeadLetterHeader): Buffer {
  const json = Buffer.from(
    JSON.stringify({ ...header, error: header.error.slice(0, MAX_ERROR_CHARS) }),
    'utf8',
  );
  const prefix = Buffer.alloc(4);
  prefix.writeUInt32BE(json.length, 0);
  return Buffer.concat([prefix, json, payload]);
}

export function decodeDeadLetter(record: Buffer): DecodedDeadLetter {
  if (record.length < 4) throw new Error('dead letter record shorter than its header length');
  const headerLength = record.readUInt32BE(0);
  if (4 + headerLength > record.length) throw new Error('dead letter header overruns the record');
  const header: unknown = JSON.parse(record.subarray(4, 4 + headerLength).toString('utf8'));
  // Checked field by field: a header that parses but lacks its times would otherwise surface
  // later as an Invalid Date thrown from whoever formats it.
  if (!isHeader(header)) throw new Error('dead letter header is not a dead-letter header');
  return { ...header, payload: record.subarray(4 + headerLength) };
}

function isHeader(value: unknown): value is DeadLetterHeader {
  if (typeof value !== 'object' || value === null) return false;
  const { appendedAt, at, status, error } = value as Record<string, unknown>;
  return (
    Number.isFinite(appendedAt) &&
    Number.isFinite(at) &&
    (status === undefined || Number.isInteger(status)) &&
    typeof error === 'string'
  );
}

import { crc32 } from './crc32';

/**
 * THE on-disk format of a queue directory. Everything that reads or writes bytes goes through the
 * encoders and decoders of this file; nothing else knows an offset.
 *
 * Directory:
 *   <dir>/00000000000000000001.seg   segments, numbered 1, 2, ...; ordered by number, not by name
 *   <dir>/position                   the head position (two checksummed slots, below)
 *   <dir>/lock                       the owner: pid, start time, boot id (see lock-owner.ts)
 *   <dir>/corrupt/                   damaged bytes kept for inspection, never deleted by the queue
 *   <dir>/passed/                    segments the head passed, while they are being unlinked
 *
 * A segment is a sequence of records. All integers are big-endian; u64 values are whole
 * milliseconds or byte counts below 2^53, stored as two u32 (high, low).
 *
 *   0        4           8          12                  20     21            24
 *   +--------+-----------+----------+-------------------+------+-------------+-------------------+
 *   | magic  | crc32 or  | length   | appendedAt (ms)   | kind | group count | payload           |
 *   | "HHR3" | back u32  | u32      | u64               | u8   | u24         | `length` bytes    |
 *   +--------+-----------+----------+-------------------+------+-------------+-------------------+
 *
 * Records are checksummed in GROUPS: consecutive records of one write, at most GROUP_BYTES
 * together (a larger record is a group of its own). The first record of a group (its leader)
 * holds the group's record count (>= 1) and the CRC-32 (zlib) over the bytes from its own byte 8
 * to the end of the group's last payload: one crc32 call checks them all, where one call per
 * record cost as much as the bytes for 1 KiB entries. Every other record of the group (a
 * follower) holds count 0 and, in place of the checksum, its distance back to the leader, so a
 * read starting at a follower (a head left in the middle of a group) checks the group from its
 * leader. The magic is compared exactly, so it needs no CRC. A group is verified whole or not at
 * all: damage anywhere in it skips the whole group (copied to corrupt/ first), and a torn write
 * is cut at the start of the group it tore. Seals are groups of one.
 *
 * "HHR2", the layout before groups, is still read (segments written by an earlier version): the
 * same header with bytes 21..23 zero and the checksum over bytes 8 .. 24 + length of each record.
 * "HHR1" (kind at 4, checksum at 20) is not read: the project had no release with it.
 *
 * kind 1 is an entry. kind 2 is the seal: the last record of a segment that was rolled, written
 * once no more entries go to it. Its payload is the segment summary, so opening a queue reads
 * one seal per sealed segment instead of every record (open is O(segments)):
 *
 *   0              8              16             24             32             40          48
 *   +--------------+--------------+--------------+--------------+--------------+-----------+
 *   | segment u64  | dataBytes u64| entries u64  | payloadBytes | firstTime u64| maxTime   |
 *   |              | (seal offset)|              | u64          | (first entry)| u64       |
 *   +--------------+--------------+--------------+--------------+--------------+-----------+
 *   The segment number and the seal's own offset are inside the checksum, so the tail of an
 *   entry's payload can never pass for the seal of another segment or offset.
 *
 * The position file holds two 64-byte slots written alternately (slot = seq % 2), each a
 * checksummed fixed record; a torn write can only damage the slot being written, and open takes
 * the valid slot with the higher seq:
 *
 *   0        4         8        16        24       32                40              48      56      60     64
 *   +--------+---------+--------+---------+--------+-----------------+---------------+-------+-------+------+
 *   | "HHP1" | version | seq    | segment | offset | consumedEntries | consumedBytes | 0     | crc32 | 0    |
 *   | u32    | u32 = 1 | u64    | u64     | u64    | u64             | u64           | u64   | u32   | u32  |
 *   +--------+---------+--------+---------+--------+-----------------+---------------+-------+-------+------+
 *   consumed* count the entries and payload bytes of the head segment already read past, so the
 *   backlog of a sealed head segment is its summary minus these, without reading it.
 */

export const RECORD_MAGIC = 0x48485233; // "HHR3": records checksummed in groups
/** The layout before groups (one checksum per record): read, never written. */
export const RECORD_MAGIC_V2 = 0x48485232; // "HHR2"
export const HEADER_SIZE = 24;
/**
 * Records of one group stop here (a larger record is a group alone): small against a read
 * window, so a group cut by the end of one is carried into the next, and a damaged group loses
 * little; large enough that the per-call cost of crc32 is spread over ~30 records of 1 KiB.
 */
export const GROUP_BYTES = 32 * 1024;
const MAX_GROUP_COUNT = 0xffffff;
export const KIND_ENTRY = 1;
export const KIND_SEAL = 2;
export const SEAL_PAYLOAD_SIZE = 48;
export const SEAL_SIZE = HEADER_SIZE + SEAL_PAYLOAD_SIZE;
export const POSITION_MAGIC = 0x48485031; // "HHP1"
export const POSITION_VERSION = 1;
export const POSITION_SLOT_SIZE = 64;
export const POSITION_FILE_SIZE = 2 * POSITION_SLOT_SIZE;
export const POSITION_FILE = 'position';
export const LOCK_FILE = 'lock';
export const CORRUPT_DIR = 'corrupt';
/** Segments the head passed, moved out of the way until their unlink is done. */
export const PASSED_DIR = 'passed';
const MAX_LENGTH = 0xffffffff;
const TWO_32 = 0x1_0000_0000;

const SEGMENT_NAME = /^(\d{1,20})\.seg$/;

/** `00000000000000000001.seg`: zero-padded so a listing reads in order, parsed as a number. */
export function segmentFileName(segment: number): string {
  return `${String(segment).padStart(20, '0')}.seg`;
}

/** The segment number of a file name, or null when the name is not a segment. */
export function parseSegmentFileName(name: string): number | null {
  const m = SEGMENT_NAME.exec(name);
  if (!m) return null;
  const n = Number(m[1]);
  return Number.isSafeInteger(n) && n > 0 ? n : null;
}

function writeU64(buf: Buffer, value: number, at: number): void {
  buf.writeUInt32BE(Math.floor(value / TWO_32), at);
  buf.writeUInt32BE((value % TWO_32) >>> 0, at + 4);
}

function readU64(buf: Buffer, at: number): number {
  return u32(buf, at) * TWO_32 + u32(buf, at + 4);
}

/**
 * buf.readUInt32BE(at) without its argument checks, for the read loop (callers know the bytes
 * are there): decoding headers was 6-8 % of a drain's profile.
 */
function u32(buf: Buffer, at: number): number {
  return buf[at] * 0x100_0000 + ((buf[at + 1] << 16) | (buf[at + 2] << 8) | buf[at + 3]);
}

/** Bytes a record of `payloadLength` takes on disk. */
export function recordSize(payloadLength: number): number {
  return HEADER_SIZE + payloadLength;
}

function clampTime(ms: number): number {
  return Math.max(0, Math.min(Number.MAX_SAFE_INTEGER, Math.trunc(ms)));
}

/** Offset of the first byte the record checksum covers. */
const CRC_FROM = 8;

/**
 * Frames a record into `target` at `at` (which must have room for recordSize(payload.length)) as
 * a group of one, and returns where it ends. The payload is copied, so later caller edits cannot
 * tear it.
 */
export function encodeRecordInto(
  target: Buffer,
  at: number,
  kind: number,
  payload: Uint8Array,
  appendedAt: number,
): number {
  const end = frameRecordInto(target, at, kind, payload, appendedAt);
  closeGroup(target, at, end, 1);
  return end;
}

/**
 * encodeRecordInto() without its group (count and checksum left 0): the write path frames records
 * as they are appended and groups them with checksumGroupAt() just before they are written, so
 * that the checksums of one part of a batch are computed while the part before it is written.
 */
export function frameRecordInto(
  target: Buffer,
  at: number,
  kind: number,
  payload: Uint8Array,
  appendedAt: number,
): number {
  const length = payload.length;
  if (length > MAX_LENGTH) throw new RangeError('payload longer than 4 GiB');
  const time = clampTime(appendedAt);
  target.writeUInt32BE(RECORD_MAGIC, at);
  target.writeUInt32BE(0, at + 4);
  target.writeUInt32BE(length, at + 8);
  target.writeUInt32BE(Math.floor(time / TWO_32), at + 12);
  target.writeUInt32BE((time % TWO_32) >>> 0, at + 16);
  target.writeUInt32BE((kind << 24) >>> 0, at + 20);
  target.set(payload, at + HEADER_SIZE);
  return at + HEADER_SIZE + length;
}

/**
 * Makes the framed records from `at` on (up to `limit`) into one group: as many as fit in
 * GROUP_BYTES, at least one. Writes the followers' back distances, the leader's count and the
 * group checksum; returns where the group ends.
 */
export function checksumGroupAt(buf: Buffer, at: number, limit: number): number {
  let end = at + HEADER_SIZE + buf.readUInt32BE(at + 8);
  let count = 1;
  while (end < limit && count < MAX_GROUP_COUNT) {
    const next = end + HEADER_SIZE + buf.readUInt32BE(end + 8);
    if (next - at > GROUP_BYTES) break;
    buf.writeUInt32BE(end - at, end + 4);
    end = next;
    count++;
  }
  closeGroup(buf, at, end, count);
  return end;
}

/** Writes the count and the checksum of the group [at, end) into its leader. */
function closeGroup(buf: Buffer, at: number, end: number, count: number): void {
  buf[at + 21] = count >>> 16;
  buf[at + 22] = (count >>> 8) & 0xff;
  buf[at + 23] = count & 0xff;
  buf.writeUInt32BE(crc32(buf.subarray(at + CRC_FROM, end)), at + 4);
}

/** One buffer holding the framed record. */
export function encodeRecord(kind: number, payload: Uint8Array, appendedAt: number): Buffer {
  if (payload.length > MAX_LENGTH) throw new RangeError('payload longer than 4 GiB');
  const buf = Buffer.allocUnsafe(HEADER_SIZE + payload.length);
  encodeRecordInto(buf, 0, kind, payload, appendedAt);
  return buf;
}

export interface RecordHeader {
  kind: number;
  length: number;
  appendedAt: number;
  /** The checksum: of this record ("HHR2") or of the group it leads; 0 for a follower. */
  crc: number;
  /** Records in the group this record leads: 1 for an "HHR2" record, 0 for a follower. */
  count: number;
  /** A follower's distance back to its group's leader; 0 for a leader. */
  back: number;
}

/** The header at `at`, or a reason why these bytes cannot start a record. Checks no checksum. */
export function decodeHeader(buf: Buffer, at: number): RecordHeader | string {
  return decodeHeaderInto(buf, at, newHeader());
}

export function newHeader(): RecordHeader {
  return { kind: 0, length: 0, appendedAt: 0, crc: 0, count: 0, back: 0 };
}

/**
 * decodeHeader without an allocation, for the read loop: fills `out` and returns it, or returns
 * the reason these bytes cannot start a record.
 */
export function decodeHeaderInto(
  buf: Buffer,
  at: number,
  out: RecordHeader,
): RecordHeader | string {
  const magic = u32(buf, at);
  if (magic !== RECORD_MAGIC && magic !== RECORD_MAGIC_V2) return 'bad magic';
  const kind = buf[at + 20];
  if (kind !== KIND_ENTRY && kind !== KIND_SEAL) return `unknown kind ${kind}`;
  const length = u32(buf, at + 8);
  if (kind === KIND_SEAL && length !== SEAL_PAYLOAD_SIZE) return 'bad seal length';
  const word = u32(buf, at + 4);
  const count = (buf[at + 21] << 16) | (buf[at + 22] << 8) | buf[at + 23];
  if (magic === RECORD_MAGIC_V2) {
    if (count !== 0) return 'reserved bytes set';
    out.crc = word;
    out.back = 0;
    out.count = 1;
  } else {
    if (count === 0 && (word === 0 || kind === KIND_SEAL)) return 'follower without its group';
    if (kind === KIND_SEAL && count !== 1) return 'seal inside a group';
    out.crc = count === 0 ? 0 : word;
    out.back = count === 0 ? word : 0;
    out.count = count;
  }
  out.kind = kind;
  out.length = length;
  out.appendedAt = readU64(buf, at + 12);
  return out;
}

/**
 * Whether the checksum in `header` (of a record or a group leader) matches the bytes from the
 * record at `at` to `end` in `buf`: the record's own end for a record alone.
 */
export function checksumMatches(
  buf: Buffer,
  at: number,
  header: RecordHeader,
  end = at + HEADER_SIZE + header.length,
): boolean {
  return crc32(buf.subarray(at + CRC_FROM, end)) === header.crc;
}

export interface SegmentSummary {
  entries: number;
  payloadBytes: number;
  /** Append time of the first entry; 0 when the segment has none. */
  firstTime: number;
  /** Newest append time of any entry: whole-segment purge compares against it. */
  maxTime: number;
}

export function encodeSeal(
  segment: number,
  dataBytes: number,
  s: SegmentSummary,
  now: number,
): Buffer {
  const p = Buffer.alloc(SEAL_PAYLOAD_SIZE);
  writeU64(p, segment, 0);
  writeU64(p, dataBytes, 8);
  writeU64(p, s.entries, 16);
  writeU64(p, s.payloadBytes, 24);
  writeU64(p, clampTime(s.firstTime), 32);
  writeU64(p, clampTime(s.maxTime), 40);
  return encodeRecord(KIND_SEAL, p, now);
}

/** The summary in a seal payload, if it belongs to `segment` and sits at `offset`. */
export function decodeSealPayload(
  p: Buffer,
  segment: number,
  offset: number,
): SegmentSummary | null {
  if (p.length !== SEAL_PAYLOAD_SIZE) return null;
  if (readU64(p, 0) !== segment || readU64(p, 8) !== offset) return null;
  return {
    entries: readU64(p, 16),
    payloadBytes: readU64(p, 24),
    firstTime: readU64(p, 32),
    maxTime: readU64(p, 40),
  };
}

/** Decodes a whole seal record found at `offset` of a `bytes` buffer of exactly SEAL_SIZE. */
export function decodeSeal(bytes: Buffer, segment: number, offset: number): SegmentSummary | null {
  if (bytes.length !== SEAL_SIZE) return null;
  const h = decodeHeader(bytes, 0);
  if (typeof h === 'string' || h.kind !== KIND_SEAL || h.count !== 1) return null;
  if (!checksumMatches(bytes, 0, h)) return null;
  return decodeSealPayload(bytes.subarray(HEADER_SIZE), segment, offset);
}

export interface PositionRecord {
  seq: number;
  segment: number;
  offset: number;
  consumedEntries: number;
  consumedBytes: number;
}

export function encodePositionSlot(p: PositionRecord): Buffer {
  const buf = Buffer.alloc(POSITION_SLOT_SIZE);
  buf.writeUInt32BE(POSITION_MAGIC, 0);
  buf.writeUInt32BE(POSITION_VERSION, 4);
  writeU64(buf, p.seq, 8);
  writeU64(buf, p.segment, 16);
  writeU64(buf, p.offset, 24);
  writeU64(buf, p.consumedEntries, 32);
  writeU64(buf, p.consumedBytes, 40);
  buf.writeUInt32BE(crc32(buf.subarray(0, 56)), 56);
  return buf;
}

export function decodePositionSlot(buf: Buffer): PositionRecord | null {
  if (buf.length < POSITION_SLOT_SIZE) return null;
  if (buf.readUInt32BE(0) !== POSITION_MAGIC || buf.readUInt32BE(4) !== POSITION_VERSION)
    return null;
  if (crc32(buf.subarray(0, 56)) !== buf.readUInt32BE(56)) return null;
  return {
    seq: readU64(buf, 8),
    segment: readU64(buf, 16),
    offset: readU64(buf, 24),
    consumedEntries: readU64(buf, 32),
    consumedBytes: readU64(buf, 40),
  };
}

/** The newer valid slot of a position file's bytes; null when neither slot is valid. */
export function decodePositionFile(bytes: Buffer): PositionRecord | null {
  const a = decodePositionSlot(bytes.subarray(0, POSITION_SLOT_SIZE));
  const b = decodePositionSlot(bytes.subarray(POSITION_SLOT_SIZE, POSITION_FILE_SIZE));
  if (a && b) return a.seq >= b.seq ? a : b;
  return a ?? b;
}

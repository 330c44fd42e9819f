import { JetStreamApiError, type StreamState } from '@nats-io/jetstream';
import {
  QueueFullError,
  QueueNotOpenError,
  QueueOpenError,
  SegmentFullError,
} from '../queue/errors';
import type {
  HandoffQueue,
  PurgeResult,
  QueueBacklog,
  QueueEntry,
  QueuePosition,
} from '../queue/handoff-queue.contract';
import { JetStreamConfigError, NatsUnavailableError } from './errors';
import type { JetStreamQueueOptions } from './jetstream-queue-options';
import type { NatsLink } from './nats-link';
import { nodeStreamNames } from './names';
import {
  apiCode,
  HEADER_BYTES,
  openNodeStream,
  readStreamEntry,
  STREAM_FULL,
  STREAM_NOT_FOUND,
  storedFraming,
} from './node-stream';

export type { JetStreamQueueOptions };

const DEFAULT_MAX_SIZE = 10 * 1024 ** 3;
/** Direct gets in flight at once while reading from the head (at most). */
const READ_WINDOW = 128;
const RETRY_DELAY_MS = 100;
const MAX_STREAM_HEADROOM = 1024;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * One node's hand-off queue on a JetStream stream of its own (`HH_<node>`, subject
 * `hh.<node>`), limits-retention: the stream's first sequence IS the durable head. Reading
 * takes entries by sequence (direct get, served by any replica) without consuming them;
 * `advance(n)` purges the stream below head + n, so the head moves with the stream's own
 * replicated state (no consumer, no second store to keep in step with it).
 *
 * Every relay appends to every node's stream; only the holder of the node's lease reads and
 * advances. The entries of one stream are contiguous (only the head is ever removed: by an
 * advance, a purge or max_age), so the k-th entry past the head has sequence head + k.
 *
 * backlog() and diskUsage() are kept from the stream's state (refreshed every
 * `refreshIntervalMs` and after each advance/purge) plus this instance's own appends since:
 * entries exact at each refresh, payload bytes exact for entries this code wrote (stored bytes
 * minus a fixed per-entry framing, since every entry carries one message id of fixed length).
 */
export class JetStreamQueue implements HandoffQueue {
  /** Where the entries live, for errors and logs: `nats:HH_<node>`. */
  readonly location: string;
  readonly stream: string;
  readonly subject: string;
  private readonly maxSize: number;
  private readonly maxAgeMs: number;
  private readonly replicas: number;
  private readonly publishTimeoutMs: number;
  private readonly refreshIntervalMs: number;

  private opened = false;
  /** The stream was created (or checked) and its state read since open. */
  private streamOpen = false;
  private opening: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  /** Sequence of the head entry (first unread); lastSeq + 1 when the queue is empty. */
  private head = 1;
  private lastSeq = 0;
  private storedBytes = 0;
  private storedEntries = 0;
  private firstTime: number | null = null;
  private lastModifiedMs = 0;
  /** A peek/advance ran: head movement this instance did not make counts as expired. */
  private reading = false;
  private expiredEntries = 0;
  /** Entries read past a peek's end (a window over-reads), by sequence, for the next peek. */
  private ahead = new Map<number, QueueEntry>();
  private chain: Promise<unknown> = Promise.resolve();
  /** A running average of payload sizes read, to size read windows. */
  private typicalEntry = 1024;
  private refreshing: Promise<void> | null = null;

  constructor(
    private readonly link: NatsLink,
    readonly nodeId: string,
    private readonly options: JetStreamQueueOptions = {},
  ) {
    const names = nodeStreamNames(nodeId);
    this.stream = options.deadLetters ? names.deadLetterStream : names.stream;
    this.subject = options.deadLetters ? names.deadLetterSubject : names.subject;
    this.location = `nats:${this.stream}`;
    this.maxSize = options.maxSize ?? DEFAULT_MAX_SIZE;
    if (!Number.isSafeInteger(this.maxSize) || this.maxSize <= 0) {
      throw new RangeError(`maxSize must be a positive integer of bytes, got ${this.maxSize}`);
    }
    this.maxAgeMs = options.maxAgeMs ?? 0;
    this.replicas = options.replicas ?? 1;
    if (![1, 3, 5].includes(this.replicas)) {
      throw new RangeError(`JetStream replicas must be 1, 3 or 5, got ${this.replicas}`);
    }
    this.publishTimeoutMs = options.publishTimeoutMs ?? 5000;
    this.refreshIntervalMs = options.refreshIntervalMs ?? 1000;
  }

  // ---------------------------------------------------------------- lifecycle

  /**
   * Creates the stream, or brings an existing one's limits to the configured ones. While NATS is
   * not connected (a relay started during an outage) the queue opens without its stream, which
   * is opened on first use once NATS answers (or by the next refresh): until then the backlog
   * known is none, and appends and reads reject with NatsUnavailableError.
   */
  async open(): Promise<void> {
    if (this.opened) return;
    if (this.link.isConnected()) await this.openStream();
    this.opened = true;
    this.timer = setInterval(
      () => void this.refresh().catch(() => undefined),
      this.refreshIntervalMs,
    );
    this.timer.unref();
  }

  /** Creates or updates the stream and reads its state, once per open; shared by callers. */
  openStream(): Promise<void> {
    if (this.streamOpen) return Promise.resolve();
    this.assertConnected('open');
    const limits = { maxSize: this.maxSize, maxAgeMs: this.maxAgeMs, replicas: this.replicas };
    this.opening ??= openNodeStream(this.link.jsm, this.stream, this.subject, limits)
      .then(
        (state) => {
          this.applyState(state, true);
          this.streamOpen = true;
        },
        (err: unknown) => {
          throw this.unavailable('open', err);
        },
      )
      .finally(() => (this.opening = null));
    return this.opening;
  }

  async close(): Promise<void> {
    if (!this.opened) return;
    this.opened = false;
    this.streamOpen = false;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.chain.catch(() => undefined);
    this.ahead.clear();
  }

  /** Deletes the stream (every entry, on every replica). */
  async remove(): Promise<void> {
    if (this.opened) throw new QueueOpenError(this.location);
    this.assertConnected('remove');
    try {
      await this.link.jsm.streams.delete(this.stream);
    } catch (err) {
      if (apiCode(err) !== STREAM_NOT_FOUND) throw this.unavailable('remove', err);
    }
  }

  isOpen(): boolean {
    return this.opened;
  }

  /** Never: an outage rejects appends with NatsUnavailableError and heals without a reopen. */
  isFailed(): boolean {
    return false;
  }

  async reopen(): Promise<void> {
    await this.close();
    await this.open();
  }

  /** Nothing to wait for: an append resolves only once JetStream acknowledged it. */
  async sync(): Promise<void> {}

  /** The head's sequence (segment is always 0): it moves only by purges and expiry. */
  position(): QueuePosition {
    return { segment: 0, offset: this.head };
  }

  /**
   * This instance stops being the node's reader (its replay lease was lost or released): head
   * movement from now on is someone else's, not an expiry; its next read starts from the
   * stream's head as it is then.
   */
  stopReading(): void {
    this.reading = false;
    this.ahead.clear();
  }

  /** Entries the server dropped for max_age past this reader's head, since open. */
  expired(): number {
    return this.expiredEntries;
  }

  // ---------------------------------------------------------------- accessors (no I/O)

  backlog(): QueueBacklog {
    this.assertOpen();
    const entries = Math.max(0, this.lastSeq - this.head + 1);
    const framing = this.framing();
    const bytes = entries === 0 ? 0 : Math.max(0, this.storedBytes - this.storedEntries * framing);
    const oldest = entries === 0 || this.firstTime === null ? null : new Date(this.firstTime);
    return { entries, bytes, oldest };
  }

  /** Bytes the stream stores on each replica (entries and their framing). */
  diskUsage(): number {
    this.assertOpen();
    return this.storedBytes;
  }

  lastModified(): Date {
    this.assertOpen();
    return new Date(this.lastModifiedMs);
  }

  maxEntrySize(): number {
    return Math.min(this.link.maxPayload(), this.maxSize) - HEADER_BYTES - MAX_STREAM_HEADROOM;
  }

  // ---------------------------------------------------------------- append

  /**
   * Publishes the entry and resolves once JetStream acked it (stored on a quorum of replicas).
   * Refuses at once while the connection is down. A publish without an answer is retried with
   * the same message id until `publishTimeoutMs`, so a retry of a stored entry is dropped by the
   * server's dedupe instead of stored twice.
   */
  async append(payload: Uint8Array): Promise<void> {
    this.assertOpen();
    if (payload.length > this.maxEntrySize()) {
      throw new SegmentFullError(payload.length + HEADER_BYTES, this.maxEntrySize());
    }
    this.assertConnected('append');
    await this.openStream();
    await this.refuseWhenFull(payload.length);
    const msgID = this.link.nextMessageId();
    const deadline = Date.now() + this.publishTimeoutMs;
    for (;;) {
      try {
        const ack = await this.link.js.publish(this.subject, payload, {
          msgID,
          expect: { streamName: this.stream },
          timeout: Math.max(1, deadline - Date.now()),
        });
        if (!ack.duplicate) this.counted(ack.seq, payload.length);
        return;
      } catch (err) {
        if (
          apiCode(err) === STREAM_FULL ||
          /maximum (bytes|messages) exceeded/i.test(String(err))
        ) {
          throw new QueueFullError(this.location, this.maxSize);
        }
        // A 4xx from JetStream (wrong stream, message too large) will not heal by retrying.
        const status = err instanceof JetStreamApiError ? err.status : 0;
        if ((status >= 400 && status < 500) || Date.now() + RETRY_DELAY_MS >= deadline) {
          throw this.unavailable('append', err);
        }
        await sleep(RETRY_DELAY_MS);
        if (!this.opened) throw new QueueNotOpenError(this.location);
      }
    }
  }

  /**
   * nats-server 2.9 checks discard-new against payload and headers only, not the subject and
   * record framing it also stores: an entry that passes the check by less than that framing is
   * stored and the OLDEST entry evicted to make room (measured on 2.9.10). So the store refuses
   * itself when the entry would not fit whole, with the stream's state refreshed first; relays
   * appending at the same moment can still race past it, and what the server then evicts is
   * counted by the reader like an expiry (see expired()).
   */
  private async refuseWhenFull(payloadBytes: number): Promise<void> {
    const fits = () => this.storedBytes + this.framing() + payloadBytes <= this.maxSize;
    if (fits()) return;
    await this.refresh().catch(() => undefined);
    if (!fits()) throw new QueueFullError(this.location, this.maxSize);
  }

  private framing(): number {
    return storedFraming(this.stream, this.subject);
  }

  private counted(seq: number, payloadBytes: number): void {
    if (seq > this.lastSeq) this.lastSeq = seq;
    this.storedEntries++;
    this.storedBytes += this.framing() + payloadBytes;
    this.firstTime ??= Date.now();
    this.lastModifiedMs = Date.now();
  }

  // ---------------------------------------------------------------- reads

  async current(): Promise<Buffer | null> {
    const [first] = await this.peekEntries(0, 1);
    return first?.payload ?? null;
  }

  async peek(maxBytes: number, maxEntries = Infinity, skip = 0): Promise<Buffer[]> {
    return (await this.peekEntries(maxBytes, maxEntries, skip)).map((e) => e.payload);
  }

  peekEntries(maxBytes: number, maxEntries = Infinity, skip = 0): Promise<QueueEntry[]> {
    if (!(skip >= 0 && (Number.isInteger(skip) || skip === Infinity))) {
      return Promise.reject(new RangeError(`skip must be a whole number >= 0, got ${skip}`));
    }
    return this.exclusive('read', async () => {
      const out: QueueEntry[] = [];
      let seq = this.head + skip;
      if (seq > this.lastSeq) await this.refresh();
      seq = this.head + skip;
      let bytes = 0;
      while (out.length < maxEntries && seq <= this.lastSeq) {
        // As many as the bytes left should take, going by the entries read so far: a batch of
        // large entries must not read (and hold) a window of them past its end.
        const fit = Math.ceil(Math.max(0, maxBytes - bytes) / this.typicalEntry) + 1;
        const want = Math.min(READ_WINDOW, fit, this.lastSeq - seq + 1, maxEntries - out.length);
        const got = await this.readRange(seq, want);
        if (got === null) {
          // The head moved under the read (max_age, or another reader): read from it again.
          const was = this.head;
          await this.refresh();
          if (this.head === was) break;
          seq = this.head + skip + out.length;
          continue;
        }
        let i = 0;
        for (; i < got.length; i++) {
          const e = got[i];
          if (out.length > 0 && bytes + e.payload.length > maxBytes) break;
          if (out.length >= maxEntries) break;
          out.push(e);
          bytes += e.payload.length;
          this.typicalEntry = Math.max(1, (this.typicalEntry * 7 + e.payload.length) / 8);
        }
        // What the window read past the end is kept for the next (pipelined) peek.
        for (let j = i; j < got.length; j++) this.ahead.set(seq + j, got[j]);
        seq += i;
        if (i < got.length) break;
      }
      return out;
    });
  }

  /** `count` entries from `seq`, in order; null when one of them is gone (below the head). */
  private async readRange(seq: number, count: number): Promise<QueueEntry[] | null> {
    const reads = Array.from({ length: count }, (_, i) => {
      const cached = this.ahead.get(seq + i);
      return cached
        ? Promise.resolve(cached)
        : readStreamEntry(this.link.jsm, this.stream, seq + i, this.replicas);
    });
    const got = await Promise.all(reads);
    return got.some((e) => e === null) ? null : (got as QueueEntry[]);
  }

  // ---------------------------------------------------------------- advance / purge

  /** Purges the stream below head + n: the new head is durable on the stream's replicas. */
  advance(n = 1): Promise<void> {
    if (!(Number.isInteger(n) || n === Infinity)) {
      return Promise.reject(new RangeError(`advance takes a whole number of entries, got ${n}`));
    }
    return this.exclusive('advance', async () => {
      if (n <= 0) return;
      const to = Math.min(this.head + n, this.lastSeq + 1);
      if (to <= this.head) return;
      await this.purgeBelow(to);
    });
  }

  /**
   * Drops head entries appended before `t`. Append times only grow along the stream, so the
   * first entry at or after `t` is found by a binary search over sequences, then purged below.
   */
  purgeOlderThan(t: Date): Promise<PurgeResult> {
    return this.exclusive('purge', async () => {
      await this.refresh();
      const limit = t.getTime();
      let lo = this.head;
      let hi = this.lastSeq + 1;
      while (lo < hi) {
        const mid = Math.floor((lo + hi) / 2);
        const m = await this.link.jsm.direct.getMessage(this.stream, { seq: mid });
        if (m === null) lo = mid + 1;
        else if (m.time.getTime() < limit) lo = mid + 1;
        else hi = mid;
      }
      if (lo <= this.head) return { entries: 0, bytes: 0, segments: 0 };
      const before = this.backlog();
      await this.purgeBelow(lo);
      const after = this.backlog();
      const entries = before.entries - after.entries;
      return { entries, bytes: Math.max(0, before.bytes - after.bytes), segments: 0 };
    });
  }

  private async purgeBelow(seq: number): Promise<void> {
    await this.link.jsm.streams.purge(this.stream, { seq });
    this.head = Math.max(this.head, seq);
    for (const s of this.ahead.keys()) if (s < this.head) this.ahead.delete(s);
    this.lastModifiedMs = Date.now();
    await this.refresh();
  }

  // ---------------------------------------------------------------- state

  /** Reads the stream's state: counts, and head movement it did not make (max_age). */
  private refresh(): Promise<void> {
    if (!this.link.isConnected()) return Promise.resolve();
    if (!this.streamOpen) return this.openStream();
    // Appends near the limit all ask at once: one request answers them all.
    this.refreshing ??= this.link.jsm.streams
      .info(this.stream)
      .then((info) => this.applyState(info.state, false))
      .finally(() => (this.refreshing = null));
    return this.refreshing;
  }

  private applyState(state: StreamState, rebase: boolean): void {
    // An empty stream reports first_seq 0 when new, last_seq + 1 after a purge.
    const first = state.messages === 0 ? state.last_seq + 1 : state.first_seq;
    if (first > this.head) {
      if (this.reading && !rebase) {
        const gone = first - this.head;
        this.expiredEntries += gone;
        this.options.onExpired?.(gone);
      }
      this.head = first;
      for (const s of this.ahead.keys()) if (s < this.head) this.ahead.delete(s);
    } else if (rebase) this.head = first;
    this.lastSeq = Math.max(state.last_seq, this.lastSeq);
    this.storedBytes = state.bytes;
    this.storedEntries = state.messages;
    this.firstTime = state.messages > 0 ? Date.parse(state.first_ts) : null;
    const last = state.messages > 0 ? Date.parse(state.last_ts) : 0;
    if (last > this.lastModifiedMs) this.lastModifiedMs = last;
  }

  private exclusive<T>(what: string, fn: () => Promise<T>): Promise<T> {
    const run = async (): Promise<T> => {
      this.assertOpen();
      this.assertConnected(what);
      await this.openStream();
      if (!this.reading) {
        // A new reader starts at the stream's head as it is now, whoever moved it.
        await this.link.jsm.streams
          .info(this.stream)
          .then((info) => this.applyState(info.state, true))
          .catch((err: unknown) => {
            throw this.unavailable(what, err);
          });
        this.reading = true;
      }
      try {
        return await fn();
      } catch (err) {
        if (err instanceof RangeError || err instanceof QueueNotOpenError) throw err;
        throw this.unavailable(what, err);
      }
    };
    const result = this.chain.then(run, run);
    this.chain = result.catch(() => undefined);
    return result;
  }

  private assertOpen(): void {
    if (!this.opened) throw new QueueNotOpenError(this.location);
  }

  private assertConnected(what: string): void {
    if (!this.link.isConnected()) {
      throw new NatsUnavailableError(`${what} on ${this.stream}: not connected to any server`);
    }
  }

  private unavailable(what: string, err: unknown): Error {
    if (err instanceof NatsUnavailableError || err instanceof QueueFullError) return err;
    if (err instanceof JetStreamConfigError) return err;
    return new NatsUnavailableError(`${what} on ${this.stream}`, err);
  }
}

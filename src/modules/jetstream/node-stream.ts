import { nanos } from '@nats-io/nats-core';
import {
  JetStreamApiError,
  type JetStreamManager,
  type StreamConfig,
  type StreamInfo,
  type StoredMsg,
  type StreamState,
} from '@nats-io/jetstream';
import type { QueueEntry } from '../queue/handoff-queue.contract';
import { JetStreamConfigError } from './errors';
import { MESSAGE_ID_LENGTH } from './nats-link';

/** The dedupe window for retried publishes (JetStream's default), capped by max_age. */
const DUPLICATE_WINDOW_MS = 2 * 60_000;
/** `NATS/1.0\r\nNats-Msg-Id: <id>\r\n\r\n`, without the expected stream's line. */
export const HEADER_BYTES = 10 + 13 + MESSAGE_ID_LENGTH + 2 + 2;
/** `Nats-Expected-Stream: <stream>\r\n` adds this and the stream name's length. */
const EXPECTED_STREAM_HEADER = 22 + 2;
/** What the file store adds to a message besides subject, headers and payload. */
const STORED_FRAMING = 22 + 4 + 8;

/** JetStream's "stream not found". */
export const STREAM_NOT_FOUND = 10059;
/** JetStream's "no message found" (a get of a sequence the stream does not hold). */
export const MESSAGE_NOT_FOUND = 10037;
/** JetStream's "maximum bytes exceeded" (a discard-new stream refusing a publish). */
export const STREAM_FULL = 10077;

export function apiCode(err: unknown): number | undefined {
  return err instanceof JetStreamApiError ? err.code : undefined;
}

/**
 * Bytes the file store keeps per entry besides its payload (measured on nats-server 2.9.10):
 * subject, our two headers and the record framing. The same for every entry this code wrote,
 * since every message id has the same length.
 */
export function storedFraming(stream: string, subject: string): number {
  return STORED_FRAMING + subject.length + HEADER_BYTES + EXPECTED_STREAM_HEADER + stream.length;
}

export interface NodeStreamLimits {
  maxSize: number;
  maxAgeMs: number;
  replicas: number;
}

/**
 * A node's stream: limits retention (entries stay until purged or aged out), file storage,
 * discard new (a full stream refuses the publish: nothing acknowledged is ever dropped for
 * room), direct get on (any replica serves reads by sequence).
 */
export function nodeStreamConfig(
  stream: string,
  subject: string,
  limits: NodeStreamLimits,
): Partial<StreamConfig> & { name: string } {
  const { maxSize, maxAgeMs, replicas } = limits;
  return {
    name: stream,
    subjects: [subject],
    retention: 'limits' as StreamConfig['retention'],
    storage: 'file' as StreamConfig['storage'],
    discard: 'new' as StreamConfig['discard'],
    max_bytes: maxSize,
    max_age: nanos(maxAgeMs),
    num_replicas: replicas,
    duplicate_window: nanos(
      maxAgeMs > 0 ? Math.min(DUPLICATE_WINDOW_MS, maxAgeMs) : DUPLICATE_WINDOW_MS,
    ),
    allow_direct: true,
  };
}

/** Creates the stream, or brings an existing one's limits to `config`; resolves its info. */
export async function ensureNodeStream(
  jsm: JetStreamManager,
  config: Partial<StreamConfig> & { name: string },
): Promise<StreamInfo> {
  const info = await jsm.streams.info(config.name).catch((err: unknown) => {
    if (apiCode(err) === STREAM_NOT_FOUND) return null;
    throw err;
  });
  if (!info) return jsm.streams.add(config);
  const c = info.config;
  const differs =
    c.max_bytes !== config.max_bytes ||
    c.max_age !== config.max_age ||
    c.num_replicas !== config.num_replicas ||
    c.duplicate_window !== config.duplicate_window ||
    c.discard !== config.discard ||
    !c.allow_direct;
  return differs ? jsm.streams.update(config.name, { ...c, ...config }) : info;
}

/**
 * Entry `seq` of `stream`, or null when the stream does not hold it. A direct get may be
 * answered by a replica that has not applied the latest appends yet: an entry it does not have
 * is asked of the stream's leader (with several replicas) before it counts as gone.
 */
export async function readStreamEntry(
  jsm: JetStreamManager,
  stream: string,
  seq: number,
  replicas: number,
): Promise<QueueEntry | null> {
  const toEntry = (m: StoredMsg | null) =>
    m === null || m.seq !== seq
      ? null
      : { payload: Buffer.from(m.data), appendedAt: m.time.getTime() };
  const direct = toEntry(await jsm.direct.getMessage(stream, { seq }));
  if (direct || replicas === 1) return direct;
  const fromLeader = await jsm.streams.getMessage(stream, { seq }).catch((err: unknown) => {
    if (apiCode(err) === MESSAGE_NOT_FOUND) return null;
    throw err;
  });
  return toEntry(fromLeader);
}

/**
 * Creates or updates the node's stream and reads its state; a stream the servers cannot reserve
 * rejects with JetStreamConfigError (naming HH_MAX_SIZE), anything else as the client threw it.
 */
export async function openNodeStream(
  jsm: JetStreamManager,
  stream: string,
  subject: string,
  limits: NodeStreamLimits,
): Promise<StreamState> {
  try {
    await ensureNodeStream(jsm, nodeStreamConfig(stream, subject, limits));
    return (await jsm.streams.info(stream)).state;
  } catch (err) {
    throw noRoomFor(stream, limits, err) ?? err;
  }
}

/**
 * The error for a stream the servers cannot reserve (JetStream reserves max_bytes on every
 * replica up front), naming the setting to change; undefined for any other error.
 */
export function noRoomFor(
  stream: string,
  limits: NodeStreamLimits,
  err: unknown,
): JetStreamConfigError | undefined {
  if (!/insufficient (storage )?resources/i.test(String(err))) return undefined;
  return new JetStreamConfigError(
    `stream ${stream} needs ${limits.maxSize} bytes (HH_MAX_SIZE) on each of ` +
      `${limits.replicas} replica(s), more than the NATS servers have left for JetStream ` +
      `(max_file_store): lower HH_MAX_SIZE or give JetStream more storage`,
  );
}

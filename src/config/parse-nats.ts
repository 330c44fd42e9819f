/** The NATS settings of the JetStream store: server lists, replicas, lease TTL, relay id. */
import { bounded } from './bounds';
import { JETSTREAM_REPLICAS, type JetStreamReplicas } from './defaults';
import { ConfigValueError } from './errors';
import { parseDuration } from './parse-durations';

const URLS_EXPECTED =
  'expected one or more NATS servers, comma-separated: nats://host:port or tls://host:port ' +
  '(nats:// is implied), e.g. nats://n1:4222,nats://n2:4222';

/**
 * The servers of a NATS URL list (`HH_NATS_URL`): each one a `nats://` or `tls://` URL, or a
 * `host:port` the client reads as `nats://`. Throws ConfigValueError naming the bad one; the
 * message never quotes user info (a URL may carry `user:password@`).
 */
export function natsUrlList(text: string): string[] {
  const fail = (problem: string): never => {
    throw new ConfigValueError(`Invalid NATS server list: ${problem}`, problem);
  };
  if (typeof text !== 'string') fail(URLS_EXPECTED);
  const list = text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  if (list.length === 0) fail(`names no server; ${URLS_EXPECTED}`);
  for (const [i, server] of list.entries()) {
    const url = /^[a-z][a-z0-9+.-]*:\/\//i.test(server) ? server : `nats://${server}`;
    let parsed: URL | undefined;
    try {
      parsed = new URL(url);
    } catch {
      parsed = undefined;
    }
    if (!parsed || parsed.hostname === '') fail(`server ${i + 1} is not a URL; ${URLS_EXPECTED}`);
    else if (!['nats:', 'tls:'].includes(parsed.protocol)) {
      fail(`server ${i + 1} is ${parsed.protocol}// (not nats:// or tls://); ${URLS_EXPECTED}`);
    }
  }
  return list;
}

/** `HH_NATS_URL`: checked, kept as given (trimmed); the store splits it with natsUrlList. */
export function parseNatsUrls(text: string): string {
  return natsUrlList(text).join(',');
}

const REPLICAS_EXPECTED = `expected ${JETSTREAM_REPLICAS.join(', ')}: copies of each stream in the NATS cluster (an odd number, for a Raft quorum)`;

/** `HH_JETSTREAM_REPLICAS`: 1, 3 or 5. */
export function parseReplicas(text: string): JetStreamReplicas {
  const trimmed = typeof text === 'string' ? text.trim() : '';
  const value = Number(trimmed);
  if (!/^\d$/.test(trimmed) || !(JETSTREAM_REPLICAS as readonly number[]).includes(value)) {
    throw new ConfigValueError(
      `Invalid replicas ${JSON.stringify(text)}: ${REPLICAS_EXPECTED}`,
      REPLICAS_EXPECTED,
    );
  }
  return value as JetStreamReplicas;
}

/** The shortest lease TTL: renewals every third of it must get through a busy NATS. */
export const MIN_LEASE_TTL_MS = 1000;
/** The longest: a dead relay's nodes wait this long for another replayer. */
export const MAX_LEASE_TTL_MS = 3_600_000;

/** `HH_LEASE_TTL`: a duration from 1s to 1h. */
export const parseLeaseTtl = bounded(
  parseDuration,
  { atLeast: MIN_LEASE_TTL_MS, atMost: MAX_LEASE_TTL_MS },
  'must be from 1s to 1h: the holder renews every third of it, and a dead holder’s nodes wait ' +
    'this long for another relay',
);

const RELAY_ID_EXPECTED =
  'expected 1-128 printable characters without spaces (letters, digits, punctuation), e.g. relay-1';

/** `HH_RELAY_ID`: what /hh/nodes shows as a lease's holder. */
export function parseRelayId(text: string): string {
  const trimmed = typeof text === 'string' ? text.trim() : '';
  if (!/^[\x21-\x7e]{1,128}$/.test(trimmed)) {
    throw new ConfigValueError(
      `Invalid relay id ${JSON.stringify(text)}: ${RELAY_ID_EXPECTED}`,
      RELAY_ID_EXPECTED,
    );
  }
  return trimmed;
}

import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import {
  AuthorizationError,
  credsAuthenticator,
  UserAuthenticationExpiredError,
  type NatsConnection,
} from '@nats-io/nats-core';
import { connect, type NodeConnectionOptions } from '@nats-io/transport-node';
import {
  jetstream,
  jetstreamManager,
  type JetStreamClient,
  type JetStreamManager,
} from '@nats-io/jetstream';
import type { ConfigValueError } from '../../config/errors';
import { natsUrlList } from '../../config/parse-nats';
import { JetStreamConfigError, NatsUnavailableError } from './errors';

/** How to reach NATS: the HH_NATS_* settings. At most one way to authenticate. */
export interface NatsSettings {
  /** One URL, a comma-separated list, or a list: the client fails over between them. */
  servers: string | readonly string[];
  token?: string;
  user?: string;
  pass?: string;
  /** A `.creds` file (JWT + nkey seed), read when connecting. */
  credsFile?: string;
  /** Connection name the servers show in their monitoring (default `hinted-handoff`). */
  name?: string;
  /** How long one connect attempt may take (default 5 s). */
  connectTimeoutMs?: number;
  /** Keep trying when no server answers at start instead of rejecting (default false). */
  waitOnFirstConnect?: boolean;
}

export type NatsLinkState = 'connected' | 'reconnecting' | 'closed';

/** Splits and checks the server list; `nats://` is implied, as the client does. */
export function natsServers(servers: string | readonly string[]): string[] {
  try {
    return natsUrlList(typeof servers === 'string' ? servers : servers.join(','));
  } catch (err) {
    throw new JetStreamConfigError(`HH_NATS_URL ${(err as ConfigValueError).detail}`);
  }
}

/** The client options for `settings`; refuses two ways to authenticate at once. */
export function natsConnectionOptions(settings: NatsSettings): NodeConnectionOptions {
  const ways = [settings.token, settings.user ?? settings.pass, settings.credsFile].filter(
    (w) => w !== undefined,
  );
  if (ways.length > 1) {
    throw new JetStreamConfigError(
      'give NATS one of a token, a user and password, or a creds file',
    );
  }
  if ((settings.user === undefined) !== (settings.pass === undefined)) {
    throw new JetStreamConfigError('a NATS user needs a password, and a password a user');
  }
  const options: NodeConnectionOptions = {
    servers: natsServers(settings.servers),
    name: settings.name ?? 'hinted-handoff',
    timeout: settings.connectTimeoutMs ?? 5000,
    // A relay outlives any NATS outage: reconnect for ever, quickly, and fail appends meanwhile.
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
    // A server that stops answering (frozen, cut off) is given up after two missed pings, and
    // the client moves to another one, instead of the default two minutes.
    pingInterval: 10_000,
    maxPingOut: 2,
    waitOnFirstConnect: settings.waitOnFirstConnect ?? false,
  };
  if (settings.token !== undefined) options.token = settings.token;
  if (settings.user !== undefined) {
    options.user = settings.user;
    options.pass = settings.pass;
  }
  if (settings.credsFile !== undefined) {
    const file = settings.credsFile;
    let creds: Uint8Array;
    try {
      creds = readFileSync(file);
    } catch (err) {
      throw new JetStreamConfigError(
        `NATS creds file ${file} cannot be read: ${(err as Error).message}`,
      );
    }
    options.authenticator = credsAuthenticator(creds);
  }
  return options;
}

/** First delay between connect attempts of a link started without NATS; doubles up to the max. */
const FIRST_CONNECT_RETRY_MS = 250;
const FIRST_CONNECT_RETRY_MAX_MS = 5000;

/** The connection and its JetStream manager, once a server answered. */
interface Connected {
  nc: NatsConnection;
  jsm: JetStreamManager;
  js: JetStreamClient;
}

/**
 * One NATS connection shared by every node's store and lease of a relay, with its JetStream
 * clients and its state: `connected`, `reconnecting` (stores then refuse appends at once; also
 * the state of a link started while no server answered, until one does) or `closed`. Emits
 * 'state' on each change. Also mints the publish message ids: an instance id unique to this
 * link and a counter, of fixed length so per-entry overhead is constant.
 */
export class NatsLink extends EventEmitter {
  private linkState: NatsLinkState;
  private conn: Connected | undefined;
  private readonly instance = randomBytes(8).toString('hex');
  private counter = 0;
  private closing = false;
  private retry: NodeJS.Timeout | null = null;
  private wakeRetry: (() => void) | null = null;

  private constructor(connected: Connected | undefined) {
    super();
    this.linkState = connected ? 'connected' : 'reconnecting';
    if (connected) this.attach(connected);
  }

  /** Connects now; rejects with NatsUnavailableError when no server answers. */
  static async connect(settings: NatsSettings): Promise<NatsLink> {
    return new NatsLink(await connectOnce(natsConnectionOptions(settings)));
  }

  /**
   * A link that is not connected yet and keeps trying (with back-off) until a server answers,
   * then emits 'state' 'connected' and behaves as one from `connect`. For a relay started while
   * NATS is down: it serves what does not need NATS meanwhile. Bad settings still throw here.
   * (The client's own waitOnFirstConnect cannot be stopped by close(), so the loop is ours.)
   */
  static connectWhenAvailable(settings: NatsSettings): NatsLink {
    const options = natsConnectionOptions(settings);
    const link = new NatsLink(undefined);
    void link.firstConnect(options);
    return link;
  }

  /** The connection; throws NatsUnavailableError before the first server answered. */
  get nc(): NatsConnection {
    return this.connected().nc;
  }

  get jsm(): JetStreamManager {
    return this.connected().jsm;
  }

  get js(): JetStreamClient {
    return this.connected().js;
  }

  state(): NatsLinkState {
    return this.linkState;
  }

  isConnected(): boolean {
    return this.linkState === 'connected';
  }

  /** The server this connection is on now, e.g. `127.0.0.1:4222` ('' before the first one). */
  server(): string {
    return this.conn?.nc.getServer() ?? '';
  }

  /** The largest message the servers take (1 MiB, NATS's default, until one answered). */
  maxPayload(): number {
    return this.conn?.nc.info?.max_payload ?? 1024 * 1024;
  }

  /** A message id never used before by any relay: 16 hex digits, '-', 12 base-36 digits. */
  nextMessageId(): string {
    this.counter++;
    return `${this.instance}-${this.counter.toString(36).padStart(MSG_ID_COUNTER_DIGITS, '0')}`;
  }

  async close(): Promise<void> {
    this.closing = true;
    if (this.retry) clearTimeout(this.retry);
    this.retry = null;
    this.wakeRetry?.();
    if (!this.conn) return this.setState('closed');
    if (this.conn.nc.isClosed()) return;
    await this.conn.nc.close();
  }

  private connected(): Connected {
    if (!this.conn) {
      throw new NatsUnavailableError('not connected to any server yet');
    }
    return this.conn;
  }

  private attach(connected: Connected): void {
    this.conn = connected;
    void this.watch(connected.nc);
  }

  private async firstConnect(options: NodeConnectionOptions): Promise<void> {
    let wait = FIRST_CONNECT_RETRY_MS;
    while (!this.closing) {
      const connected = await connectOnce(options).catch(() => undefined);
      if (connected && this.closing) await connected.nc.close().catch(() => undefined);
      else if (connected) {
        this.attach(connected);
        return this.setState('connected');
      }
      await new Promise<void>((resolve) => {
        this.wakeRetry = resolve;
        this.retry = setTimeout(resolve, wait);
        this.retry.unref();
      });
      wait = Math.min(wait * 2, FIRST_CONNECT_RETRY_MAX_MS);
    }
  }

  private setState(next: NatsLinkState): void {
    if (next === this.linkState) return;
    this.linkState = next;
    this.emit('state', next);
  }

  private async watch(nc: NatsConnection): Promise<void> {
    void nc.closed().then(() => this.setState('closed'));
    for await (const s of nc.status()) {
      if (s.type === 'disconnect' || s.type === 'reconnecting' || s.type === 'staleConnection') {
        this.setState('reconnecting');
      } else if (s.type === 'reconnect') {
        this.setState('connected');
      }
    }
  }
}

/** One connect attempt and the JetStream manager; NatsUnavailableError when either fails. */
async function connectOnce(options: NodeConnectionOptions): Promise<Connected> {
  let nc: NatsConnection;
  try {
    nc = await connect(options);
  } catch (err) {
    throw new NatsUnavailableError(`connect to ${withoutUserInfo(options.servers)}`, err);
  }
  try {
    const jsm = await jetstreamManager(nc);
    return { nc, jsm, js: jetstream(nc) };
  } catch (err) {
    await nc.close().catch(() => undefined);
    throw new NatsUnavailableError('JetStream is not enabled or not answering', err);
  }
}

/** Server URLs for logs and errors: `nats://user:pass@host` shows as `nats://host`. */
export function withoutUserInfo(servers: string | readonly string[] | undefined): string {
  const list = typeof servers === 'string' ? servers.split(',') : (servers ?? []);
  return list.map((s) => s.trim().replace(/\/\/[^/@]*@/, '//')).join(',');
}

/** The server answered and refused our credentials: a configuration error, not an outage. */
export function isAuthRefusal(err: unknown): boolean {
  const cause = (err as { cause?: unknown })?.cause ?? err;
  return cause instanceof AuthorizationError || cause instanceof UserAuthenticationExpiredError;
}

const MSG_ID_COUNTER_DIGITS = 12;
/** Length of every message id `nextMessageId` mints. */
export const MESSAGE_ID_LENGTH = 16 + 1 + MSG_ID_COUNTER_DIGITS;

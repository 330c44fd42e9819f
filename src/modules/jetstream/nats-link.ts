import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import { credsAuthenticator, type NatsConnection } from '@nats-io/nats-core';
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

/**
 * One NATS connection shared by every node's store and lease of a relay, with its JetStream
 * clients and its state: `connected`, `reconnecting` (stores then refuse appends at once) or
 * `closed`. Emits 'state' on each change. Also mints the publish message ids: an instance id
 * unique to this connection and a counter, of fixed length so per-entry overhead is constant.
 */
export class NatsLink extends EventEmitter {
  readonly js: JetStreamClient;
  private linkState: NatsLinkState = 'connected';
  private readonly instance = randomBytes(8).toString('hex');
  private counter = 0;

  private constructor(
    readonly nc: NatsConnection,
    readonly jsm: JetStreamManager,
  ) {
    super();
    this.js = jetstream(nc);
    void this.watch();
  }

  static async connect(settings: NatsSettings): Promise<NatsLink> {
    const options = natsConnectionOptions(settings);
    let nc: NatsConnection;
    try {
      nc = await connect(options);
    } catch (err) {
      throw new NatsUnavailableError(`connect to ${String(options.servers)}`, err);
    }
    try {
      return new NatsLink(nc, await jetstreamManager(nc));
    } catch (err) {
      await nc.close().catch(() => undefined);
      throw new NatsUnavailableError('JetStream is not enabled or not answering', err);
    }
  }

  state(): NatsLinkState {
    return this.linkState;
  }

  isConnected(): boolean {
    return this.linkState === 'connected';
  }

  /** The server this connection is on now, e.g. `127.0.0.1:4222`. */
  server(): string {
    return this.nc.getServer();
  }

  /** The largest message the servers take. */
  maxPayload(): number {
    return this.nc.info?.max_payload ?? 1024 * 1024;
  }

  /** A message id never used before by any relay: 16 hex digits, '-', 12 base-36 digits. */
  nextMessageId(): string {
    this.counter++;
    return `${this.instance}-${this.counter.toString(36).padStart(MSG_ID_COUNTER_DIGITS, '0')}`;
  }

  async close(): Promise<void> {
    if (this.nc.isClosed()) return;
    await this.nc.close();
  }

  private setState(next: NatsLinkState): void {
    if (next === this.linkState) return;
    this.linkState = next;
    this.emit('state', next);
  }

  private async watch(): Promise<void> {
    void this.nc.closed().then(() => this.setState('closed'));
    for await (const s of this.nc.status()) {
      if (s.type === 'disconnect' || s.type === 'reconnecting' || s.type === 'staleConnection') {
        this.setState('reconnecting');
      } else if (s.type === 'reconnect') {
        this.setState('connected');
      }
    }
  }
}

const MSG_ID_COUNTER_DIGITS = 12;
/** Length of every message id `nextMessageId` mints. */
export const MESSAGE_ID_LENGTH = 16 + 1 + MSG_ID_COUNTER_DIGITS;

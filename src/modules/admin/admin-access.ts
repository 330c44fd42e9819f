import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { HandoffConfig } from '../../config/handoff-config.interface';
import { credentialOf } from '../relay/auth.guard';

/** What an operator route needs of a request: Fastify's and Express's requests both fit. */
export interface AdminRequest {
  headers: IncomingHttpHeaders;
  query?: unknown;
  socket?: { remoteAddress?: string };
  raw?: { socket?: { remoteAddress?: string } };
}

/** Whether a request may do something, and if not the status and `{ error }` to answer. */
export type AccessDecision =
  { allowed: true } | { allowed: false; status: 401 | 403; error: string };

const ALLOWED: AccessDecision = { allowed: true };

/**
 * Headers a reverse proxy adds. A request carrying one came from somewhere else through a proxy
 * on this host, so its loopback socket says nothing about who sent it.
 */
const PROXY_HEADERS = ['forwarded', 'x-forwarded-for', 'x-real-ip'] as const;

/**
 * Who may read and who may act on the operator routes (`/hh/nodes`, the console):
 *
 * - reads (node status, dead letters) follow the relay's token: open without `HH_AUTH_TOKEN`
 *   (like `/health` and `/metrics`), else they need it or the admin token;
 * - actions (pause, resume, replay, purge, requeue) need `HH_ADMIN_TOKEN`, falling back to
 *   `HH_AUTH_TOKEN`, in the `Authorization` header only (a token in a URL ends up in logs);
 *   with neither configured they answer only to a loopback client that did not come through a
 *   proxy.
 *
 * Secrets are compared as SHA-256 digests with `timingSafeEqual`: the time taken does not
 * depend on how much of the secret a guess got right, nor on its length.
 */
export class AdminAccess {
  private readonly readDigests: Buffer[];
  private readonly actDigest?: Buffer;
  /** Which variable an action's token is, for the refusal message. */
  private readonly actTokenName: string;

  constructor(config: Pick<HandoffConfig, 'authToken' | 'adminToken'>) {
    this.readDigests = config.authToken
      ? [config.authToken, config.adminToken].filter((t): t is string => !!t).map(digest)
      : [];
    const actToken = config.adminToken ?? config.authToken;
    if (actToken) this.actDigest = digest(actToken);
    this.actTokenName = config.adminToken ? 'HH_ADMIN_TOKEN' : 'HH_AUTH_TOKEN';
  }

  /** True when actions need a token (rather than a loopback client). */
  get actionsNeedToken(): boolean {
    return this.actDigest !== undefined;
  }

  read(request: AdminRequest): AccessDecision {
    if (this.readDigests.length === 0) return ALLOWED;
    const given = credentialOf(request as Parameters<typeof credentialOf>[0]);
    if (given === undefined) {
      return { allowed: false, status: 401, error: 'unable to parse authentication credentials' };
    }
    const presented = digest(given);
    // Every digest is compared (no early exit), so the time does not say which one matched.
    const matches = this.readDigests.map((d) => timingSafeEqual(presented, d));
    return matches.includes(true)
      ? ALLOWED
      : { allowed: false, status: 401, error: 'authorization failed' };
  }

  act(request: AdminRequest): AccessDecision {
    if (!this.actDigest) return this.loopbackOnly(request);
    const given = credentialOf({ headers: request.headers, query: undefined });
    if (given === undefined) {
      return {
        allowed: false,
        status: 401,
        error: `this action needs the admin token (${this.actTokenName}) as Authorization: Bearer <token>`,
      };
    }
    return timingSafeEqual(digest(given), this.actDigest)
      ? ALLOWED
      : { allowed: false, status: 401, error: 'authorization failed' };
  }

  private loopbackOnly(request: AdminRequest): AccessDecision {
    const address = request.raw?.socket?.remoteAddress ?? request.socket?.remoteAddress;
    const proxied = PROXY_HEADERS.some((h) => request.headers[h] !== undefined);
    if (isLoopback(address) && !proxied) return ALLOWED;
    return {
      allowed: false,
      status: 403,
      error:
        'admin actions answer only to loopback clients when no HH_ADMIN_TOKEN (or HH_AUTH_TOKEN) is set; set one and send it as Authorization: Bearer <token>',
    };
  }
}

/** 127.0.0.0/8 and ::1, also as IPv4-mapped IPv6 (`::ffff:127.0.0.1`) on a dual-stack socket. */
export function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  const v4 = address.startsWith('::ffff:') ? address.slice(7) : address;
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(v4) || address === '::1';
}

function digest(secret: string): Buffer {
  return createHash('sha256').update(secret, 'utf8').digest();
}

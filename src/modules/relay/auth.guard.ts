import { createHash, timingSafeEqual } from 'node:crypto';
import { CanActivate, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { HANDOFF_CONFIG } from '../../config/handoff-config.constants';
import type { HandoffConfig } from '../../config/handoff-config.interface';
import { InfluxHttpError } from './influx-error';

/**
 * Guards the relay's write, query and admin routes when `HH_AUTH_TOKEN` is set. Accepted, as
 * InfluxDB 1.x clients send them: `Authorization: Bearer <token>` or `Token <token>`, Basic auth
 * with the token as password, or `u`/`p` query parameters with the token as `p` (the user name
 * is not checked: the relay has one secret, not users). Without a token every request passes.
 *
 * Use with `@UseGuards(RelayAuthGuard)` on a controller; its module must see `HANDOFF_CONFIG`.
 * `/ping` and `/health` deliberately stay open so load balancers need no secret.
 */
@Injectable()
export class RelayAuthGuard implements CanActivate {
  private readonly expected?: Buffer;

  constructor(@Inject(HANDOFF_CONFIG) config: HandoffConfig) {
    if (config.authToken) this.expected = digest(config.authToken);
  }

  canActivate(context: ExecutionContext): boolean {
    if (!this.expected) return true;
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    const given = credentialOf(request);
    if (given === undefined) {
      throw new InfluxHttpError(401, 'unable to parse authentication credentials');
    }
    // Equal-length digests: the compare takes the same time whatever the given secret's length.
    if (!timingSafeEqual(digest(given), this.expected)) {
      throw new InfluxHttpError(401, 'authorization failed');
    }
    return true;
  }
}

function digest(secret: string): Buffer {
  return createHash('sha256').update(secret, 'utf8').digest();
}

/** The secret a request presents, from its header first, then its `p` query parameter. */
export function credentialOf(
  request: Pick<FastifyRequest, 'headers' | 'query'>,
): string | undefined {
  const header = request.headers.authorization;
  if (typeof header === 'string' && header.length > 0) {
    const space = header.indexOf(' ');
    const scheme = (space < 0 ? header : header.slice(0, space)).toLowerCase();
    const value = space < 0 ? '' : header.slice(space + 1).trim();
    if (scheme === 'bearer' || scheme === 'token') return value || undefined;
    if (scheme === 'basic') {
      const decoded = Buffer.from(value, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      return colon < 0 ? undefined : decoded.slice(colon + 1);
    }
  }
  const query = request.query as Record<string, unknown> | undefined;
  const p = query?.p;
  return typeof p === 'string' ? p : undefined;
}

import { ArgumentsHost, Catch, HttpException, Logger } from '@nestjs/common';
import { BaseExceptionFilter } from '@nestjs/core';
import type { FastifyReply, FastifyRequest } from 'fastify';

/** The paths InfluxDB clients call: their errors must read as InfluxDB's. */
const INFLUX_PATHS = new Set(['/write', '/query', '/ping', '/api/v2/write']);

/**
 * Every error a client of the InfluxDB routes meets, in InfluxDB's shape `{"error": "…"}`: the
 * `influx` CLI and the client libraries read `error` and show nothing useful for Nest's
 * `{statusCode, message}`. Also unknown routes (InfluxDB answers 404 there). Other routes (admin,
 * health, metrics) keep whatever their own filters answer.
 */
@Catch()
export class InfluxErrorFilter extends BaseExceptionFilter {
  private readonly logger = new Logger('InfluxErrorFilter');

  override catch(exception: unknown, host: ArgumentsHost): void {
    const request = host.switchToHttp().getRequest<FastifyRequest | undefined>();
    const reply = host.switchToHttp().getResponse<FastifyReply | undefined>();
    if (!request || !reply || typeof reply.status !== 'function' || !isInfluxRoute(request)) {
      super.catch(exception, host);
      return;
    }
    const { status, message } = influxErrorOf(exception);
    if (status >= 500 && !(exception instanceof HttpException)) {
      this.logger.error({ msg: 'unexpected error', reason: (exception as Error)?.message });
    }
    void reply.status(status).header('content-type', 'application/json').send({ error: message });
  }
}

function isInfluxRoute(request: FastifyRequest): boolean {
  const route = request.routeOptions?.url;
  if (route === undefined) return true; // no route matched: InfluxDB's 404
  return INFLUX_PATHS.has(route);
}

export function influxErrorOf(exception: unknown): { status: number; message: string } {
  if (exception instanceof HttpException) {
    const status = exception.getStatus();
    const response = exception.getResponse();
    if (typeof response === 'string') return { status, message: response };
    const body = response as { error?: unknown; message?: unknown };
    if (typeof body.error === 'string' && body.message === undefined) {
      return { status, message: body.error };
    }
    const message = Array.isArray(body.message) ? body.message.join('; ') : body.message;
    return { status, message: typeof message === 'string' ? message : exception.message };
  }
  const status = (exception as { statusCode?: unknown })?.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 600) {
    return { status, message: (exception as Error).message };
  }
  return { status: 500, message: 'internal error' };
}

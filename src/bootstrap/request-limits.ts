import type { IncomingMessage, Server } from 'node:http';
import type { Socket } from 'node:net';
import type { ExecutionContext } from '@nestjs/common';
import { HttpException } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { DEFAULTS } from '../config/defaults';
import type { HandoffConfig } from '../config/handoff-config.interface';
import { RelayAuthGuard } from '../modules/relay/auth.guard';

export interface RequestLimits {
  headerTimeoutMs: number;
  bodyTimeoutMs: number;
  keepAliveTimeoutMs: number;
  maxConnections: number;
}

export function requestLimitsOf(config: HandoffConfig): RequestLimits {
  return {
    headerTimeoutMs: config.headerTimeoutMs ?? DEFAULTS.headerTimeoutMs,
    bodyTimeoutMs: config.bodyTimeoutMs ?? DEFAULTS.bodyTimeoutMs,
    keepAliveTimeoutMs: config.keepAliveTimeoutMs ?? DEFAULTS.keepAliveTimeoutMs,
    maxConnections: config.maxConnections ?? DEFAULTS.maxConnections,
  };
}

/** The InfluxDB routes whose bodies may be large: their token is checked before the body. */
const BODY_ROUTES = new Set(['/write', '/query']);

/**
 * Limits that keep a slow, idle or unauthenticated client from holding the relay's sockets,
 * descriptors or memory. Applied to the relay app before it listens.
 */
export function applyRequestLimits(app: NestFastifyApplication, limits: RequestLimits): void {
  const server = app.getHttpServer() as Server;
  const fastify = app.getHttpAdapter().getInstance() as FastifyInstance;
  // Past the cap Node closes each new connection as it is accepted.
  server.maxConnections = limits.maxConnections;
  server.keepAliveTimeout = limits.keepAliveTimeoutMs;
  // Node's own header and request timeouts are only checked every 30 s; they stay as a backstop
  // and the precise cuts are the timers below.
  server.headersTimeout = limits.headerTimeoutMs;
  server.requestTimeout = limits.headerTimeoutMs + limits.bodyTimeoutMs;
  cutSlowHeaders(server, limits);
  fastify.addHook('onRequest', cutSlowBody(limits.bodyTimeoutMs));
  fastify.addHook('onRequest', authenticateBeforeBody(app.get(RelayAuthGuard, { strict: false })));
}

const headerTimers = new WeakMap<Socket, NodeJS.Timeout>();

function armHeaderTimer(socket: Socket, ms: number): void {
  clearTimeout(headerTimers.get(socket));
  const timer = setTimeout(() => socket.destroy(), ms);
  timer.unref();
  headerTimers.set(socket, timer);
}

/**
 * A connection must deliver a request's headers within `headerTimeoutMs` of opening, and the next
 * one within the keep-alive timeout plus that after each answer: a client trickling header bytes
 * never gets past Node's parser, so no route or hook would see it.
 */
function cutSlowHeaders(server: Server, limits: RequestLimits): void {
  server.on('connection', (socket: Socket) => {
    armHeaderTimer(socket, limits.headerTimeoutMs);
    socket.once('close', () => clearTimeout(headerTimers.get(socket)));
  });
  server.on('request', (request: IncomingMessage, response) => {
    const socket = request.socket;
    clearTimeout(headerTimers.get(socket));
    response.once('finish', () => {
      if (!socket.destroyed) {
        armHeaderTimer(socket, limits.keepAliveTimeoutMs + limits.headerTimeoutMs);
      }
    });
  });
}

const REQUEST_TIMEOUT_BODY = JSON.stringify({ error: 'request body not received in time' });
const REQUEST_TIMEOUT_ANSWER =
  'HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Type: application/json\r\n' +
  `Content-Length: ${Buffer.byteLength(REQUEST_TIMEOUT_BODY)}\r\n\r\n${REQUEST_TIMEOUT_BODY}`;

/**
 * The whole body must arrive within `ms` of the headers. A body still incomplete then is cut:
 * 408 (as Node's own request timeout answers) and the connection closed, whatever waits for it.
 */
function cutSlowBody(ms: number) {
  return (request: FastifyRequest, reply: FastifyReply, done: () => void): void => {
    const raw = request.raw;
    const timer = setTimeout(() => {
      if (raw.complete) return;
      const socket = raw.socket;
      if (!reply.raw.headersSent && socket.writable) socket.write(REQUEST_TIMEOUT_ANSWER);
      socket.destroy();
    }, ms);
    timer.unref();
    const clear = () => clearTimeout(timer);
    raw.once('end', clear);
    raw.once('close', clear);
    reply.raw.once('close', clear);
    done();
  };
}

/**
 * With HH_AUTH_TOKEN set, `/write` and `/query` are answered 401 from the headers alone: no body
 * parser runs and nothing of the body is kept. The relay's guard decides, so the rules stay those
 * of every route it guards. The connection stays open so the client, still uploading, can read
 * the answer (closing it would reset the connection under the client, which most clients report
 * as a broken pipe): Node discards the rest of the body as it arrives, within Node's request
 * timeout (HH_HEADER_TIMEOUT + HH_BODY_TIMEOUT).
 */
function authenticateBeforeBody(guard: RelayAuthGuard) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    if (!BODY_ROUTES.has(request.routeOptions.url ?? '')) return;
    try {
      guard.canActivate(httpContextOf(request));
    } catch (err) {
      if (!(err instanceof HttpException)) throw err;
      await reply.code(err.getStatus()).send(err.getResponse());
    }
  };
}

/** The part of an execution context a guard of HTTP routes reads. */
function httpContextOf(request: FastifyRequest): ExecutionContext {
  return { switchToHttp: () => ({ getRequest: () => request }) } as ExecutionContext;
}

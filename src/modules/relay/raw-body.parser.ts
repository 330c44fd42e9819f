import type { IncomingMessage } from 'node:http';
import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { HANDOFF_CONFIG } from '../../config/handoff-config.constants';
import type { HandoffConfig } from '../../config/handoff-config.interface';

/**
 * The body of a request over the limit, in place of its bytes: the route answers 413 in
 * InfluxDB's JSON shape itself, since Fastify's own limit error would reach the client in
 * Nest's shape (`{statusCode, message}`) that InfluxDB clients cannot read.
 */
export class OversizeBody {
  constructor(readonly limit: number) {}
}

export type RawBody = Buffer | OversizeBody;

/** Routes whose bodies are InfluxDB's (line protocol, query forms): kept as raw bytes. */
const RAW_ROUTES = new Set(['/write', '/query', '/api/v2/write']);

/**
 * Makes Fastify hand every body of the relay's InfluxDB routes over as raw bytes, whatever the
 * content type (clients send line protocol as text/plain, octet-stream, form-urlencoded or with
 * no type; Fastify would answer 415 to most), and stops reading at `HH_MAX_BODY_SIZE`.
 * JSON bodies of other routes (the admin API) are still parsed as JSON.
 */
@Injectable()
export class RawBodyParser implements OnModuleInit {
  constructor(
    private readonly adapterHost: HttpAdapterHost,
    @Inject(HANDOFF_CONFIG) private readonly config: HandoffConfig,
  ) {}

  onModuleInit(): void {
    const fastify = this.adapterHost.httpAdapter.getInstance<FastifyInstance>();
    const limit = this.config.maxBodySize;
    const raw = (_request: FastifyRequest, payload: IncomingMessage) => readBody(payload, limit);
    // Nest registered JSON and form parsers for every route; the InfluxDB routes need the
    // bytes instead, other routes keep getting parsed objects.
    fastify.removeContentTypeParser(['text/plain', 'application/json', FORM]);
    fastify.addContentTypeParser(['*', 'text/plain'], raw);
    fastify.addContentTypeParser('application/json', structured(limit, parseJson));
    fastify.addContentTypeParser(FORM, structured(limit, parseForm));
    // The influx 1.6 CLI sends `Content-Type:` with no value; Fastify refuses that (and any
    // type that is not `type/subtype`) as an invalid media type (415) before a parser runs.
    // InfluxDB ignores the type on these routes: treat an unreadable one as absent.
    fastify.addHook('onRequest', (request, _reply, done) => {
      const type = request.headers['content-type'];
      if (
        typeof type === 'string' &&
        RAW_ROUTES.has(request.routeOptions.url ?? '') &&
        !MEDIA_TYPE.test(type)
      ) {
        delete request.headers['content-type'];
      }
      done();
    });
  }
}

const FORM = 'application/x-www-form-urlencoded';
/** What Fastify can read as a media type: `type/subtype`, parameters after. */
const MEDIA_TYPE = /^\s*[\w!#$&^.+-]+\/[\w!#$&^.+-]+\s*(;|$)/;

/** A parser that keeps the raw bytes on the InfluxDB routes and parses the body elsewhere. */
function structured(limit: number, parse: (text: string) => unknown) {
  return async (request: FastifyRequest, payload: IncomingMessage): Promise<unknown> => {
    const body = await readBody(payload, limit);
    if (RAW_ROUTES.has(request.routeOptions.url ?? '') || body instanceof OversizeBody) return body;
    if (body.length === 0) return undefined;
    return parse(body.toString('utf8'));
  };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw Object.assign(new Error('request body is not valid JSON'), { statusCode: 400 });
  }
}

function parseForm(text: string): Record<string, string> {
  return Object.fromEntries(new URLSearchParams(text));
}

/**
 * Reads a body up to `limit` bytes. A declared length over the limit is refused before a byte
 * is read; a streamed body stops being buffered as soon as it passes the limit (the rest is
 * discarded, so memory stays bounded whatever the client sends).
 */
export function readBody(payload: IncomingMessage, limit: number): Promise<RawBody> {
  const declared = Number(payload.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    payload.resume();
    return Promise.resolve(new OversizeBody(limit));
  }
  return new Promise<RawBody>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    payload.on('data', (chunk: Buffer) => {
      if (over) return;
      size += chunk.length;
      if (size > limit) {
        over = true;
        chunks.length = 0;
        return;
      }
      chunks.push(chunk);
    });
    payload.on('end', () => resolve(over ? new OversizeBody(limit) : Buffer.concat(chunks, size)));
    payload.on('error', reject);
  });
}

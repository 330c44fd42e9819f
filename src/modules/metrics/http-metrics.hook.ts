import { Injectable, OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { InjectMetric } from '@willsoto/nestjs-prometheus';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Counter, Histogram } from 'prom-client';
import { METRIC } from './metrics.definitions';

/** The label of a request that matched no route: raw URLs would make unbounded label values. */
const UNMATCHED_ROUTE = 'unmatched';

/**
 * Counts and times every answer of a Fastify app by method, route pattern and status code.
 * A Fastify `onResponse` hook rather than a Nest interceptor, because interceptors run after
 * guards and body parsing: they never see the 401s, 413s and 404s an operator needs to count.
 */
@Injectable()
export class HttpMetricsHook implements OnModuleInit {
  constructor(
    private readonly adapterHost: HttpAdapterHost,
    @InjectMetric(METRIC.httpRequests) private readonly requests: Counter<string>,
    @InjectMetric(METRIC.httpRequestDuration) private readonly duration: Histogram<string>,
  ) {}

  onModuleInit(): void {
    const adapter = this.adapterHost.httpAdapter;
    if (!adapter || adapter.getType() !== 'fastify') {
      throw new Error('HttpMetricsModule needs the Fastify adapter (the relay app)');
    }
    const fastify = adapter.getInstance<FastifyInstance>();
    fastify.addHook('onResponse', (request, reply, done) => {
      this.record(request, reply);
      done();
    });
  }

  private record(request: FastifyRequest, reply: FastifyReply): void {
    const labels = {
      method: request.method,
      route: request.routeOptions.url ?? UNMATCHED_ROUTE,
      code: String(reply.statusCode),
    };
    this.requests.inc(labels);
    // elapsedTime is Fastify's own measure from the start of the request, in ms.
    this.duration.observe(labels, reply.elapsedTime / 1000);
  }
}

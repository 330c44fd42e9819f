import { Body, Controller, Get, Inject, Post, Req, Res, UseGuards } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { WriteConsistency } from '../../config/defaults';
import { HANDOFF_CONFIG } from '../../config/handoff-config.constants';
import type { HandoffConfig } from '../../config/handoff-config.interface';
import { RelayAuthGuard } from './auth.guard';
import { queryChangesState } from './influxql';
import { InfluxHttpError } from './influx-error';
import { queryParams, type ClientQuery } from './node-query';
import { QueryProxyService } from './query-proxy.service';
import { OversizeBody, type RawBody } from './raw-body.parser';
import { StatementFanoutService } from './statement-fanout.service';
import { cappedConsistency } from './write-verdict';

/** Response headers that belong to one hop, not to the answer. */
const HOP_HEADERS = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length']);
const CONSISTENCIES: readonly WriteConsistency[] = ['any', 'one', 'quorum', 'all'];

/**
 * InfluxDB 1.x `/query`. A query that only reads goes to the first node that answers and is
 * streamed back; one that changes state (any statement of it) goes to every node, handed off
 * where a node cannot take it now.
 */
@Controller()
@UseGuards(RelayAuthGuard)
export class QueryController {
  constructor(
    private readonly proxy: QueryProxyService,
    private readonly statements: StatementFanoutService,
    @Inject(HANDOFF_CONFIG) private readonly config: HandoffConfig,
  ) {}

  @Get('query')
  async get(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    await this.handle(request, reply, undefined);
  }

  @Post('query')
  async post(
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
    @Body() body: RawBody | undefined,
  ): Promise<void> {
    if (body instanceof OversizeBody) {
      throw new InfluxHttpError(413, `request body too large: the limit is ${body.limit} bytes`);
    }
    await this.handle(request, reply, Buffer.isBuffer(body) ? body : Buffer.alloc(0));
  }

  private async handle(
    request: FastifyRequest,
    reply: FastifyReply,
    body: Buffer | undefined,
  ): Promise<void> {
    const query: ClientQuery = {
      method: request.method === 'POST' ? 'POST' : 'GET',
      search: request.url.includes('?') ? request.url.slice(request.url.indexOf('?') + 1) : '',
      headers: request.headers,
      body,
    };
    const params = queryParams(query);
    const q = params.get('q');
    if (q && queryChangesState(q)) {
      const answer = await this.statements.run(query, params, this.consistencyOf(params));
      await reply
        .status(answer.status)
        .header('content-type', answer.contentType)
        .send(answer.body);
      return;
    }
    await this.forward(query, reply);
  }

  private consistencyOf(params: URLSearchParams): WriteConsistency {
    const asked = params.get('consistency') || this.config.writeConsistency;
    if (!CONSISTENCIES.includes(asked as WriteConsistency)) {
      throw new InfluxHttpError(
        400,
        `invalid consistency ${JSON.stringify(asked)} (use any, one, quorum or all)`,
      );
    }
    return cappedConsistency(asked as WriteConsistency, this.config.maxConsistency);
  }

  private async forward(query: ClientQuery, reply: FastifyReply): Promise<void> {
    let answer;
    try {
      answer = await this.proxy.forward(query);
    } catch (err) {
      throw new InfluxHttpError(503, `no node answered the query: ${(err as Error).message}`);
    }
    reply.status(answer.statusCode ?? 502);
    this.proxy.observeVersion(answer.headers);
    for (const [name, value] of Object.entries(answer.headers)) {
      if (value !== undefined && !HOP_HEADERS.has(name)) reply.header(name, value);
    }
    await reply.send(answer);
  }
}

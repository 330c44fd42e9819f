import { Body, Controller, Get, Post, Req, Res, UseGuards } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { RelayAuthGuard } from './auth.guard';
import { InfluxHttpError } from './influx-error';
import { QueryProxyService } from './query-proxy.service';
import { OversizeBody, type RawBody } from './raw-body.parser';

/** Response headers that belong to one hop, not to the answer. */
const HOP_HEADERS = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length']);

/** InfluxDB 1.x `/query`, passed to the first node that answers and streamed back. */
@Controller()
@UseGuards(RelayAuthGuard)
export class QueryController {
  constructor(private readonly proxy: QueryProxyService) {}

  @Get('query')
  async get(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    await this.forward(request, reply, undefined);
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
    await this.forward(request, reply, Buffer.isBuffer(body) ? body : Buffer.alloc(0));
  }

  private async forward(
    request: FastifyRequest,
    reply: FastifyReply,
    body: Buffer | undefined,
  ): Promise<void> {
    const search = request.url.includes('?') ? request.url.slice(request.url.indexOf('?') + 1) : '';
    let answer;
    try {
      answer = await this.proxy.forward({
        method: request.method === 'POST' ? 'POST' : 'GET',
        search,
        headers: request.headers,
        body,
      });
    } catch (err) {
      throw new InfluxHttpError(503, `no node answered the query: ${(err as Error).message}`);
    }
    reply.status(answer.statusCode ?? 502);
    for (const [name, value] of Object.entries(answer.headers)) {
      if (value !== undefined && !HOP_HEADERS.has(name)) reply.header(name, value);
    }
    await reply.send(answer);
  }
}

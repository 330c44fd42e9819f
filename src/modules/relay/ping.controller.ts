import { Controller, Get, Head, HttpCode, Query, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { RELAY_INFLUX_BUILD, RELAY_INFLUX_VERSION } from './relay.constants';

/**
 * InfluxDB's `/ping`: open (no auth), answered by the relay itself, since it says the relay is
 * up and accepting writes, which it is even when every node is down (writes are handed off).
 */
@Controller()
export class PingController {
  @Get('ping')
  @Head('ping')
  @HttpCode(204)
  ping(
    @Query('verbose') verbose: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): unknown {
    reply
      .header('X-Influxdb-Version', RELAY_INFLUX_VERSION)
      .header('X-Influxdb-Build', RELAY_INFLUX_BUILD);
    if (verbose === 'true' || verbose === '1') {
      reply.status(200);
      return { version: RELAY_INFLUX_VERSION };
    }
    return undefined;
  }
}

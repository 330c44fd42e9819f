import { Controller, Get, Head, Query, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { InfluxVersion } from './influx-version';
import { RELAY_INFLUX_BUILD } from './relay.constants';

/**
 * InfluxDB's `/ping`: open (no auth), answered by the relay itself, since it says the relay is
 * up and accepting writes, which it is even when every node is down (writes are handed off).
 * `verbose=true` answers 200 with `{"version": …}`, as InfluxDB does.
 */
@Controller()
export class PingController {
  constructor(private readonly version: InfluxVersion) {}

  @Get('ping')
  @Head('ping')
  async ping(
    @Query('verbose') verbose: string | undefined,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const wantsVersion = verbose === 'true' || verbose === '1';
    if (wantsVersion) await this.version.refresh();
    reply
      .header('X-Influxdb-Version', this.version.current)
      .header('X-Influxdb-Build', RELAY_INFLUX_BUILD);
    if (wantsVersion) {
      await reply.status(200).send({ version: this.version.current });
      return;
    }
    await reply.status(204).send();
  }
}

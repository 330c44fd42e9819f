import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance } from 'fastify';
import { HANDOFF_CONFIG } from '../../config/handoff-config.constants';
import type { HandoffConfig } from '../../config/handoff-config.interface';
import type { InfluxNodeClient } from './influx-node-client';
import { RELAY_INFLUX_VERSION, RELAY_NODE_CLIENT } from './relay.constants';

/** The routes InfluxDB clients call, which carry `X-Influxdb-Version` as InfluxDB's do. */
const INFLUX_ROUTES = new Set(['/write', '/query', '/ping', '/api/v2/write']);
const REFRESH_WAIT_MS = 1000;

/**
 * The InfluxDB version the relay reports: what its nodes report (read from their `/ping` at
 * start and from every answer since), or the relay's fallback until a node has answered.
 * Clients pick API features by it, so it must be the nodes' own.
 */
@Injectable()
export class InfluxVersion implements OnModuleInit, OnApplicationBootstrap {
  private readonly logger = new Logger('InfluxVersion');

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    @Inject(RELAY_NODE_CLIENT) private readonly client: InfluxNodeClient,
    @Inject(HANDOFF_CONFIG) private readonly config: HandoffConfig,
  ) {}

  get current(): string {
    return this.client.nodeVersion ?? RELAY_INFLUX_VERSION;
  }

  onModuleInit(): void {
    const fastify = this.adapterHost.httpAdapter.getInstance<FastifyInstance>();
    fastify.addHook('onRequest', (request, reply, done) => {
      if (INFLUX_ROUTES.has(request.routeOptions.url ?? '')) {
        void reply.header('X-Influxdb-Version', this.current);
      }
      done();
    });
  }

  /** Asks every node's `/ping` once; the first to answer sets the version. Never delays start. */
  onApplicationBootstrap(): void {
    for (const { id } of this.config.nodes) {
      this.client.ping(id).catch((err: unknown) => {
        this.logger.warn({ msg: 'node /ping failed', node: id, reason: (err as Error).message });
      });
    }
  }

  /**
   * Pings the nodes now when none has answered yet (a `/ping?verbose` asks for the version),
   * waiting at most `REFRESH_WAIT_MS`: a ping must stay quick when every node is down.
   */
  async refresh(): Promise<void> {
    if (this.client.nodeVersion) return;
    let timer: NodeJS.Timeout | undefined;
    const pings = Promise.any(this.config.nodes.map(({ id }) => this.client.ping(id)));
    await Promise.race([
      pings.catch(() => undefined),
      new Promise<void>((resolve) => (timer = setTimeout(resolve, REFRESH_WAIT_MS))),
    ]);
    clearTimeout(timer);
  }
}

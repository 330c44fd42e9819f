import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { RelayAuthGuard } from './auth.guard';
import { InfluxErrorFilter } from './influx-error.filter';
import type { InfluxNodeClient } from './influx-node-client';
import { InfluxVersion } from './influx-version';
import { PingController } from './ping.controller';
import { QueryController } from './query.controller';
import { QueryProxyService } from './query-proxy.service';
import { RawBodyParser } from './raw-body.parser';
import { RELAY_NODE_CLIENT } from './relay.constants';
import { StatementFanoutService } from './statement-fanout.service';
import { WriteController } from './write.controller';
import { WriteFanoutService } from './write-fanout.service';

export interface RelayModuleOptions {
  /** The client live writes and queries go through: the same instance the replayer uses. */
  client: InfluxNodeClient;
}

/**
 * The InfluxDB 1.x face of the standalone relay: `/write`, `/ping`, `/query`. Needs the Fastify
 * adapter, and `HandoffService` and `HANDOFF_CONFIG` visible (the app module provides both
 * globally). Exports `RelayAuthGuard` for the admin routes.
 */
@Module({})
export class RelayModule {
  static forRoot(options: RelayModuleOptions): DynamicModule {
    return {
      module: RelayModule,
      controllers: [WriteController, PingController, QueryController],
      providers: [
        { provide: RELAY_NODE_CLIENT, useValue: options.client },
        RawBodyParser,
        { provide: APP_FILTER, useClass: InfluxErrorFilter },
        RelayAuthGuard,
        WriteFanoutService,
        QueryProxyService,
        StatementFanoutService,
        InfluxVersion,
      ],
      exports: [RelayAuthGuard, RELAY_NODE_CLIENT],
    };
  }
}

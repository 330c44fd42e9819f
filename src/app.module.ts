import { DynamicModule, LoggerService, LogLevel, Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { handoffConfig, validateHandoffEnv } from './config';
import type { HandoffConfig } from './config/handoff-config.interface';
import { AdminModule } from './modules/admin/admin.module';
import { HandoffConsoleModule } from './modules/console/handoff-console.module';
import { HintedHandoffModule } from './modules/handoff/hinted-handoff.module';
import { HealthRoutesModule } from './modules/health/health-routes.module';
import { RelayMetricsModule } from './modules/metrics/relay-metrics.module';
import { InfluxNodeClient } from './modules/relay/influx-node-client';
import { RelayModule } from './modules/relay/relay.module';

/**
 * The standalone relay app. `config` is validated by `main.ts` before this module is built, so a
 * bad configuration never gets as far as opening a queue.
 */
@Module({})
export class AppModule {
  static forRoot(config: HandoffConfig): DynamicModule {
    // One client for both paths: live writes and replays share each node's keep-alive sockets.
    const client = new InfluxNodeClient(config.nodes, {
      timeoutMs: config.writeTimeoutMs,
      maxRequestBytes: config.maxBodySize,
      replayLanes: config.replayLanes,
      replayAdaptive: config.replayAdaptive,
    });
    return {
      module: AppModule,
      imports: [
        // Only the app owns ConfigModule.forRoot; the library never calls it. Variables come from
        // the environment alone (no .env file), the same source main.ts validated.
        ConfigModule.forRoot({
          isGlobal: true,
          ignoreEnvFile: true,
          load: [handoffConfig],
          validate: (env) => {
            validateHandoffEnv(env);
            return env;
          },
        }),
        // The library's own module, as a host app uses it: the resolved config and the hand-off
        // service visible to every module below (global), the relay's client for the replays.
        HintedHandoffModule.forRoot({ ...config, client }),
        RelayModule.forRoot({ client }),
        // ---- Operator, health and metrics routes (owned by their modules' engineer) ----------
        AdminModule,
        HandoffConsoleModule.register(), // the operator console at /hh/ui
        HealthRoutesModule,
        RelayMetricsModule.forRoot(),
        // -----------------------------------------------------------------------------------
      ],
    };
  }
}

/**
 * The relay app on the Fastify adapter, initialised but not listening: `main.ts` and the tests
 * build it the same way. The adapter's own body limit matches HH_MAX_BODY_SIZE (the relay's
 * parser enforces it with an InfluxDB-style 413).
 */
export async function createRelayApp(
  config: HandoffConfig,
  options: { logger?: LoggerService | LogLevel[] | false } = {},
): Promise<NestFastifyApplication> {
  return NestFactory.create<NestFastifyApplication>(
    AppModule.forRoot(config),
    new FastifyAdapter({ bodyLimit: config.maxBodySize }),
    { logger: options.logger },
  );
}

import type { AddressInfo } from 'node:net';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createRelayApp } from './app.module';
import { ConfigValidationError, validateHandoffEnv } from './config';
import type { HandoffConfig } from './config/handoff-config.interface';
import { JsonLogger } from './modules/relay/relay-logger';

const logger = new JsonLogger();

/**
 * The standalone relay. Order matters: the environment is checked before anything is opened or
 * created on disk, so a bad configuration exits 1 with one message naming every bad variable.
 */
async function bootstrap(): Promise<void> {
  let config: HandoffConfig;
  try {
    config = validateHandoffEnv(process.env);
  } catch (err) {
    if (!(err instanceof ConfigValidationError)) throw err;
    // Plain text on stderr: the operator reads it once, fixes every line, and restarts.
    process.stderr.write(`${err.message}\n`);
    process.exit(1);
  }

  const app = await createRelayApp(config, { logger });
  // Hooks for every other signal; SIGTERM and SIGINT get the graceful path below, because Nest's
  // own handler re-raises the signal after closing and the process would not exit 0.
  app.enableShutdownHooks(['SIGHUP', 'SIGQUIT']);
  handleStopSignals(app);

  await app.listen({ port: config.port, host: config.host });
  const { port } = app.getHttpServer().address() as AddressInfo;
  logger.log({ msg: 'relay listening', port, nodes: config.nodes.map((n) => n.id) }, 'Main');
}

/**
 * SIGTERM/SIGINT: stop accepting (Fastify closes the listener and answers 503 to new requests on
 * open connections), let in-flight writes finish their hand-offs, close and fsync the queues
 * (the replay module's shutdown hook), then exit 0. A second signal exits at once.
 */
function handleStopSignals(app: NestFastifyApplication): void {
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn({ msg: 'second signal, exiting without a clean shutdown', signal }, 'Main');
      process.exit(1);
    }
    stopping = true;
    logger.log({ msg: 'shutting down', signal }, 'Main');
    app.close().then(
      () => {
        logger.log({ msg: 'shut down cleanly' }, 'Main');
        process.exit(0);
      },
      (err: unknown) => {
        logger.error({ msg: 'shutdown failed', reason: (err as Error).message }, 'Main');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

bootstrap().catch((err: unknown) => {
  logger.fatal(
    {
      msg: 'start-up failed',
      reason: (err as Error).message,
      code: (err as { code?: string }).code,
    },
    'Main',
  );
  process.exit(1);
});

import type { AddressInfo } from 'node:net';
import { createRelayApp } from './app.module';
import { handleStopSignals } from './bootstrap/graceful-shutdown';
import { openFilesLimit, openFilesWarning } from './bootstrap/open-files-limit';
import { applyRequestLimits, requestLimitsOf } from './bootstrap/request-limits';
import { SendsInFlight } from './bootstrap/sends-in-flight';
import { dataDirProblem } from './bootstrap/startup-error';
import { ConfigValidationError, validateHandoffEnv } from './config';
import { DEFAULTS } from './config/defaults';
import type { HandoffConfig } from './config/handoff-config.interface';
import type { InfluxNodeClient } from './modules/relay/influx-node-client';
import { RELAY_NODE_CLIENT } from './modules/relay/relay.constants';
import { JsonLogger } from './modules/relay/relay-logger';

const logger = new JsonLogger();

/**
 * The standalone relay. Order matters: the environment is checked before anything is opened or
 * created on disk, so a bad configuration exits 1 with one message naming every bad variable.
 */
async function bootstrap(config: HandoffConfig): Promise<void> {
  const app = await createRelayApp(config, { logger });
  // Before listen: listen runs the init hooks, and the first replays with them.
  const client = app.get<InfluxNodeClient>(RELAY_NODE_CLIENT, { strict: false });
  const limits = requestLimitsOf(config);
  applyRequestLimits(app, limits);
  const descriptors = openFilesWarning(
    limits.maxConnections,
    config.nodes.length,
    openFilesLimit(),
  );
  if (descriptors) logger.warn({ msg: descriptors }, 'Main');
  const sends = new SendsInFlight();
  sends.track(client);
  // Hooks for every other signal; SIGTERM and SIGINT get the graceful path, because Nest's
  // own handler re-raises the signal after closing and the process would not exit 0.
  app.enableShutdownHooks(['SIGHUP', 'SIGQUIT']);
  handleStopSignals(app, {
    logger,
    sends,
    timeoutMs: config.shutdownTimeoutMs ?? DEFAULTS.shutdownTimeoutMs,
    abortSends: () => client.close(),
  });

  await app.listen({ port: config.port, host: config.host });
  const { port } = app.getHttpServer().address() as AddressInfo;
  logger.log({ msg: 'relay listening', port, nodes: config.nodes.map((n) => n.id) }, 'Main');
}

function readConfig(): HandoffConfig {
  try {
    return validateHandoffEnv(process.env);
  } catch (err) {
    if (!(err instanceof ConfigValidationError)) throw err;
    // Plain text on stderr: the operator reads it once, fixes every line, and restarts.
    process.stderr.write(`${err.message}\n`);
    process.exit(1);
  }
}

const config = readConfig();
bootstrap(config).catch((err: unknown) => {
  // The data directory's errors name the variable, the path and the fix; others as they are.
  const problem = dataDirProblem(err, config.dataDir);
  logger.fatal(
    problem ?? {
      msg: 'start-up failed',
      reason: (err as Error).message,
      code: (err as { code?: string }).code,
    },
    'Main',
  );
  process.exit(1);
});

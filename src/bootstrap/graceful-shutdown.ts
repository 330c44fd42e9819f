import type { Server } from 'node:http';
import type { LoggerService } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { SendsInFlight } from './sends-in-flight';

/** First report of what the shutdown waits for, then one every REPORT_EVERY_MS. */
const FIRST_REPORT_MS = 1000;
const REPORT_EVERY_MS = 5000;
/** How often connections that went idle during the shutdown are closed. */
const CLOSE_IDLE_EVERY_MS = 250;
/** After the sends were aborted, how long closing the queues may still take. */
export const CLOSE_GRACE_MS = 5000;

export interface ShutdownOptions {
  logger: LoggerService;
  sends: SendsInFlight;
  /** HH_SHUTDOWN_TIMEOUT: then the sends still open are aborted. */
  timeoutMs: number;
  /** Ends every request to the nodes (their copies are then handed off or kept queued). */
  abortSends: () => Promise<void>;
}

const CONTEXT = 'Shutdown';

/**
 * SIGTERM/SIGINT: stop accepting (Fastify closes the listener and answers 503 to new requests on
 * open connections), let in-flight writes finish their hand-offs, close and fsync the queues,
 * then exit 0. While it waits, it says for what (each send in flight, by node). A hung node
 * would hold it for HH_WRITE_TIMEOUT: at HH_SHUTDOWN_TIMEOUT the sends still open are aborted
 * instead — a live write's copy is then handed off, a replay batch stays queued — and if the
 * queues still have not closed CLOSE_GRACE_MS later, it exits 1. A second signal exits at once.
 */
export function handleStopSignals(app: NestFastifyApplication, options: ShutdownOptions): void {
  const { logger, sends } = options;
  let stopping = false;
  const report = (msg: string) => {
    const open = sends.list();
    if (open.length === 0) {
      logger.warn({ msg, waitingFor: 'the queues to close (no send in flight)' }, CONTEXT);
    }
    for (const send of open) logger.warn({ msg, ...sends.describe(send) }, CONTEXT);
  };
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn({ msg: 'second signal, exiting without a clean shutdown', signal }, CONTEXT);
      process.exit(1);
    }
    stopping = true;
    logger.log({ msg: 'shutting down', signal, timeoutSeconds: options.timeoutMs / 1000 }, CONTEXT);
    const timers: NodeJS.Timeout[] = [];
    // The server's close ends the connections idle at that moment; a keep-alive connection whose
    // answer is sent later (a write finishing its hand-off) would hold the close open until the
    // client or the keep-alive timeout ends it.
    const server = app.getHttpServer() as Server;
    timers.push(
      setInterval(() => server.closeIdleConnections(), CLOSE_IDLE_EVERY_MS),
      setTimeout(() => {
        report('shutdown waiting');
        timers.push(setInterval(() => report('shutdown still waiting'), REPORT_EVERY_MS));
      }, FIRST_REPORT_MS),
      setTimeout(() => {
        report('shutdown timeout: aborting the send in flight');
        void options.abortSends();
        timers.push(
          setTimeout(() => {
            logger.error(
              { msg: 'shutdown did not finish after aborting the sends, exiting', code: 1 },
              CONTEXT,
            );
            process.exit(1);
          }, CLOSE_GRACE_MS),
        );
      }, options.timeoutMs),
    );
    app.close().then(
      () => {
        timers.forEach(clearTimeout);
        logger.log({ msg: 'shut down cleanly' }, 'Main');
        process.exit(0);
      },
      (err: unknown) => {
        timers.forEach(clearTimeout);
        logger.error({ msg: 'shutdown failed', reason: (err as Error).message }, 'Main');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

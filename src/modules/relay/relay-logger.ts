import { ConsoleLogger, LogLevel } from '@nestjs/common';

/**
 * One JSON object per line on stdout (errors and warnings on stderr): `time`, `level`,
 * `context`, `msg` and any fields. Events carry ids, sizes and reasons, never a payload.
 */
export class JsonLogger extends ConsoleLogger {
  constructor(levels: LogLevel[] = ['log', 'error', 'warn', 'fatal']) {
    super();
    this.setLogLevels(levels);
  }

  protected override printMessages(
    messages: unknown[],
    context = '',
    logLevel: LogLevel = 'log',
  ): void {
    for (const message of messages) {
      const fields =
        typeof message === 'object' && message !== null && !(message instanceof Error)
          ? (message as Record<string, unknown>)
          : { msg: message instanceof Error ? message.message : String(message) };
      const line = JSON.stringify({
        time: new Date().toISOString(),
        level: logLevel,
        context,
        ...fields,
      });
      const stream =
        logLevel === 'error' || logLevel === 'warn' || logLevel === 'fatal'
          ? process.stderr
          : process.stdout;
      stream.write(`${line}\n`);
    }
  }

  protected override printStackTrace(stack: string): void {
    if (stack)
      process.stderr.write(
        `${JSON.stringify({ time: new Date().toISOString(), level: 'error', stack })}\n`,
      );
  }
}

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
    _writeStreamType?: 'stdout' | 'stderr',
    errorStack?: unknown,
  ): void {
    const stream =
      logLevel === 'error' || logLevel === 'warn' || logLevel === 'fatal'
        ? process.stderr
        : process.stdout;
    for (const message of messages) {
      const fields =
        typeof message === 'object' && message !== null && !(message instanceof Error)
          ? (message as Record<string, unknown>)
          : { msg: message instanceof Error ? message.message : String(message) };
      const stack = typeof errorStack === 'string' && errorStack ? { stack: errorStack } : {};
      stream.write(
        `${JSON.stringify({ time: new Date().toISOString(), level: logLevel, context, ...fields, ...stack })}\n`,
      );
    }
  }

  /** The stack is already a field of the event's line: one line per event. */
  protected override printStackTrace(): void {}
}

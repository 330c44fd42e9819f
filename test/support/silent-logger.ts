import type { ReplayLogger } from '../../src/modules/replay/replay-logger';

/** Keeps the lines a component logs, so tests can check them (and that no payload leaks). */
export class CapturingLogger implements ReplayLogger {
  readonly lines: string[] = [];
  log(message: string): void {
    this.lines.push(`log ${message}`);
  }
  warn(message: string): void {
    this.lines.push(`warn ${message}`);
  }
  error(message: string): void {
    this.lines.push(`error ${message}`);
  }
}

import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';

/**
 * A `node` child whose stdout lines a test can await (event-driven, no polling) and that a crash
 * test kills with SIGKILL.
 */
export class LineChild {
  readonly proc: ChildProcessWithoutNullStreams;
  readonly lines: string[] = [];
  readonly exited: Promise<number | null>;
  stderr = '';
  private partial = '';
  private waiters: {
    pred: (lines: string[]) => boolean;
    resolve: () => void;
    reject: (e: Error) => void;
  }[] = [];

  /** `nodeArgs`: what follows `node` on the command line (flags, script, its arguments). */
  constructor(nodeArgs: string[]) {
    this.proc = spawn(process.execPath, nodeArgs, { stdio: ['pipe', 'pipe', 'pipe'] });
    this.proc.stdout.setEncoding('utf8');
    this.proc.stdout.on('data', (chunk: string) => {
      const parts = (this.partial + chunk).split('\n');
      this.partial = parts.pop() ?? '';
      this.lines.push(...parts);
      this.check();
    });
    this.proc.stderr.setEncoding('utf8');
    this.proc.stderr.on('data', (c: string) => (this.stderr += c));
    this.exited = new Promise((resolve) =>
      this.proc.on('close', (code) => {
        for (const w of this.waiters.splice(0)) {
          w.reject(
            new Error(
              `child exited (${code}) before the expected output: ${this.stderr}${this.lines.slice(-3).join('|')}`,
            ),
          );
        }
        resolve(code);
      }),
    );
  }

  /** Resolves once the lines printed so far satisfy `pred`; rejects if the child exits first. */
  until(pred: (lines: string[]) => boolean): Promise<void> {
    return new Promise((resolve, reject) => {
      this.waiters.push({ pred, resolve, reject });
      this.check();
    });
  }

  /** Resolves once the child printed `line`. */
  untilLine(line: string): Promise<void> {
    return this.until((lines) => lines.includes(line));
  }

  async kill(): Promise<void> {
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill('SIGKILL');
    await this.exited;
  }

  private check(): void {
    this.waiters = this.waiters.filter((w) => {
      if (!w.pred(this.lines)) return true;
      w.resolve();
      return false;
    });
  }
}

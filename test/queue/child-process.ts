import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { join } from 'node:path';

const FIXTURES = join(__dirname, 'fixtures');

/** A `node` child running fixtures/queue-child.js on the TypeScript sources (compiled by swc on load). */
export class QueueChild {
  readonly proc: ChildProcessWithoutNullStreams;
  readonly lines: string[] = [];
  private partial = '';
  private waiters: {
    pred: (lines: string[]) => boolean;
    resolve: () => void;
    reject: (e: Error) => void;
  }[] = [];
  readonly exited: Promise<number | null>;
  stderr = '';

  constructor(args: string[]) {
    this.proc = spawn(
      process.execPath,
      ['-r', join(FIXTURES, 'ts-register.js'), join(FIXTURES, 'queue-child.js'), ...args],
      {
        stdio: ['pipe', 'pipe', 'pipe'],
      },
    );
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

  /** Resolves once the lines printed so far satisfy `pred` (event-driven, no polling). */
  until(pred: (lines: string[]) => boolean): Promise<void> {
    return new Promise((resolve, reject) => {
      this.waiters.push({ pred, resolve, reject });
      this.check();
    });
  }

  async kill(): Promise<void> {
    this.proc.kill('SIGKILL');
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

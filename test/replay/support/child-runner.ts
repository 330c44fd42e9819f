import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';

/** A `node` child whose stdout lines the test can await (event-driven), killed with SIGKILL. */
export class ChildRunner {
  readonly proc: ChildProcessWithoutNullStreams;
  readonly lines: string[] = [];
  readonly exited: Promise<number | null>;
  stderr = '';
  private partial = '';
  private waiters: Array<{ line: string; resolve: () => void; reject: (e: Error) => void }> = [];

  constructor(script: string, args: string[]) {
    this.proc = spawn(process.execPath, [script, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.proc.stdout.setEncoding('utf8');
    this.proc.stdout.on('data', (chunk: string) => {
      const parts = (this.partial + chunk).split('\n');
      this.partial = parts.pop() ?? '';
      this.lines.push(...parts);
      this.waiters = this.waiters.filter((w) => {
        if (!this.lines.includes(w.line)) return true;
        w.resolve();
        return false;
      });
    });
    this.proc.stderr.setEncoding('utf8');
    this.proc.stderr.on('data', (c: string) => (this.stderr += c));
    this.exited = new Promise((resolve) =>
      this.proc.on('close', (code) => {
        for (const w of this.waiters.splice(0)) {
          w.reject(
            new Error(
              `child exited (${code}) before "${w.line}": ${this.stderr}${this.lines.join('|')}`,
            ),
          );
        }
        resolve(code);
      }),
    );
  }

  /** Resolves once the child printed `line`; rejects if it exits first. */
  until(line: string): Promise<void> {
    if (this.lines.includes(line)) return Promise.resolve();
    return new Promise((resolve, reject) => this.waiters.push({ line, resolve, reject }));
  }

  async kill(): Promise<void> {
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill('SIGKILL');
    await this.exited;
  }
}

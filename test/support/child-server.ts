/**
 * One server process a test started (influxd, nats-server): spawned with the tail of its output
 * kept for error messages, stopped with SIGTERM or killed with SIGKILL, and never left behind —
 * every live one is SIGKILLed after the test file (jest `afterAll`) and on process exit.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';

const OUTPUT_TAIL_BYTES = 8 * 1024;

/** Every process started here that has not exited yet. */
const live = new Set<ChildProcess>();

process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});
// Jest gives each test file a sandboxed `process` whose exit may never fire for this module;
// its afterAll is the dependable hook there.
if (typeof afterAll === 'function') {
  afterAll(async () => {
    const exits = [...live].map((child) => once(child, 'close'));
    for (const child of live) child.kill('SIGKILL');
    await Promise.all(exits);
  });
}

export class ChildServer {
  private child: ChildProcess | undefined;
  private closed: Promise<void> = Promise.resolve();
  private tail = '';
  private spawnError: Error | undefined;
  private hasExited = false;

  /** `label` names the server in errors (`influxd on port 1234`). */
  constructor(private readonly label: string) {}

  get running(): boolean {
    return this.child !== undefined;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /**
   * Why the process could not be spawned, or that it exited before `readiness` (`answering
   * /ping`): what a readiness poll checks on each round.
   */
  problem(readiness: string): string | undefined {
    if (this.spawnError) return `could not be spawned (${this.spawnError.message})`;
    if (this.hasExited) return `exited before ${readiness}`;
    return undefined;
  }

  spawn(binary: string, args: string[], env?: NodeJS.ProcessEnv): void {
    if (this.child) throw new Error(`${this.label} is already running`);
    this.tail = '';
    this.spawnError = undefined;
    this.hasExited = false;
    const child = spawn(binary, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    live.add(child);
    const keep = (chunk: Buffer) => {
      this.tail = (this.tail + chunk.toString('utf8')).slice(-OUTPUT_TAIL_BYTES);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    this.closed = new Promise<void>((resolve) => {
      child.once('error', (err) => (this.spawnError = err));
      // 'close' (not 'exit') so the output pipes are drained before anyone reads the tail.
      child.once('close', () => {
        live.delete(child);
        this.hasExited = true;
        if (this.child === child) this.child = undefined;
        resolve();
      });
    });
  }

  /** An error naming the server and `what`, with the tail of its output. */
  error(what: string): Error {
    return new Error(`${this.label} ${what}; output tail:\n${this.tail.trim() || '(no output)'}`);
  }

  async stop(): Promise<void> {
    this.child?.kill('SIGTERM');
    await this.closed;
  }

  async kill(): Promise<void> {
    this.child?.kill('SIGKILL');
    await this.closed;
  }
}

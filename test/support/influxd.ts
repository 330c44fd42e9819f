/**
 * Real InfluxDB 1.x nodes for tests: each `startInfluxd()` runs its own `influxd` child process
 * on free loopback ports, with a generated config and its meta/data/wal directories in a temp
 * dir, and waits until `/ping` answers 204. Nothing touches the system's InfluxDB (its
 * 8086/8088 ports, /var/lib/influxdb, or INFLUXDB_* variables).
 *
 * Every started process is tracked and SIGKILLed after the test file (jest `afterAll`) and on
 * process exit, so a failing test never leaves an influxd running.
 */
import { promises as fs, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ChildServer } from './child-server';
import { freePorts } from './free-ports';
import { exchange } from './http-exchange';

export interface StartInfluxdOptions {
  /** The influxd binary; default `$INFLUXD_BIN` or `influxd` on the PATH. */
  binary?: string;
  /** How long to wait for `/ping` before giving up (default 30 s). */
  startTimeoutMs?: number;
  /** HTTP port; default a free one. */
  port?: number;
}

/** One statement's result of `/query`, as InfluxDB's JSON has it. */
export interface InfluxQueryResult {
  statement_id: number;
  series?: {
    name: string;
    columns: string[];
    values: unknown[][];
    tags?: Record<string, string>;
  }[];
  error?: string;
}

export interface InfluxNode {
  /** `http://127.0.0.1:<port>`, the node's HTTP API. */
  readonly url: string;
  readonly port: number;
  /** The temp dir holding the config file and the meta/data/wal dirs. */
  readonly dir: string;
  readonly running: boolean;
  readonly pid: number | undefined;
  /** Starts the process again on the same data dir and port (after `stop` or `kill`). */
  start(): Promise<void>;
  /** SIGTERM (a clean shutdown) and wait for the exit. */
  stop(): Promise<void>;
  /** SIGKILL (a crash) and wait for the exit. */
  kill(): Promise<void>;
  /** POSTs a query (any statement) and returns its results; rejects on any error. */
  query(q: string, db?: string): Promise<InfluxQueryResult[]>;
  /** `CREATE DATABASE` (idempotent in InfluxDB). */
  createDatabase(db: string): Promise<void>;
  /** Writes line protocol; rejects unless the node answers 204. */
  write(db: string, lines: string | readonly string[], precision?: string): Promise<void>;
  /** `count(field)` over the whole measurement; 0 when it has no points. */
  count(db: string, measurement: string, field: string): Promise<number>;
  /** `sum(field)` over the whole measurement; 0 when it has no points. */
  sum(db: string, measurement: string, field: string): Promise<number>;
  /** Kills the process if it runs and removes the temp dir. */
  cleanup(): Promise<void>;
}

const DEFAULT_START_TIMEOUT_MS = 30_000;
const PING_EVERY_MS = 50;
/** Every node whose temp dir has not been removed by `cleanup()`. */
const uncleaned = new Set<InfluxNode>();

process.once('exit', () => {
  for (const node of uncleaned) rmSync(node.dir, { recursive: true, force: true });
});
// Jest gives each test file a sandboxed `process` whose exit may never fire for this module;
// its afterAll is the dependable hook there (cleanup is idempotent with a test's own).
if (typeof afterAll === 'function') {
  afterAll(async () => {
    await Promise.all([...uncleaned].map((node) => node.cleanup()));
  });
}

/** Starts one influxd on free loopback ports with its own temp dir. */
export async function startInfluxd(options: StartInfluxdOptions = {}): Promise<InfluxNode> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'hh-influxd-'));
  try {
    const [httpPort, rpcPort] = await freePorts(2);
    const port = options.port ?? httpPort;
    const configPath = path.join(dir, 'influxd.conf');
    await fs.writeFile(configPath, influxdConfig(dir, port, rpcPort));
    const node = new InfluxdProcess(
      dir,
      port,
      configPath,
      options.binary ?? process.env.INFLUXD_BIN ?? 'influxd',
      options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS,
    );
    uncleaned.add(node);
    await node.start();
    return node;
  } catch (err) {
    await fs.rm(dir, { recursive: true, force: true });
    for (const node of uncleaned) if (node.dir === dir) uncleaned.delete(node);
    throw err;
  }
}

/**
 * The config file. `reporting-disabled` is upstream's key; Debian's 1.6.7 build renamed it
 * `reporting-enabled` (default false there, see `influxd config`): both are written since each
 * build ignores the key it does not know. The RPC bind address moves off 8088 so several nodes
 * (and a system influxd) can run side by side; logging is quiet so failures stand out.
 */
function influxdConfig(dir: string, port: number, rpcPort: number): string {
  const q = (p: string) => JSON.stringify(path.join(dir, p));
  return `reporting-disabled = true
reporting-enabled = false
bind-address = "127.0.0.1:${rpcPort}"

[meta]
  dir = ${q('meta')}
  logging-enabled = false

[data]
  dir = ${q('data')}
  wal-dir = ${q('wal')}
  query-log-enabled = false

[monitor]
  store-enabled = false

[subscriber]
  enabled = false

[continuous_queries]
  log-enabled = false

[http]
  enabled = true
  bind-address = "127.0.0.1:${port}"
  log-enabled = false
  pprof-enabled = false

[logging]
  level = "error"
  suppress-logo = true
`;
}

class InfluxdProcess implements InfluxNode {
  readonly url: string;
  private readonly process: ChildServer;

  constructor(
    readonly dir: string,
    readonly port: number,
    private readonly configPath: string,
    private readonly binary: string,
    private readonly startTimeoutMs: number,
  ) {
    this.url = `http://127.0.0.1:${port}`;
    this.process = new ChildServer(`influxd (${binary}, port ${port}, dir ${dir})`);
  }

  get running(): boolean {
    return this.process.running;
  }

  get pid(): number | undefined {
    return this.process.pid;
  }

  async start(): Promise<void> {
    // INFLUXDB_* variables override the config file in influxd: never inherit them.
    const env = Object.fromEntries(
      Object.entries(process.env).filter(([key]) => !key.startsWith('INFLUXDB_')),
    );
    this.process.spawn(this.binary, ['run', '-config', this.configPath], env);
    try {
      await this.waitForPing();
    } catch (err) {
      await this.kill();
      throw err;
    }
  }

  /** Polls `/ping` until 204, the process exits, or the deadline passes. */
  private async waitForPing(): Promise<void> {
    const deadline = Date.now() + this.startTimeoutMs;
    let lastProblem = 'no answer yet';
    for (;;) {
      const failed = this.process.problem('answering /ping');
      if (failed) throw this.process.error(failed);
      try {
        const res = await exchange(`${this.url}/ping`, 'GET', undefined, { timeoutMs: 1000 });
        if (res.status !== 204) {
          lastProblem = `/ping answered ${res.status}`;
        } else {
          // Another process may hold the port (this one then fails to bind and exits): only our
          // own pid answering counts as started.
          const pid = await this.serverPid();
          if (pid === this.process.pid) return;
          lastProblem = `port ${this.port} is answered by another influxd (pid ${pid})`;
        }
      } catch (err) {
        lastProblem = (err as Error).message;
      }
      if (Date.now() > deadline) {
        throw this.process.error(
          `did not answer /ping within ${this.startTimeoutMs} ms (${lastProblem})`,
        );
      }
      await delay(PING_EVERY_MS);
    }
  }

  /** The pid of the influxd answering on this node's port, from its own diagnostics. */
  private async serverPid(): Promise<unknown> {
    const [result] = await this.query("SHOW DIAGNOSTICS FOR 'system'");
    const series = result?.series?.[0];
    return series?.values?.[0]?.[series.columns.indexOf('PID')];
  }

  stop(): Promise<void> {
    return this.process.stop();
  }

  kill(): Promise<void> {
    return this.process.kill();
  }

  async query(q: string, db?: string): Promise<InfluxQueryResult[]> {
    const form = new URLSearchParams({ q });
    if (db !== undefined) form.set('db', db);
    const res = await exchange(`${this.url}/query`, 'POST', form.toString(), {
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    let body: { results?: InfluxQueryResult[]; error?: string };
    try {
      body = JSON.parse(res.text) as typeof body;
    } catch {
      throw new Error(
        `influxd /query answered ${res.status} with non-JSON: ${res.text.slice(0, 200)}`,
      );
    }
    const error = body.error ?? body.results?.find((r) => r.error)?.error;
    if (res.status !== 200 || error !== undefined) {
      throw new Error(
        `influxd /query ${JSON.stringify(q)} failed (${res.status}): ${error ?? res.text}`,
      );
    }
    return body.results ?? [];
  }

  async createDatabase(db: string): Promise<void> {
    await this.query(`CREATE DATABASE ${quoteIdentifier(db)}`);
  }

  async write(db: string, lines: string | readonly string[], precision = 'ns'): Promise<void> {
    const body = typeof lines === 'string' ? lines : lines.join('\n');
    const params = new URLSearchParams({ db, precision });
    const res = await exchange(`${this.url}/write?${params}`, 'POST', body);
    if (res.status !== 204) {
      throw new Error(`influxd /write answered ${res.status}: ${res.text.slice(0, 500)}`);
    }
  }

  async count(db: string, measurement: string, field: string): Promise<number> {
    return this.aggregate('count', db, measurement, field);
  }

  async sum(db: string, measurement: string, field: string): Promise<number> {
    return this.aggregate('sum', db, measurement, field);
  }

  private async aggregate(fn: string, db: string, measurement: string, field: string) {
    const q = `SELECT ${fn}(${quoteIdentifier(field)}) FROM ${quoteIdentifier(measurement)}`;
    const [result] = await this.query(q, db);
    const value = result?.series?.[0]?.values?.[0]?.[1];
    return typeof value === 'number' ? value : 0;
  }

  async cleanup(): Promise<void> {
    await this.kill();
    await fs.rm(this.dir, { recursive: true, force: true });
    uncleaned.delete(this);
  }
}

/** InfluxQL double-quoted identifier. */
function quoteIdentifier(name: string): string {
  return `"${name.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Real NATS servers for tests: `startNatsServer()` runs one `nats-server` child process with
 * JetStream and a temp store dir on free loopback ports; `startNatsCluster(3)` runs three routed
 * to each other (one cluster, JetStream replicated). Each server waits until its monitoring
 * `/healthz` answers 200, which in a cluster also means JetStream has a meta leader.
 *
 * Every started process is SIGKILLed after the test file (jest `afterAll`) and on process exit,
 * and every temp dir removed, so a failing test never leaves a server running.
 */
import { promises as fs, rmSync } from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { ChildServer } from './child-server';
import { freePorts } from './free-ports';

export interface NatsServer {
  readonly name: string;
  /** `nats://127.0.0.1:<port>`, for clients. */
  readonly url: string;
  readonly port: number;
  /** `http://127.0.0.1:<port>`, the server's monitoring endpoint (`/connz`, `/jsz`, …). */
  readonly monitorUrl: string;
  readonly dir: string;
  readonly running: boolean;
  readonly pid: number | undefined;
  /** Starts the process again on the same store dir and ports (after `stop` or `kill`). */
  start(): Promise<void>;
  /** SIGTERM (JetStream shuts down cleanly) and wait for the exit. */
  stop(): Promise<void>;
  /** SIGKILL (a crash) and wait for the exit. */
  kill(): Promise<void>;
}

export interface NatsCluster {
  readonly servers: readonly NatsServer[];
  /** Every server's client URL. */
  readonly urls: string[];
  startAll(): Promise<void>;
  stopAll(): Promise<void>;
  cleanup(): Promise<void>;
}

export interface StartNatsOptions {
  /** Extra config lines (e.g. `authorization { token: "x" }`). */
  extraConfig?: string;
  startTimeoutMs?: number;
  /** The client port (one server only), e.g. one a relay was told before the server ran. */
  port?: number;
  /** JetStream's file store per server (default `1GB`): streams reserve their max_bytes in it. */
  maxFileStore?: string;
}

const DEFAULT_START_TIMEOUT_MS = 30_000;
const POLL_EVERY_MS = 50;
const BINARY = process.env.NATS_SERVER_BIN ?? 'nats-server';

/** Every server started here, and every temp dir not yet removed by a cleanup. */
const servers = new Set<NatsServerProcess>();
const dirs = new Set<string>();

process.once('exit', () => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});
if (typeof afterAll === 'function') {
  afterAll(async () => {
    await Promise.all([...servers].map((server) => server.kill()));
    await Promise.all([...dirs].map((dir) => fs.rm(dir, { recursive: true, force: true })));
    dirs.clear();
  });
}

export async function startNatsServer(options: StartNatsOptions = {}): Promise<NatsServer> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'hh-nats-'));
  dirs.add(dir);
  const [freePort, httpPort] = await freePorts(2);
  const port = options.port ?? freePort;
  const server = new NatsServerProcess('n1', dir, port, httpPort, options);
  await server.writeConfig('');
  await server.start();
  return server;
}

/** `size` servers routed into one cluster, each with JetStream and its own store dir. */
export async function startNatsCluster(
  size = 3,
  options: StartNatsOptions = {},
): Promise<NatsCluster> {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'hh-nats-cluster-'));
  dirs.add(root);
  const ports = await freePorts(size * 3);
  const servers = Array.from({ length: size }, (_, i) => {
    const dir = path.join(root, `n${i + 1}`);
    return new NatsServerProcess(`n${i + 1}`, dir, ports[i * 3], ports[i * 3 + 1], options);
  });
  const routes = servers.map((_, i) => `nats-route://127.0.0.1:${ports[i * 3 + 2]}`);
  await Promise.all(
    servers.map(async (s, i) => {
      await fs.mkdir(s.dir, { recursive: true });
      await s.writeConfig(
        `cluster {\n  name: hh\n  listen: 127.0.0.1:${ports[i * 3 + 2]}\n` +
          `  routes: [${routes.filter((_, j) => j !== i).join(', ')}]\n}\n`,
      );
    }),
  );
  const cluster: NatsCluster = {
    servers,
    urls: servers.map((s) => s.url),
    startAll: () => Promise.all(servers.map((s) => s.start())).then(() => undefined),
    stopAll: () => Promise.all(servers.map((s) => s.stop())).then(() => undefined),
    cleanup: async () => {
      await Promise.all(servers.map((s) => s.kill()));
      await fs.rm(root, { recursive: true, force: true });
      dirs.delete(root);
    },
  };
  await cluster.startAll();
  return cluster;
}

class NatsServerProcess implements NatsServer {
  readonly url: string;
  readonly monitorUrl: string;
  private readonly process: ChildServer;

  constructor(
    readonly name: string,
    readonly dir: string,
    readonly port: number,
    private readonly httpPort: number,
    private readonly options: StartNatsOptions,
  ) {
    this.url = `nats://127.0.0.1:${port}`;
    this.monitorUrl = `http://127.0.0.1:${httpPort}`;
    this.process = new ChildServer(`nats-server ${name} (port ${port}, dir ${dir})`);
    servers.add(this);
  }

  get running(): boolean {
    return this.process.running;
  }

  get pid(): number | undefined {
    return this.process.pid;
  }

  private get configPath(): string {
    return path.join(this.dir, 'nats.conf');
  }

  async writeConfig(cluster: string): Promise<void> {
    const config =
      `server_name: ${this.name}\nhost: 127.0.0.1\nport: ${this.port}\n` +
      `http: 127.0.0.1:${this.httpPort}\n` +
      `jetstream {\n  store_dir: ${JSON.stringify(path.join(this.dir, 'js'))}\n` +
      `  max_memory_store: 64MB\n  max_file_store: ${this.options.maxFileStore ?? '1GB'}\n}\n` +
      cluster +
      (this.options.extraConfig ?? '');
    await fs.writeFile(this.configPath, config);
  }

  async start(): Promise<void> {
    this.process.spawn(BINARY, ['-c', this.configPath]);
    const deadline = Date.now() + (this.options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS);
    let problem = 'no answer yet';
    for (;;) {
      const failed = this.process.problem('it was healthy');
      if (failed) return this.fail(failed);
      try {
        const status = await httpGet(`http://127.0.0.1:${this.httpPort}/healthz`);
        if (status === 200) return;
        problem = `/healthz answered ${status}`;
      } catch (err) {
        problem = (err as Error).message;
      }
      if (Date.now() > deadline) return this.fail(`was not healthy in time (${problem})`);
      await new Promise((r) => setTimeout(r, POLL_EVERY_MS));
    }
  }

  private async fail(what: string): Promise<never> {
    await this.kill();
    throw this.process.error(what);
  }

  stop(): Promise<void> {
    return this.process.stop();
  }

  kill(): Promise<void> {
    return this.process.kill();
  }
}

function httpGet(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent: false, timeout: 1000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url} timed out`)));
    req.on('error', reject);
  });
}

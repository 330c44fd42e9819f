import * as http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export type SinkMode =
  | { kind: 'up' }
  | { kind: 'status'; status: number; body?: string }
  | { kind: 'reset' }
  | { kind: 'hang' };

/**
 * A node the test controls, on 127.0.0.1 with an OS-chosen port. It records the body of every
 * request it accepted (2xx) and splits line bodies into entries. `refuse` answers 400 to any
 * body containing one of the given markers (so a joined batch with a bad entry is refused
 * as a whole, as InfluxDB does).
 */
export class TestSink {
  mode: SinkMode = { kind: 'up' };
  readonly refuse = new Set<string>();
  readonly accepted: Buffer[] = [];
  requests = 0;
  /**
   * When set: the first request that arrives once this many lines were accepted is recorded as
   * accepted but never answered (the node took it; the sender never hears so). Used to crash a
   * sender with a batch in flight.
   */
  takeButHangAtLines: number | null = null;
  /** TCP connections accepted (keep-alive reuses one). */
  connections = 0;
  private server: http.Server | null = null;
  private readonly sockets = new Set<Socket>();
  private portNumber = 0;
  private waiters: Array<{ n: number; resolve: () => void }> = [];
  private hangWaiters: Array<() => void> = [];
  private requestWaiters: Array<{ n: number; resolve: () => void }> = [];

  get port(): number {
    return this.portNumber;
  }

  get url(): string {
    return `http://127.0.0.1:${this.portNumber}/write`;
  }

  /** Accepted entries, one per line. */
  lines(): string[] {
    return this.accepted.flatMap((b) =>
      b
        .toString('utf8')
        .split('\n')
        .filter((l) => l !== ''),
    );
  }

  /** Starts listening; on the previous port when restarted (the node "comes back"). */
  async start(port = this.portNumber): Promise<void> {
    const server = http.createServer((req, res) => this.handle(req, res));
    server.on('connection', (s) => {
      this.connections++;
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    this.server = server;
    this.portNumber = (server.address() as AddressInfo).port;
  }

  /** Closes the port and every open connection: the node is down. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (!server) return;
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Resolves once at least `n` lines were accepted. */
  waitForLines(n: number): Promise<void> {
    if (this.lines().length >= n) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ n, resolve }));
  }

  /** Resolves once a request was taken and left unanswered (see takeButHangAtLines). */
  waitForHang(): Promise<void> {
    return new Promise((resolve) => this.hangWaiters.push(resolve));
  }

  /** Resolves once at least `n` requests arrived (whatever the answer). */
  waitForRequests(n: number): Promise<void> {
    if (this.requests >= n) return Promise.resolve();
    return new Promise((resolve) => this.requestWaiters.push({ n, resolve }));
  }

  private linesIn(body: Buffer): number {
    return body
      .toString('utf8')
      .split('\n')
      .filter((l) => l !== '').length;
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      this.requests++;
      this.requestWaiters = this.requestWaiters.filter((w) => {
        if (this.requests >= w.n) w.resolve();
        return this.requests < w.n;
      });
      const body = Buffer.concat(chunks);
      const mode = this.mode;
      if (mode.kind === 'reset') {
        req.socket.destroy();
        return;
      }
      if (mode.kind === 'hang') return;
      if (mode.kind === 'status') {
        res.writeHead(mode.status, { 'content-type': 'application/json' });
        res.end(mode.body ?? '');
        return;
      }
      const text = body.toString('utf8');
      for (const marker of this.refuse) {
        if (text.includes(marker)) {
          res.writeHead(400, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ error: `unable to parse '${marker}'` }));
          return;
        }
      }
      this.accepted.push(body);
      const hang =
        this.takeButHangAtLines !== null &&
        this.lines().length - this.linesIn(body) >= this.takeButHangAtLines;
      if (hang) {
        this.takeButHangAtLines = null;
        this.hangWaiters.splice(0).forEach((resolve) => resolve());
      } else {
        res.writeHead(204);
        res.end();
      }
      const count = this.lines().length;
      this.waiters = this.waiters.filter((w) => {
        if (count >= w.n) w.resolve();
        return count < w.n;
      });
    });
  }
}

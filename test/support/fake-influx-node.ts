import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';

export interface RecordedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: http.IncomingHttpHeaders;
  /** The body as received (still gzipped if it came gzipped). */
  raw: Buffer;
  /** The body as text, inflated when it came gzipped. */
  text: string;
  /** The client's socket port: equal ports mean one reused connection. */
  remotePort?: number;
}

export type Responder = (req: RecordedRequest, res: http.ServerResponse) => void;

export const answer204: Responder = (_req, res) => {
  res.writeHead(204, { 'X-Influxdb-Version': '1.6.7-fake' }).end();
};

/**
 * A loopback HTTP server that stands in for an InfluxDB node: records every request and answers
 * as the test's responder says (204 by default).
 */
export class FakeInfluxNode {
  readonly requests: RecordedRequest[] = [];
  responder: Responder = answer204;
  private server?: http.Server;
  port = 0;

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Requests to /write only. */
  get writes(): RecordedRequest[] {
    return this.requests.filter((r) => r.path === '/write');
  }

  /** Requests to /query only (the relay also pings its nodes at start). */
  get queries(): RecordedRequest[] {
    return this.requests.filter((r) => r.path === '/query');
  }

  async start(): Promise<this> {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const raw = Buffer.concat(chunks);
        const url = new URL(req.url ?? '/', 'http://x');
        const text = (req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw).toString(
          'utf8',
        );
        const recorded = {
          method: req.method ?? '',
          path: url.pathname,
          query: url.searchParams,
          headers: req.headers,
          raw,
          text,
          remotePort: req.socket.remotePort,
        };
        this.requests.push(recorded);
        this.responder(recorded, res);
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(this.port, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

/** A loopback port that nothing listens on (bound, read, released). */
export async function closedPort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

import * as http from 'node:http';
import * as https from 'node:https';
import type { HandoffConfig, NodeConfig } from '../../config/handoff-config.interface';
import {
  NodeTimeoutError,
  NodeUnreachableError,
  PermanentWriteError,
  TransientWriteError,
  UnknownNodeError,
} from './errors';
import type { NodeClient } from './node-client.interface';

export type HttpNodeClientFormat = 'lines' | 'raw';

export interface HttpNodeClientOptions {
  /** Whole-request timeout (connect + send + answer), ms. */
  timeoutMs: number;
  /**
   * `lines`: the batch is joined newline-delimited into one POST (InfluxDB line protocol).
   * `raw`: one POST per entry, back to back.
   */
  format: HttpNodeClientFormat;
  headers?: Record<string, string>;
  /** Appended to the node URL's path (e.g. `/write?db=x` when the URL is the base). */
  path?: string;
  /** Sockets per node kept by the keep-alive agent; default 8. */
  maxSockets?: number;
}

/** How much of a refusing node's answer is kept with the dead letter. */
const RESPONSE_EXCERPT_BYTES = 512;

/**
 * The default NodeClient: POSTs to each node's URL over keep-alive agents. Classification:
 * network error, timeout, 408, 429 and 5xx are transient; any other non-2xx is permanent and
 * carries the status and an excerpt of the body. Response bodies are always drained so the
 * socket goes back to the pool.
 */
export class HttpNodeClient implements NodeClient {
  private readonly urls = new Map<string, URL>();
  private readonly httpAgent: http.Agent;
  private readonly httpsAgent: https.Agent;

  /**
   * The library's default transport, the one place it is built from the config: `nodes`'
   * newline-joined batches, each request bounded by the write timeout.
   */
  static forConfig(
    config: Pick<HandoffConfig, 'writeTimeoutMs'>,
    nodes: NodeConfig[] = [],
  ): HttpNodeClient {
    return new HttpNodeClient(nodes, { timeoutMs: config.writeTimeoutMs, format: 'lines' });
  }

  constructor(
    nodes: Map<string, string> | NodeConfig[],
    private readonly options: HttpNodeClientOptions,
  ) {
    const entries = nodes instanceof Map ? [...nodes] : nodes.map((n) => [n.id, n.url] as const);
    for (const [id, url] of entries) this.addNode(id, url);
    const agentOptions = { keepAlive: true, maxSockets: options.maxSockets ?? 8 };
    this.httpAgent = new http.Agent(agentOptions);
    this.httpsAgent = new https.Agent(agentOptions);
  }

  /** Adds (or re-points) a node at run time. */
  addNode(id: string, url: string): void {
    const parsed = new URL(url);
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      throw new TypeError(`node "${id}": unsupported URL scheme ${parsed.protocol}`);
    }
    this.urls.set(id, parsed);
  }

  hasNode(id: string): boolean {
    return this.urls.has(id);
  }

  /** The node's URL without credentials, for status pages. */
  urlOf(id: string): string | undefined {
    const url = this.urls.get(id);
    if (!url) return undefined;
    const shown = new URL(url.href);
    shown.username = '';
    shown.password = '';
    return shown.href;
  }

  async send(nodeId: string, entries: Buffer[]): Promise<void> {
    const url = this.urls.get(nodeId);
    if (!url) throw new UnknownNodeError(nodeId);
    if (entries.length === 0) return;
    if (this.options.format === 'lines') {
      await this.post(url, joinLines(entries), 0);
      return;
    }
    for (let i = 0; i < entries.length; i++) await this.post(url, entries[i], i);
  }

  async close(): Promise<void> {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }

  /** One POST; `delivered` is how many entries went before it, reported in its errors. */
  private post(base: URL, body: Buffer, delivered: number): Promise<void> {
    const url = this.options.path ? new URL(this.options.path, base) : base;
    const isHttps = url.protocol === 'https:';
    const transport = isHttps ? https : http;
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      const finish = (err?: Error) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (err) reject(err);
        else resolve();
      };
      const req = transport.request(url, {
        method: 'POST',
        agent: isHttps ? this.httpsAgent : this.httpAgent,
        headers: {
          'content-type': 'text/plain; charset=utf-8',
          ...this.options.headers,
          'content-length': body.length,
        },
      });
      const timer = setTimeout(() => {
        const err = new NodeTimeoutError(
          `${url.host}: no answer within ${this.options.timeoutMs} ms`,
          delivered,
        );
        finish(err);
        req.destroy(err);
      }, this.options.timeoutMs);
      req.on('error', (err: NodeJS.ErrnoException) => {
        finish(
          new NodeUnreachableError(`${url.host}: ${err.code ?? err.message}`, delivered, err.code),
        );
      });
      req.on('response', (res) => {
        const status = res.statusCode ?? 0;
        if (status >= 200 && status < 300) {
          res.resume();
          res.on('end', () => finish());
          res.on('error', (err) => finish(new NodeUnreachableError(err.message, delivered)));
          return;
        }
        const chunks: Buffer[] = [];
        let kept = 0;
        res.on('data', (chunk: Buffer) => {
          if (kept < RESPONSE_EXCERPT_BYTES) {
            chunks.push(chunk);
            kept += chunk.length;
          }
        });
        res.on('error', (err) => finish(new NodeUnreachableError(err.message, delivered)));
        res.on('end', () => {
          const excerpt = Buffer.concat(chunks)
            .subarray(0, RESPONSE_EXCERPT_BYTES)
            .toString('utf8')
            .trim();
          finish(classifyStatus(url.host, status, excerpt, delivered));
        });
      });
      req.end(body);
    });
  }
}

/**
 * A 4xx other than 408/429 is a refusal of the data. Everything else that is not 2xx (5xx, and
 * 1xx/3xx, which a misconfigured URL produces) is retried: keeping data is the safe side.
 */
export function isTransientStatus(status: number): boolean {
  return !(status >= 400 && status < 500) || status === 408 || status === 429;
}

function classifyStatus(host: string, status: number, excerpt: string, delivered: number): Error {
  const message = `${host}: HTTP ${status}${excerpt ? `: ${excerpt.slice(0, 200)}` : ''}`;
  return isTransientStatus(status)
    ? new TransientWriteError(message, delivered, status)
    : new PermanentWriteError(message, delivered, status, excerpt);
}

/**
 * Newline-delimited body; no separator is doubled when an entry already ends with one. Sized
 * first, then filled with TypedArray.set: a batch is thousands of small entries, and
 * Buffer.concat over entries and separators costs about four times as much per entry.
 */
export function joinLines(entries: Buffer[]): Buffer {
  if (entries.length === 1) return entries[0];
  const last = entries.length - 1;
  let size = 0;
  for (let i = 0; i <= last; i++) {
    const e = entries[i];
    size += e.length;
    if (i < last && needsNewline(e)) size++;
  }
  const body = Buffer.allocUnsafe(size);
  let at = 0;
  for (let i = 0; i <= last; i++) {
    const e = entries[i];
    body.set(e, at);
    at += e.length;
    if (i < last && needsNewline(e)) body[at++] = 0x0a;
  }
  return body;
}

/** An empty entry counts as a line of its own, as it did when joined with Buffer.concat. */
function needsNewline(entry: Buffer): boolean {
  return entry[entry.length - 1] !== 0x0a;
}

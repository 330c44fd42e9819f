import * as http from 'node:http';
import * as https from 'node:https';
import { NodeTimeoutError } from '../replay/errors';

/** What a node answered: status, headers and the start of its body (enough for an error). */
export interface NodeAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** The same kept bytes, for answers that are not text (msgpack query results). */
  bytes: Buffer;
}

export interface NodeRequest {
  url: URL;
  agent: http.Agent;
  method: string;
  headers?: http.OutgoingHttpHeaders;
  body?: Buffer | Buffer[];
  timeoutMs: number;
  /** The most answer bytes kept (default 4 KiB, an error excerpt). */
  maxAnswerBytes?: number;
}

/** The longest node answer kept: an error excerpt, never a whole response. */
const MAX_ANSWER_BYTES = 4096;

/** A keep-alive agent for one node: replay and live writes reuse the same warm sockets. */
export function keepAliveAgent(url: URL, maxSockets = 64): http.Agent {
  const options = { keepAlive: true, maxSockets, scheduling: 'lifo' as const };
  return url.protocol === 'https:' ? new https.Agent(options) : new http.Agent(options);
}

/**
 * One request to a node; resolves with its answer (any status), rejects on network errors and
 * with NodeTimeoutError on the timeout, which covers the whole exchange (connect, upload, answer).
 */
export function requestNode(req: NodeRequest): Promise<NodeAnswer> {
  const parts = req.body === undefined ? [] : Array.isArray(req.body) ? req.body : [req.body];
  const length = parts.reduce((n, b) => n + b.length, 0);
  const transport = req.url.protocol === 'https:' ? https : http;
  return new Promise<NodeAnswer>((resolve, reject) => {
    let settled = false;
    const finish = (err: Error | null, answer?: NodeAnswer) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (err) reject(err);
      else resolve(answer as NodeAnswer);
    };
    const request = transport.request(
      req.url,
      {
        method: req.method,
        agent: req.agent,
        headers: {
          ...req.headers,
          ...(req.body === undefined ? {} : { 'content-length': length }),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        const limit = req.maxAnswerBytes ?? MAX_ANSWER_BYTES;
        let kept = 0;
        // Read the whole answer so the socket goes back to the pool; keep only its start.
        res.on('data', (chunk: Buffer) => {
          if (kept < limit) {
            chunks.push(chunk.subarray(0, limit - kept));
            kept += Math.min(chunk.length, limit - kept);
          }
        });
        res.on('end', () => {
          const bytes = Buffer.concat(chunks);
          finish(null, {
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: bytes.toString('utf8'),
            bytes,
          });
          // The node answered before taking the whole body (a 413): the rest is not sent. It may
          // be a view of a queue window, read into again once the caller advances past it.
          if (!request.writableFinished) request.destroy();
        });
        res.on('error', (err) => finish(err));
        res.on('aborted', () => finish(new Error('node closed the connection mid-answer')));
      },
    );
    const timer = setTimeout(() => {
      const err = new NodeTimeoutError(`node did not answer within ${req.timeoutMs} ms`);
      finish(err);
      request.destroy(err);
    }, req.timeoutMs);
    request.on('error', (err) => finish(err));
    // One write per request: many small parts would each become a syscall (and a TCP segment).
    if (parts.length === 0) request.end();
    else request.end(parts.length === 1 ? parts[0] : Buffer.concat(parts, length));
  });
}

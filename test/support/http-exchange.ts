import * as http from 'node:http';

export interface Exchange {
  status: number;
  text: string;
}

export interface ExchangeOptions {
  /** Give up after this long without progress (the request is destroyed). Default 30 s. */
  timeoutMs?: number;
  /** The connection to use; default a fresh one (no socket outlives a killed server). */
  agent?: http.Agent | false;
  headers?: Record<string, string>;
}

/** One HTTP request and its whole answer: status and body as text. */
export function exchange(
  url: string,
  method = 'GET',
  body?: string | Buffer,
  { timeoutMs = 30_000, agent = false, headers = {} }: ExchangeOptions = {},
): Promise<Exchange> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, agent, headers, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }),
      );
      res.on('error', reject);
    });
    req.on('timeout', () =>
      req.destroy(new Error(`${method} ${url} timed out after ${timeoutMs} ms`)),
    );
    req.on('error', reject);
    req.end(body);
  });
}

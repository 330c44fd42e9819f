import { once } from 'node:events';
import * as http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { keepAliveAgent, requestNode } from '../../src/modules/relay/node-request';

/**
 * requestNode() sends a replayed body as a view of the queue's read window, which the queue reads
 * into again once the head passes the entries. A node that answers before it read the whole body
 * (a 413) must not leave the rest of that view being written after the answer was taken.
 */
describe('requestNode', () => {
  let server: http.Server;
  let url: URL;
  const sockets: Socket[] = [];

  beforeEach(async () => {
    server = http.createServer((req, res) => {
      // Answers at once and never reads the body: the upload stalls in the socket buffers.
      req.pause();
      res.writeHead(413, { 'content-type': 'application/json' }).end('{"error":"too large"}');
    });
    server.on('connection', (s: Socket) => sockets.push(s));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    url = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/write`);
  });

  afterEach(async () => {
    for (const s of sockets.splice(0)) s.destroy();
    server.close();
    await once(server, 'close');
  });

  it('stops uploading the body once the node answered before reading it all', async () => {
    const agent = keepAliveAgent(url);
    const body = Buffer.alloc(64 * 1024 * 1024, 0x61);
    const answer = await requestNode({ url, agent, method: 'POST', body, timeoutMs: 30_000 });
    expect(answer.status).toBe(413);
    expect(sockets).toHaveLength(1);
    // The client closes its end: the server's socket sees the end instead of a stalled upload.
    // (The server may see the cut-off upload as a parse error: only the close matters here.)
    sockets[0].on('error', () => undefined);
    const closed = await Promise.race([
      new Promise<boolean>((r) => sockets[0].on('close', () => r(true))),
      new Promise<boolean>((r) => setTimeout(() => r(false), 3000)),
    ]);
    expect(closed).toBe(true);
    agent.destroy();
  });
});

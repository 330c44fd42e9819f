import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { HANDOFF_CONFIG, type HandoffConfig } from 'nestjs-hinted-handoff';
import request from 'supertest';
import {
  createHandoffTestSettings,
  HINTED_HANDOFF_OPTIONS,
  type HandoffTestSettings,
} from 'nestjs-hinted-handoff/testing';
import { AppModule } from '../src/app.module';

/** A node that records what it is sent; down until `listen`. */
function recordingNode(received: string[]): Server {
  return createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      received.push(body);
      res.writeHead(204).end();
    });
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

describe('host-app (e2e)', () => {
  let app: INestApplication;
  let hh: HandoffTestSettings;
  let portB: number;
  const receivedA: string[] = [];
  const receivedB: string[] = [];
  const nodeA = recordingNode(receivedA);
  const nodeB = recordingNode(receivedB);

  beforeEach(async () => {
    const portA = await freePort();
    portB = await freePort();
    await new Promise<void>((resolve) => nodeA.listen(portA, '127.0.0.1', resolve));
    hh = await createHandoffTestSettings({
      nodes: [
        { id: 'a', url: `http://127.0.0.1:${portA}/write` },
        { id: 'b', url: `http://127.0.0.1:${portB}/write` },
      ],
    });
    // The app's own AppModule, its settings replaced: no HH_* variable, nothing in the project.
    const moduleRef = await Test.createTestingModule({ imports: [AppModule] })
      .overrideProvider(HINTED_HANDOFF_OPTIONS)
      .useValue(hh.settings)
      .compile();
    app = moduleRef.createNestApplication();
    await app.init();
  });

  afterEach(async () => {
    await app.close();
    await hh.cleanup();
    for (const node of [nodeA, nodeB]) {
      if (node.listening) await new Promise((resolve) => node.close(resolve));
    }
  });

  it('delivers to the node that is up, hands off to the one that is down, replays it later', async () => {
    await request(app.getHttpServer())
      .post('/items')
      .send({ name: 'first' })
      .expect(201, { nodes: { a: 'delivered', b: 'handed-off' } });
    expect(receivedA).toEqual(['{"name":"first"}']);
    const health = await request(app.getHttpServer()).get('/health').expect(200);
    expect(health.body.details.handoff.nodes.b.entries).toBe(1);

    await new Promise<void>((resolve) => nodeB.listen(portB, '127.0.0.1', resolve));
    while (receivedB.length === 0) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(receivedB).toEqual(['{"name":"first"}']);
  });

  it('keeps its queues in the temp dir the test gave it, not in the project folder', () => {
    expect(app.get<HandoffConfig>(HANDOFF_CONFIG).dataDir).toBe(hh.dataDir);
    expect(existsSync(join(hh.dataDir, 'b'))).toBe(true);
    expect(existsSync(join(process.cwd(), 'data'))).toBe(false);
  });
});

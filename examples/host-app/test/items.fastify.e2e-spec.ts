import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  createHandoffTestSettings,
  HINTED_HANDOFF_OPTIONS,
  type HandoffTestSettings,
} from 'nestjs-hinted-handoff/testing';
import { AppModule } from '../src/app.module';

/** The same AppModule on the Fastify adapter: hand-off, /health and the error filter. */
describe('host-app on Fastify (e2e)', () => {
  let app: NestFastifyApplication;
  let hh: HandoffTestSettings;
  let base: string;

  beforeEach(async () => {
    // Node a: a port nothing listens on.
    const port = await new Promise<number>((resolve) => {
      const server = createServer().listen(0, '127.0.0.1', () => {
        const { port } = server.address() as AddressInfo;
        server.close(() => resolve(port));
      });
    });
    hh = await createHandoffTestSettings({
      nodes: [{ id: 'a', url: `http://127.0.0.1:${port}/write` }],
    });
    const moduleRef = await Test.createTestingModule({ imports: [AppModule] })
      .overrideProvider(HINTED_HANDOFF_OPTIONS)
      .useValue(hh.settings)
      .compile();
    app = moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter());
    await app.listen(0, '127.0.0.1');
    base = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  });

  afterEach(async () => {
    await app.close();
    await hh.cleanup();
  });

  it('hands a write to a down node off and shows it on /health', async () => {
    const posted = await fetch(`${base}/items`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'first' }),
    });
    expect(posted.status).toBe(201);
    expect(await posted.json()).toEqual({ nodes: { a: 'handed-off' } });
    const health = await fetch(`${base}/health`);
    expect(health.status).toBe(200);
    const body = (await health.json()) as {
      details: { handoff: { nodes: Record<string, { entries: number }> } };
    };
    expect(body.details.handoff.nodes.a.entries).toBe(1);
  });
});

import { Body, Controller, type INestApplication, Module, Param, Post } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  HandoffExceptionFilter,
  HandoffService,
  HandoffWriter,
  HintedHandoffModule,
  handoffErrorStatus,
} from '../../src';
import { makeTempDir, removeDir } from '../support/temp-dir';
import { TestSink } from '../support/test-sink';
import { fastSettings } from '../support/fast-settings';

/** What a host's controller does: write through HandoffWriter and let the errors surface. */
@Controller('items')
class ItemsController {
  constructor(
    private readonly writer: HandoffWriter,
    private readonly handoff: HandoffService,
  ) {}

  @Post(':node')
  async create(@Param('node') node: string, @Body() item: object) {
    return { result: await this.writer.write(node, Buffer.from(JSON.stringify(item))) };
  }

  @Post(':node/enqueue')
  async enqueue(@Param('node') node: string, @Body() item: object) {
    await this.handoff.enqueue(node, Buffer.from(JSON.stringify(item)));
    return { result: 'handed-off' };
  }
}

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Record<string, unknown>;
}

/** A POST through a real socket to the listening app. */
function post(base: string, path: string, body: unknown): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const data = Buffer.from(JSON.stringify(body));
    const req = http.request(
      `${base}${path}`,
      { method: 'POST', agent: false, headers: { 'content-type': 'application/json' } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: JSON.parse(Buffer.concat(chunks).toString() || '{}') as Record<string, unknown>,
          }),
        );
      },
    );
    req.once('error', reject);
    req.end(data);
  });
}

describe.each(['express', 'fastify'] as const)('HandoffExceptionFilter on %s', (platform) => {
  let dataDir: string;
  let sink: TestSink;
  let app: INestApplication;
  let base: string;

  beforeEach(async () => {
    dataDir = await makeTempDir('hh-library-filter-');
    sink = new TestSink();
    await sink.start();
    @Module({
      imports: [
        HintedHandoffModule.forRoot(
          fastSettings(dataDir, [{ id: 'a', url: sink.url }], {
            // A queue that is full after one 600-byte entry.
            maxSize: 1024,
            maxSegmentSize: 1024,
          }),
        ),
      ],
      controllers: [ItemsController],
      providers: [{ provide: APP_FILTER, useClass: HandoffExceptionFilter }],
    })
    class HostModule {}
    const ref = await Test.createTestingModule({ imports: [HostModule] }).compile();
    app =
      platform === 'fastify'
        ? ref.createNestApplication(new FastifyAdapter())
        : ref.createNestApplication();
    await app.listen(0, '127.0.0.1');
    const { port } = app.getHttpServer().address() as AddressInfo;
    base = `http://127.0.0.1:${port}`;
  });

  afterEach(async () => {
    await app.close();
    await sink.stop();
    await removeDir(dataDir);
  });

  it('answers 404 with the error code for a node it does not know', async () => {
    const res = await post(base, '/items/nope', { n: 1 });
    expect(res.status).toBe(404);
    expect(res.body).toEqual({
      statusCode: 404,
      error: 'Not Found',
      code: 'ERR_UNKNOWN_NODE',
      message: 'unknown node "nope"',
    });
  });

  it('answers 422 when the node refuses the data itself (400)', async () => {
    sink.mode = { kind: 'status', status: 400, body: '{"error":"unable to parse"}' };
    const res = await post(base, '/items/a', { n: 1 });
    expect(res.status).toBe(422);
    expect(res.body.code).toBe('ERR_PERMANENT_WRITE');
    expect(app.get(HandoffService).backlog('a').entries).toBe(0);
  });

  it('answers 502 when the node refuses for another reason (401: its credentials)', async () => {
    sink.mode = { kind: 'status', status: 401 };
    const res = await post(base, '/items/a', { n: 1 });
    expect(res.status).toBe(502);
    expect(res.body).toEqual(expect.objectContaining({ error: 'Bad Gateway' }));
  });

  it('answers 503 with Retry-After when the queue is full', async () => {
    const handoff = app.get(HandoffService);
    handoff.pause('a');
    const item = { pad: 'x'.repeat(600) };
    expect((await post(base, '/items/a/enqueue', item)).status).toBe(201);
    const res = await post(base, '/items/a/enqueue', item);
    expect(res.status).toBe(503);
    expect(res.headers['retry-after']).toBe('1');
    expect(res.body.code).toBe('ERR_QUEUE_FULL');
  });

  it("leaves the host's own errors alone", async () => {
    // A body Express/Fastify cannot parse is the framework's 400, not the filter's.
    const res = await new Promise<number>((resolve, reject) => {
      const req = http.request(
        `${base}/items/a`,
        { method: 'POST', agent: false, headers: { 'content-type': 'application/json' } },
        (r) => {
          r.resume();
          resolve(r.statusCode ?? 0);
        },
      );
      req.once('error', reject);
      req.end('{not json');
    });
    expect(res).toBe(400);
  });
});

describe('HandoffExceptionFilter as a global filter from the module', () => {
  it('answers 404 when registered with app.useGlobalFilters(app.get(HandoffExceptionFilter))', async () => {
    const dataDir = await makeTempDir('hh-library-filter-global-');
    @Module({
      imports: [
        HintedHandoffModule.forRoot(
          fastSettings(dataDir, [{ id: 'a', url: 'http://127.0.0.1:9/write' }]),
        ),
      ],
      controllers: [ItemsController],
    })
    class HostModule {}
    const ref = await Test.createTestingModule({ imports: [HostModule] }).compile();
    const app = ref.createNestApplication();
    app.useGlobalFilters(app.get(HandoffExceptionFilter));
    await app.listen(0, '127.0.0.1');
    try {
      const { port } = app.getHttpServer().address() as AddressInfo;
      const res = await post(`http://127.0.0.1:${port}`, '/items/nope', { n: 1 });
      expect(res.status).toBe(404);
      expect(res.body.code).toBe('ERR_UNKNOWN_NODE');
    } finally {
      await app.close();
      await removeDir(dataDir);
    }
  });
});

describe('handoffErrorStatus', () => {
  it('maps by the stable code, and leaves foreign errors unmapped', () => {
    expect(handoffErrorStatus({ code: 'ERR_INVALID_NODE_ID' })).toBe(400);
    expect(handoffErrorStatus({ code: 'ERR_DUPLICATE_NODE' })).toBe(409);
    expect(handoffErrorStatus({ code: 'ERR_PERMANENT_WRITE', status: 413 })).toBe(422);
    expect(handoffErrorStatus({ code: 'ERR_PERMANENT_WRITE' })).toBe(502);
    expect(handoffErrorStatus({ code: 'ERR_QUEUE_LOCKED' })).toBe(503);
    expect(handoffErrorStatus(new Error('mine'))).toBeUndefined();
    expect(handoffErrorStatus(null)).toBeUndefined();
  });
});

/**
 * A host app with HintedHandoffModule and HH_STORE=jetstream (as options) on a real nats-server:
 * its hand-offs go to the node's stream and reach the node, registerQueue injects the node's
 * JetStreamQueue, and while NATS is down HandoffExceptionFilter answers 503 with Retry-After and
 * the code ERR_NATS_UNAVAILABLE; once NATS is back the same app hands off again.
 */
import { Body, Controller, Injectable, Module, Param, Post } from '@nestjs/common';
import type { INestApplication } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import type { AddressInfo } from 'node:net';
import {
  HandoffExceptionFilter,
  HandoffService,
  HintedHandoffModule,
  InjectHandoffQueue,
  QueueModule,
} from '../../src';
import { JetStreamQueue } from '../../src/modules/jetstream';
import type { HandoffQueue } from '../../src/modules/queue/handoff-queue.contract';
import { fastSettings } from '../support/fast-settings';
import { startNatsServer, type NatsServer } from '../support/nats-server';
import { makeTempDir, removeDir } from '../support/temp-dir';
import { TestSink } from '../support/test-sink';
import { until } from '../support/until';

jest.setTimeout(120_000);

@Controller('items')
class ItemsController {
  constructor(private readonly handoff: HandoffService) {}

  @Post(':node')
  async enqueue(@Param('node') node: string, @Body() item: object) {
    await this.handoff.enqueue(node, Buffer.from(JSON.stringify(item)));
    return { result: 'handed-off' };
  }
}

@Injectable()
class QueueHolder {
  constructor(@InjectHandoffQueue('a') readonly a: HandoffQueue) {}
}

describe('a host app with HintedHandoffModule and store: jetstream', () => {
  let nats: NatsServer;
  let sink: TestSink;
  let dataDir: string;
  let app: INestApplication;
  let base: string;

  const post = (item: object) =>
    fetch(`${base}/items/a`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(item),
    });

  beforeAll(async () => {
    nats = await startNatsServer();
    sink = new TestSink();
    await sink.start();
    dataDir = await makeTempDir('hh-js-host-');
    @Module({
      imports: [
        HintedHandoffModule.forRoot(
          fastSettings(dataDir, [{ id: 'a', url: sink.url }], {
            store: 'jetstream',
            natsUrl: nats.url,
            relayId: 'host-1',
            leaseTtlMs: 2000,
            maxSize: 64 * 1024 * 1024,
          }),
        ),
        QueueModule.registerQueue('a'),
      ],
      controllers: [ItemsController],
      providers: [QueueHolder, { provide: APP_FILTER, useClass: HandoffExceptionFilter }],
    })
    class HostModule {}
    const ref = await Test.createTestingModule({ imports: [HostModule] }).compile();
    app = ref.createNestApplication({ logger: false });
    await app.listen(0, '127.0.0.1');
    base = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await app?.close();
    await sink?.stop();
    await nats?.kill();
    await removeDir(dataDir);
  });

  it('injects the node’s JetStreamQueue and replays through the lease', async () => {
    const queue = app.get(QueueHolder).a;
    expect(queue).toBeInstanceOf(JetStreamQueue);
    expect((queue as JetStreamQueue).stream).toBe('HH_a');
    const handoff = app.get(HandoffService);
    expect(handoff.store()).toMatchObject({ kind: 'jetstream', nats: 'connected' });
    expect(await until(async () => handoff.node('a').lease?.held === true)).toBe(true);

    handoff.pause('a');
    expect((await post({ n: 1 })).status).toBe(201);
    expect(queue.backlog().entries).toBe(1);
    handoff.resume('a');
    await sink.waitForRequests(1);
    expect(await until(async () => queue.backlog().entries === 0)).toBe(true);
    expect(sink.accepted.map(String)).toEqual(['{"n":1}']);
  });

  it('answers 503 with Retry-After while NATS is down, and hands off again once it is back', async () => {
    const handoff = app.get(HandoffService);
    handoff.pause('a');
    await nats.kill();
    expect(await until(async () => handoff.store().nats !== 'connected')).toBe(true);
    const res = await post({ n: 2 });
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('1');
    expect(await res.json()).toMatchObject({
      statusCode: 503,
      code: 'ERR_NATS_UNAVAILABLE',
      message: expect.stringContaining('NATS JetStream is unavailable'),
    });

    await nats.start();
    expect(await until(async () => (await post({ n: 3 })).status === 201, 60_000)).toBe(true);
    handoff.resume('a');
    expect(await until(async () => sink.accepted.map(String).includes('{"n":3}'), 60_000)).toBe(
      true,
    );
    expect(sink.accepted.map(String)).not.toContain('{"n":2}');
  });
});

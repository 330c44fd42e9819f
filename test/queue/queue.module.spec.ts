import { Injectable, Module } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HANDOFF_CONFIG } from '../../src/config/handoff-config.constants';
import type { HandoffConfig } from '../../src/config/handoff-config.interface';
import { DiskBackedQueue, QueueFullError } from '../../src/modules/queue';
import { HandoffQueueRegistry } from '../../src/modules/queue/handoff-queue-registry';
import { InjectHandoffQueue } from '../../src/modules/queue/inject-handoff-queue.decorator';
import { QueueRegistry } from '../../src/modules/queue/queue-registry';
import { getHandoffQueueToken } from '../../src/modules/queue/queue.constants';
import { QueueModule } from '../../src/modules/queue/queue.module';
import { InvalidNodeIdError } from '../../src/modules/queue/registry-errors';

@Injectable()
class TwoNodeWriter {
  constructor(
    @InjectHandoffQueue('node-a') readonly a: DiskBackedQueue,
    @InjectHandoffQueue('node-b') readonly b: DiskBackedQueue,
  ) {}
}

@Module({ imports: [QueueModule.registerQueue('node-c')] })
class FeatureModule {}

describe('QueueModule', () => {
  let root: string;
  let app: TestingModule | null;
  let direct: DiskBackedQueue[];

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'hh-queue-module-'));
    app = null;
    direct = [];
  });

  afterEach(async () => {
    await app?.close();
    for (const q of direct) await q.close().catch(() => undefined);
    await rm(root, { recursive: true, force: true });
  });

  async function start(
    imports: Parameters<typeof Test.createTestingModule>[0]['imports'],
    providers = [TwoNodeWriter],
  ) {
    app = await Test.createTestingModule({ imports, providers }).compile();
    await app.init();
    return app;
  }

  it('names a queue token after its node', () => {
    expect(getHandoffQueueToken('node-a')).toBe('HANDOFF_QUEUE:node-a');
  });

  it('injects two node queues by token, each usable and in <dataDir>/<node>', async () => {
    const dataDir = join(root, 'data');
    await start([QueueModule.forRoot({ dataDir }), QueueModule.registerQueue('node-a', 'node-b')]);
    const writer = app!.get(TwoNodeWriter);

    await writer.a.append(Buffer.from('to a'));
    await writer.b.append(Buffer.from('to b'));

    expect(writer.a).not.toBe(writer.b);
    expect((await writer.a.current())?.toString()).toBe('to a');
    expect((await writer.b.current())?.toString()).toBe('to b');
    expect(writer.a.dir).toBe(join(dataDir, 'node-a'));
    expect((await stat(join(dataDir, 'node-a'))).isDirectory()).toBe(true);
    expect((await stat(join(dataDir, 'node-b'))).isDirectory()).toBe(true);
    expect(app!.get(getHandoffQueueToken('node-a'))).toBe(writer.a);
  });

  it('hands out the queues of one registry, shared by every registerQueue', async () => {
    await start([
      QueueModule.forRoot({ dataDir: root }),
      QueueModule.registerQueue('node-a', 'node-b'),
      FeatureModule,
    ]);
    const registry = app!.get(HandoffQueueRegistry);
    const writer = app!.get(TwoNodeWriter);
    const c = app!.get<DiskBackedQueue>(getHandoffQueueToken('node-c'), { strict: false });

    expect(app!.get(QueueRegistry)).toBe(registry);
    expect(registry.peek('node-a')).toBe(writer.a);
    expect(registry.peek('node-c')).toBe(c);
    expect(registry.ids().sort()).toEqual(['node-a', 'node-b', 'node-c']);
  });

  it('takes its options from HANDOFF_CONFIG with forRootFromConfig', async () => {
    const config = { dataDir: join(root, 'from-config'), maxSize: 300 } as HandoffConfig;
    Object.assign(config, { maxSegmentSize: 1024 * 1024, fsync: 'never', fsyncIntervalMs: 100 });
    @Module({
      providers: [{ provide: HANDOFF_CONFIG, useValue: config }],
      exports: [HANDOFF_CONFIG],
    })
    class ConfigHolder {}

    await start([
      QueueModule.forRootFromConfig({ imports: [ConfigHolder] }),
      QueueModule.registerQueue('node-a', 'node-b'),
    ]);
    const writer = app!.get(TwoNodeWriter);

    expect(writer.a.dir).toBe(join(root, 'from-config', 'node-a'));
    await expect(writer.a.append(Buffer.alloc(400))).rejects.toBeInstanceOf(QueueFullError);
  });

  it('takes its options from a factory with forRootAsync', async () => {
    await start([
      QueueModule.forRootAsync({ useFactory: async () => ({ dataDir: join(root, 'async') }) }),
      QueueModule.registerQueue('node-a', 'node-b'),
    ]);

    expect(app!.get(TwoNodeWriter).b.dir).toBe(join(root, 'async', 'node-b'));
  });

  it('rejects an invalid node id when the queue is registered', () => {
    expect(() => QueueModule.registerQueue('ok', '../etc')).toThrow(InvalidNodeIdError);
    expect(() => InjectHandoffQueue('a/b')).toThrow(InvalidNodeIdError);
  });

  it('closes every queue on app.close(), releasing the directory locks', async () => {
    await start([
      QueueModule.forRoot({ dataDir: root }),
      QueueModule.registerQueue('node-a', 'node-b'),
    ]);
    const writer = app!.get(TwoNodeWriter);
    await writer.a.append(Buffer.from('survives shutdown'));

    await app!.close();
    app = null;

    expect(writer.a.isOpen()).toBe(false);
    expect(writer.b.isOpen()).toBe(false);
    const again = new DiskBackedQueue(join(root, 'node-a'));
    direct.push(again);
    await again.open();
    expect((await again.current())?.toString()).toBe('survives shutdown');
    const other = new DiskBackedQueue(join(root, 'node-b'));
    direct.push(other);
    await expect(other.open()).resolves.toBeUndefined();
  });

  it('does not start when a registered queue cannot be opened', async () => {
    const owner = new DiskBackedQueue(join(root, 'node-a'));
    direct.push(owner);
    await owner.open();

    // One queue only: a queue opened before the failure would stay open with no app to close it.
    await expect(
      start([QueueModule.forRoot({ dataDir: root }), QueueModule.registerQueue('node-a')], []),
    ).rejects.toMatchObject({ code: 'ERR_QUEUE_LOCKED' });
  });
});

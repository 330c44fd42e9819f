import {
  BeforeApplicationShutdown,
  Global,
  Injectable,
  Module,
  OnApplicationShutdown,
  type DynamicModule,
} from '@nestjs/common';
import { Test } from '@nestjs/testing';
import * as path from 'node:path';
import { DiskBackedQueue, HandoffService, HintedHandoffModule } from '../../src';
import { makeTempDir, removeDir } from '../support/temp-dir';
import { TestSink } from '../support/test-sink';
import { fastSettings } from '../support/fast-settings';

/** A host service that hands writes off while the app shuts down (e.g. flushing a buffer). */
function flusherModule(name: string, options: { global?: boolean; imports?: DynamicModule[] }) {
  @Injectable()
  class Flusher implements BeforeApplicationShutdown, OnApplicationShutdown {
    constructor(private readonly handoff: HandoffService) {}
    async beforeApplicationShutdown(): Promise<void> {
      await this.handoff.enqueue('n1', Buffer.from(`${name}:before`));
    }
    async onApplicationShutdown(): Promise<void> {
      await this.handoff.enqueue('n1', Buffer.from(`${name}:on`));
    }
  }
  @Module({ imports: options.imports ?? [], providers: [Flusher] })
  class FlusherModule {}
  if (options.global) Global()(FlusherModule);
  return FlusherModule;
}

async function readQueue(dir: string): Promise<string[]> {
  const queue = new DiskBackedQueue(dir);
  await queue.open();
  try {
    const entries = await queue.peek(Number.MAX_SAFE_INTEGER, 100);
    return entries.map((e) => e.toString());
  } finally {
    await queue.close();
  }
}

describe('HintedHandoffModule shutdown', () => {
  let dataDir: string;
  let sink: TestSink;

  beforeEach(async () => {
    dataDir = await makeTempDir('hh-library-shutdown-');
    sink = new TestSink();
    await sink.start();
    // The node refuses for now: whatever is handed off stays in the queue to be counted.
    sink.mode = { kind: 'status', status: 503 };
  });

  afterEach(async () => {
    await sink.stop();
    await removeDir(dataDir);
  });

  it("closes its queues after the host's shutdown hooks, which can still hand writes off", async () => {
    const Deep = flusherModule('deep', {});
    @Module({ imports: [Deep] })
    class Middle {}
    @Module({ imports: [Middle] })
    class Feature {}
    const ref = await Test.createTestingModule({
      imports: [
        HintedHandoffModule.forRoot(fastSettings(dataDir, [{ id: 'n1', url: sink.url }])),
        Feature,
        flusherModule('global', { global: true }),
        flusherModule('top', {}),
      ],
    }).compile();
    const app = ref.createNestApplication();
    await app.init();
    const queue = ref.get(HandoffService).queueOf('n1');
    await app.close();
    expect(queue.isOpen()).toBe(false);
    const entries = await readQueue(path.join(dataDir, 'n1'));
    expect(entries.sort()).toEqual(
      ['deep:before', 'deep:on', 'global:before', 'global:on', 'top:before', 'top:on'].sort(),
    );
  });

  it('closes after a deep importer when it is not global', async () => {
    const handoffModule = HintedHandoffModule.forRoot({
      ...fastSettings(dataDir, [{ id: 'n1', url: sink.url }]),
      isGlobal: false,
    });
    const Deep = flusherModule('deep', { imports: [handoffModule] });
    @Module({ imports: [Deep] })
    class Middle {}
    const ref = await Test.createTestingModule({ imports: [Middle] }).compile();
    const app = ref.createNestApplication();
    await app.init();
    await app.close();
    expect(await readQueue(path.join(dataDir, 'n1'))).toEqual(['deep:before', 'deep:on']);
  });
});

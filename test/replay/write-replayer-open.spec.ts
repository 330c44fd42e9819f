import { Test } from '@nestjs/testing';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { DiskBackedQueue } from '../../src/modules/queue/disk-backed-queue';
import { QueueLockedError } from '../../src/modules/queue/errors';
import { DEAD_LETTER_DIR, DeadLetterQueue } from '../../src/modules/replay/dead-letter-queue';
import { ReplayModule } from '../../src/modules/replay/replay.module';
import { NOOP_REPLAY_METRICS } from '../../src/modules/replay/replay-metrics.interface';
import { WriteReplayer } from '../../src/modules/replay/write-replayer';
import { testConfig } from '../support/handoff-config';
import { makeTempDir, removeDir } from '../support/temp-dir';

/** Makes a directory look held by another live process (this process's parent). */
async function lockedByAnotherProcess(dir: string): Promise<void> {
  await fs.mkdir(dir, { recursive: true });
  await fs.writeFile(path.join(dir, 'lock'), `${process.ppid}\n`);
}

describe('WriteReplayer open', () => {
  let dataDir: string;

  beforeEach(async () => {
    dataDir = await makeTempDir();
  });

  afterEach(async () => {
    await removeDir(dataDir);
  });

  it('releases the queue it opened when its dead-letter queue cannot be opened', async () => {
    const dir = path.join(dataDir, 'n1');
    await lockedByAnotherProcess(path.join(dir, DEAD_LETTER_DIR));
    const queue = new DiskBackedQueue(dir);
    const replayer = new WriteReplayer(
      queue,
      { send: () => Promise.resolve() },
      NOOP_REPLAY_METRICS,
      'n1',
      { deadLetters: new DeadLetterQueue(dir) },
    );
    await expect(replayer.open()).rejects.toBeInstanceOf(QueueLockedError);
    expect(queue.isOpen()).toBe(false);
    // The node's queue is free again: nothing holds its lock, in this process or on disk.
    await expect(fs.stat(path.join(dir, 'lock'))).rejects.toMatchObject({ code: 'ENOENT' });
    const again = new DiskBackedQueue(dir);
    await again.open();
    await again.close();
  });

  it('a HandoffService whose start fails on a dead-letter lock leaves no queue locked', async () => {
    await lockedByAnotherProcess(path.join(dataDir, 'n1', DEAD_LETTER_DIR));
    const config = testConfig(dataDir, [{ id: 'n1', url: 'http://127.0.0.1:9/write' }]);
    const ref = await Test.createTestingModule({
      imports: [ReplayModule.forRoot({ config })],
    }).compile();
    await expect(ref.init()).rejects.toBeInstanceOf(QueueLockedError);
    await expect(ref.close()).rejects.toBeInstanceOf(QueueLockedError);
    const queue = new DiskBackedQueue(path.join(dataDir, 'n1'));
    await queue.open();
    await queue.close();
  });
});

import * as fsp from 'node:fs/promises';
import { mkdtemp, readdir, rm, stat, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DiskBackedQueue,
  QueueFullError,
  QueueLockedError,
  nodeQueueFileSystem,
  type QueueFileSystem,
} from '../../src/modules/queue';
import { QueueRegistry } from '../../src/modules/queue/queue-registry';
import { InvalidNodeIdError } from '../../src/modules/queue/registry-errors';

const text = (b: Buffer | null) => (b === null ? null : b.toString('utf8'));

describe('QueueRegistry', () => {
  let dataDir: string;
  let registry: QueueRegistry;
  /** Queues opened directly by a test (not through the registry), closed after it. */
  let others: DiskBackedQueue[];

  beforeEach(async () => {
    dataDir = join(await mkdtemp(join(tmpdir(), 'hh-registry-')), 'data');
    registry = new QueueRegistry({ dataDir });
    others = [];
  });

  afterEach(async () => {
    await registry.closeAll().catch(() => undefined);
    for (const q of others) await q.close().catch(() => undefined);
    await rm(join(dataDir, '..'), { recursive: true, force: true });
  });

  /** Opens the directory with a DiskBackedQueue of its own: only possible once the lock is free. */
  async function openDirectly(nodeId: string): Promise<DiskBackedQueue> {
    const q = new DiskBackedQueue(join(dataDir, nodeId));
    others.push(q);
    await q.open();
    return q;
  }

  it('opens a node queue on first get, in <dataDir>/<nodeId>', async () => {
    const q = await registry.get('node-1');

    expect(q.isOpen()).toBe(true);
    expect(q.dir).toBe(join(dataDir, 'node-1'));
    expect((await stat(join(dataDir, 'node-1'))).isDirectory()).toBe(true);
    await q.append(Buffer.from('w1'));
    expect(text(await q.current())).toBe('w1');
  });

  it('returns the same queue on every get of the same id', async () => {
    const first = await registry.get('a');
    const second = await registry.get('a');

    expect(second).toBe(first);
  });

  it('shares one open between concurrent gets of the same id', async () => {
    const all = await Promise.all([1, 2, 3, 4, 5].map(() => registry.get('a')));

    expect(new Set(all).size).toBe(1);
    expect(all[0].isOpen()).toBe(true);
  });

  it('keeps one queue per node, each in its own directory', async () => {
    const [a, b] = await Promise.all([registry.get('a'), registry.get('b')]);
    await a.append(Buffer.from('for a'));
    await b.append(Buffer.from('for b'));

    expect(a).not.toBe(b);
    expect(text(await a.current())).toBe('for a');
    expect(text(await b.current())).toBe('for b');
    expect((await readdir(dataDir)).sort()).toEqual(['a', 'b']);
  });

  it.each(['', '.', '..', '../escape', 'a/b', 'a\\b', 'with space', 'x'.repeat(65), 'ü'])(
    'rejects the invalid node id %j with ERR_INVALID_NODE_ID and touches no file',
    async (id) => {
      const err = await registry.get(id).catch((e: unknown) => e);

      expect(err).toBeInstanceOf(InvalidNodeIdError);
      expect((err as InvalidNodeIdError).code).toBe('ERR_INVALID_NODE_ID');
      await expect(stat(dataDir)).rejects.toMatchObject({ code: 'ENOENT' });
      expect(registry.ids()).toEqual([]);
    },
  );

  it('rejects a non-string node id', async () => {
    await expect(registry.get(42 as unknown as string)).rejects.toBeInstanceOf(InvalidNodeIdError);
  });

  it('peeks at an open queue without opening one', async () => {
    expect(registry.peek('a')).toBeUndefined();
    const pending = registry.get('a');
    const q = await pending;

    expect(registry.peek('a')).toBe(q);
    expect(registry.peek('b')).toBeUndefined();
    await expect(stat(join(dataDir, 'b'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('lists the ids of the open queues in the order they were opened', async () => {
    await registry.get('b');
    await registry.get('a');
    await registry.get('c');
    await registry.close('a');

    expect(registry.ids()).toEqual(['b', 'c']);
  });

  it('lists every valid node directory on disk, open or not, and nothing else', async () => {
    await registry.get('open-node');
    await mkdir(join(dataDir, 'closed-node'));
    await mkdir(join(dataDir, 'not a node'));
    await writeFile(join(dataDir, 'a-file'), 'x');

    expect(await registry.onDisk()).toEqual(['closed-node', 'open-node']);
  });

  it('lists nothing on disk when the data dir does not exist yet', async () => {
    expect(await registry.onDisk()).toEqual([]);
  });

  it('closes a queue: its entries are flushed and its lock released', async () => {
    const q = await registry.get('a');
    await q.append(Buffer.from('kept'));

    await registry.close('a');

    expect(q.isOpen()).toBe(false);
    expect(registry.peek('a')).toBeUndefined();
    const direct = await openDirectly('a');
    expect(text(await direct.current())).toBe('kept');
  });

  it('does nothing when closing a node that is not open', async () => {
    await expect(registry.close('never-opened')).resolves.toBeUndefined();
  });

  it('reopens a closed node on the next get, with its entries', async () => {
    const first = await registry.get('a');
    await first.append(Buffer.from('before close'));
    await registry.close('a');

    const second = await registry.get('a');

    expect(second).not.toBe(first);
    expect(text(await second.current())).toBe('before close');
  });

  it('lets a get made while a close is in flight wait for the lock, then reopen', async () => {
    const first = await registry.get('a');
    await first.append(Buffer.from('e1'));

    const closed = registry.close('a');
    const reopened = registry.get('a');
    await closed;
    const second = await reopened;

    expect(second).not.toBe(first);
    expect(second.isOpen()).toBe(true);
    expect(text(await second.current())).toBe('e1');
  });

  it('closes a queue whose open was still in flight, so no lock outlives close()', async () => {
    const opening = registry.get('a');
    await registry.close('a');
    const q = await opening;

    expect(q.isOpen()).toBe(false);
    expect(registry.ids()).toEqual([]);
    await expect(openDirectly('a')).resolves.toBeInstanceOf(DiskBackedQueue);
  });

  it('closes every queue on closeAll', async () => {
    const queues = await Promise.all(['a', 'b', 'c'].map((id) => registry.get(id)));

    await registry.closeAll();

    expect(queues.map((q) => q.isOpen())).toEqual([false, false, false]);
    expect(registry.ids()).toEqual([]);
    for (const id of ['a', 'b', 'c']) await openDirectly(id);
  });

  it('tries every queue on closeAll and rejects with the failure', async () => {
    const closeFails = new Error('EIO on close');
    // Armed once the queue is open: open() itself closes handles it used for recovery.
    let armed = false;
    const failingFs: QueueFileSystem = {
      ...nodeQueueFileSystem,
      open: async (path, flags) => {
        const fh = await nodeQueueFileSystem.open(path, flags);
        return {
          read: (...args) => fh.read(...args),
          writev: (...args) => fh.writev(...args),
          datasync: () => fh.datasync(),
          sync: () => fh.sync(),
          truncate: (n) => fh.truncate(n),
          stat: () => fh.stat(),
          close: async () => {
            await fh.close();
            if (armed) throw closeFails;
          },
        };
      },
    };
    registry = new QueueRegistry({
      dataDir,
      queueOptions: (id) => (id === 'bad' ? { fs: failingFs } : {}),
    });
    const bad = await registry.get('bad');
    const good = await registry.get('good');
    armed = true;

    await expect(registry.closeAll()).rejects.toBe(closeFails);

    expect(bad.isOpen()).toBe(false);
    expect(good.isOpen()).toBe(false);
    await openDirectly('good');
  });

  it('builds each queue from options given per node id', async () => {
    registry = new QueueRegistry({
      dataDir,
      queueOptions: (id) => ({ maxSize: id === 'small' ? 200 : 1024 * 1024 }),
    });
    const small = await registry.get('small');
    const large = await registry.get('large');

    await expect(small.append(Buffer.alloc(500))).rejects.toBeInstanceOf(QueueFullError);
    await expect(large.append(Buffer.alloc(500))).resolves.toBeUndefined();
  });

  it('forgets a failed open, so the next get tries again', async () => {
    await mkdir(dataDir, { recursive: true });
    await writeFile(join(dataDir, 'a'), 'a file where the queue directory should be');

    await expect(registry.get('a')).rejects.toMatchObject({ code: 'EEXIST' });
    expect(registry.ids()).toEqual([]);

    await fsp.unlink(join(dataDir, 'a'));
    const q = await registry.get('a');
    expect(q.isOpen()).toBe(true);
  });

  it('removes a node: its queue closed and its directory deleted', async () => {
    const q = await registry.get('a');
    await q.append(Buffer.from('gone'));
    await registry.get('b');

    await registry.remove('a');

    expect(q.isOpen()).toBe(false);
    expect(registry.ids()).toEqual(['b']);
    expect(await registry.onDisk()).toEqual(['b']);
  });

  it('removes a node directory that is on disk but not open', async () => {
    await mkdir(join(dataDir, 'old'), { recursive: true });

    await registry.remove('old');

    expect(await registry.onDisk()).toEqual([]);
  });

  it('refuses to remove a directory another owner holds, and leaves it intact', async () => {
    const owner = await openDirectly('held');
    await owner.append(Buffer.from('still here'));

    await expect(registry.remove('held')).rejects.toBeInstanceOf(QueueLockedError);

    expect(text(await owner.current())).toBe('still here');
  });

  it('rejects removing an invalid node id without touching the disk', async () => {
    await mkdir(dataDir, { recursive: true });

    await expect(registry.remove('..')).rejects.toBeInstanceOf(InvalidNodeIdError);
    expect((await stat(dataDir)).isDirectory()).toBe(true);
  });
});

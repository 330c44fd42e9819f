import { readdir, readFile, writeFile } from 'node:fs/promises';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { QueueLockedError } from '../../src/modules/queue';
import { QueueChild } from './child-process';
import { buf, drain, QueueFixture } from './queue-test-helpers';

/** Every file of a directory tree with its bytes, to show that a refused open touched nothing. */
async function snapshot(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const p = join(entry.parentPath ?? entry.path, entry.name);
    out[p] = (await readFile(p)).toString('base64');
  }
  return out;
}

/** The pid of a process that has exited: a stale lock's owner. */
async function deadPid(): Promise<number> {
  const p = spawn(process.execPath, ['-e', '0']);
  await new Promise((r) => p.on('close', r));
  return p.pid!;
}

describe('one owner per queue directory', () => {
  const fx = new QueueFixture();
  beforeEach(() => fx.setup());
  afterEach(() => fx.teardown());

  it('refuses a second open in the same process with QueueLockedError and touches nothing', async () => {
    const q = await fx.open();
    await q.append(buf('mine'));
    const before = await snapshot(q.dir);
    const other = fx.create();
    const err = await other.open().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(QueueLockedError);
    expect(err).toMatchObject({ code: 'ERR_QUEUE_LOCKED', pid: process.pid });
    expect((err as Error).message).toContain(q.dir);
    expect((err as Error).message).toContain(String(process.pid));
    expect(other.isOpen()).toBe(false);
    expect(await snapshot(q.dir)).toEqual(before);
    expect((await q.current())?.toString()).toBe('mine');
  });

  it('refuses an open while a live child process holds the queue, naming its pid, and touches nothing', async () => {
    const dir = fx.path('q');
    const child = new QueueChild(['hold', dir]);
    try {
      await child.until((lines) => lines.includes('ready'));
      const before = await snapshot(dir);
      const q = fx.create();
      const err = await q.open().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(QueueLockedError);
      expect(err).toMatchObject({ pid: child.proc.pid });
      expect((err as Error).message).toContain(`process ${child.proc.pid}`);
      expect(await snapshot(dir)).toEqual(before);
    } finally {
      await child.kill();
    }
    // SIGKILL left the lock behind; its owner is dead, so the next open takes it over.
    const q = await fx.open();
    await q.append(buf('after the owner died'));
    expect(await drain(q)).toEqual(['after the owner died']);
  });

  it('takes over a lock whose pid is dead, or whose content is unreadable', async () => {
    const q = await fx.open();
    await q.append(buf('x'));
    await q.close();
    await writeFile(join(q.dir, 'lock'), `${await deadPid()}\n`);
    await q.open();
    expect(await readFile(join(q.dir, 'lock'), 'utf8')).toBe(`${process.pid}\n`);
    await q.close();
    await writeFile(join(q.dir, 'lock'), '');
    await q.open();
    expect((await q.current())?.toString()).toBe('x');
  });

  it("takes over a lock naming this process's own pid that this process does not hold", async () => {
    // A container restarted after a crash runs the relay under the same pid (often 1) as the
    // run that left the lock: that lock is stale, not held.
    const q = await fx.open();
    await q.append(buf('kept'));
    await q.close();
    await writeFile(join(q.dir, 'lock'), `${process.pid}\n`);
    await q.open();
    expect((await q.current())?.toString()).toBe('kept');
    // Held in this process now: a second open is still refused.
    await expect(fx.open()).rejects.toBeInstanceOf(QueueLockedError);
  });

  it('releases the lock on close so the directory can be opened again', async () => {
    const q = await fx.open();
    await q.close();
    expect(await readdir(q.dir)).not.toContain('lock');
    const again = await fx.open();
    expect(again.isOpen()).toBe(true);
  });
});

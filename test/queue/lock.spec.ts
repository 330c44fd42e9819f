import { readdir, readFile, writeFile } from 'node:fs/promises';
import { spawn, type ChildProcess } from 'node:child_process';
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

/** What /proc says of a pid now: its start time (field 22 of its stat) and the boot id. */
async function procIdentity(pid: number): Promise<{ startTime: string; bootId: string }> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  // Fields after the comm, which may itself hold spaces and ')': field 3 is the first.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const bootId = (await readFile('/proc/sys/kernel/random/boot_id', 'utf8')).trim();
  return { startTime: fields[22 - 3], bootId };
}

/** A live process that holds nothing: its pid stands for an unrelated process reusing a pid. */
function idleProcess(): ChildProcess {
  return spawn(process.execPath, ['-e', 'setInterval(() => {}, 1 << 30)'], { stdio: 'ignore' });
}

async function stop(p: ChildProcess): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return;
  const closed = new Promise((r) => p.once('close', r));
  p.kill('SIGKILL');
  await closed;
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
      // The lock records who the owner is beyond its pid, so a reused pid is told apart.
      expect(JSON.parse(await readFile(join(dir, 'lock'), 'utf8'))).toEqual({
        pid: child.proc.pid,
        ...(await procIdentity(child.proc.pid!)),
      });
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
    expect(JSON.parse(await readFile(join(q.dir, 'lock'), 'utf8'))).toMatchObject({
      pid: process.pid,
    });
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

  it('takes over a lock whose pid now runs another process (its start time differs)', async () => {
    // After a container restart the dead owner's pid often belongs to the `sh` or `npm` that
    // starts the relay: alive, but not the owner.
    const q = await fx.open();
    await q.append(buf('kept'));
    await q.close();
    const other = idleProcess();
    try {
      const real = await procIdentity(other.pid!);
      const lock = (startTime: string) =>
        writeFile(join(q.dir, 'lock'), JSON.stringify({ ...real, pid: other.pid, startTime }));
      // The same pid and start time is that process itself: refused.
      await lock(real.startTime);
      await expect(q.open()).rejects.toMatchObject({ code: 'ERR_QUEUE_LOCKED', pid: other.pid });
      await lock(String(Number(real.startTime) + 1));
      await q.open();
      expect(JSON.parse(await readFile(join(q.dir, 'lock'), 'utf8'))).toMatchObject({
        pid: process.pid,
      });
      expect((await q.current())?.toString()).toBe('kept');
    } finally {
      await stop(other);
    }
  });

  it('takes over a lock recorded under another boot id, even when its pid is alive', async () => {
    const q = await fx.open();
    await q.close();
    const other = idleProcess();
    try {
      const real = await procIdentity(other.pid!);
      const lock = (bootId: string) =>
        writeFile(join(q.dir, 'lock'), JSON.stringify({ ...real, pid: other.pid, bootId }));
      await lock(real.bootId);
      await expect(q.open()).rejects.toMatchObject({ code: 'ERR_QUEUE_LOCKED', pid: other.pid });
      await lock('00000000-0000-4000-8000-000000000000');
      await q.open();
      expect(q.isOpen()).toBe(true);
    } finally {
      await stop(other);
    }
  });

  it('still reads an old lock holding only a pid: refused while that pid runs, taken over once dead', async () => {
    const q = await fx.open();
    await q.close();
    const other = idleProcess();
    try {
      await writeFile(join(q.dir, 'lock'), `${other.pid}\n`);
      const err = await q.open().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(QueueLockedError);
      expect(err).toMatchObject({ pid: other.pid });
    } finally {
      await stop(other);
    }
    await q.open();
    expect(q.isOpen()).toBe(true);
  });

  it('releases the lock on close so the directory can be opened again', async () => {
    const q = await fx.open();
    await q.close();
    expect(await readdir(q.dir)).not.toContain('lock');
    const again = await fx.open();
    expect(again.isOpen()).toBe(true);
  });
});

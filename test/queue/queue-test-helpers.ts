import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DiskBackedQueue, type DiskBackedQueueOptions } from '../../src/modules/queue';

/** A fresh temp directory per test, removed afterwards, and every queue opened in it closed. */
export class QueueFixture {
  dir = '';
  private queues: DiskBackedQueue[] = [];

  async setup(): Promise<void> {
    this.dir = await mkdtemp(join(tmpdir(), 'hh-queue-'));
  }

  async teardown(): Promise<void> {
    for (const q of this.queues) await q.close().catch(() => undefined);
    this.queues = [];
    await rm(this.dir, { recursive: true, force: true });
  }

  /** A queue under `<tmp>/<name>`, opened. */
  async open(options: DiskBackedQueueOptions = {}, name = 'q'): Promise<DiskBackedQueue> {
    const q = this.create(options, name);
    await q.open();
    return q;
  }

  create(options: DiskBackedQueueOptions = {}, name = 'q'): DiskBackedQueue {
    const q = new DiskBackedQueue(join(this.dir, name), options);
    this.queues.push(q);
    return q;
  }

  path(...parts: string[]): string {
    return join(this.dir, ...parts);
  }

  async segmentFiles(name = 'q'): Promise<string[]> {
    return (await readdir(join(this.dir, name))).filter((f) => f.endsWith('.seg')).sort();
  }
}

export const buf = (s: string): Buffer => Buffer.from(s, 'utf8');

/** Reads the whole queue from the head, advancing one by one, as strings. */
export async function drain(q: DiskBackedQueue): Promise<string[]> {
  const out: string[] = [];
  for (;;) {
    const b = await q.current();
    if (b === null) return out;
    out.push(b.toString('utf8'));
    await q.advance();
  }
}

/** Everything from the head without moving it. */
export async function peekAll(q: DiskBackedQueue): Promise<string[]> {
  return (await q.peek(Number.MAX_SAFE_INTEGER)).map((b) => b.toString('utf8'));
}

/** Polls `cond` until it holds (for work a timer tick does), failing after `timeoutMs`. */
export async function until(
  cond: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 20_000,
): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

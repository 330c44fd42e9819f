import { createHash } from 'node:crypto';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { QueueFixture } from './queue-test-helpers';

/**
 * peek() hands out views of the read windows instead of copies. A payload is valid until the queue
 * advances past it: only then is its window read into again. current() returns a copy.
 */

/** Entry `i`: `size` bytes derived from i, so any byte read over by another window shows. */
function entry(i: number, size: number): Buffer {
  const out = Buffer.alloc(size);
  for (let at = 0; at < size; at += 32) {
    createHash('sha256').update(`${i}:${at}`).digest().copy(out, at);
  }
  return out;
}

/** Sizes mixing 1 KiB lines and write bodies larger than a read window's carry room. */
const sizeOf = (i: number) => [1000, 3, 70_000, 1024, 300_000, 20, 600_000][i % 7];

function gcNow(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

describe('DiskBackedQueue payloads as views of the read windows', () => {
  const fx = new QueueFixture();
  beforeEach(() => fx.setup());
  afterEach(() => fx.teardown());

  async function filled(n: number) {
    const q = await fx.open({ maxSegmentSize: 4 * 1024 * 1024, fsync: 'never' });
    for (let i = 0; i < n; i += 10) {
      const ids = Array.from({ length: Math.min(10, n - i) }, (_, k) => i + k);
      await Promise.all(ids.map((id) => q.append(entry(id, sizeOf(id)))));
    }
    return q;
  }

  it('payloads hold their bytes until the queue advances past them, however far later peeks read', async () => {
    const n = 140;
    const q = await filled(n);
    let head = 0;
    // A pipelined reader: batch k, then batch k+1 and a look far ahead before k is advanced
    // past; windows move many times (and across segments) while k's payloads are held.
    while (head < n) {
      const batch = await q.peek(256 * 1024);
      expect(batch.length).toBeGreaterThan(0);
      const next = await q.peek(256 * 1024, Infinity, batch.length);
      await q.peek(2 * 1024 * 1024, Infinity, batch.length + next.length);
      const again = await q.peek(256 * 1024);
      expect(again.map((b, k) => b.equals(batch[k]))).toEqual(batch.map(() => true));
      batch.forEach((b, k) => expect(b.equals(entry(head + k, sizeOf(head + k)))).toBe(true));
      next.forEach((b, k) => {
        const i = head + batch.length + k;
        expect(b.equals(entry(i, sizeOf(i)))).toBe(true);
      });
      // current() is a copy: it outlives the advance.
      const first = await q.current();
      await q.advance(batch.length);
      expect(first!.equals(entry(head, sizeOf(head)))).toBe(true);
      // The entries still ahead of the head keep their bytes after the advance.
      next.forEach((b, k) => {
        const i = head + batch.length + k;
        expect(b.equals(entry(i, sizeOf(i)))).toBe(true);
      });
      head += batch.length;
    }
    expect(await q.current()).toBeNull();
  });

  it('reads into a window again once the head passed its payloads (the drain reuses its memory)', async () => {
    // 16 MiB of 1 KiB entries: 16 windows' worth, read through a handful of reused buffers.
    const q = await fx.open({ maxSegmentSize: 4 * 1024 * 1024, fsync: 'never' });
    const total = 16 * 1024;
    for (let i = 0; i < total; i += 256) {
      await Promise.all(Array.from({ length: 256 }, (_, k) => q.append(entry(i + k, 1024))));
    }
    const windows = new Set<ArrayBufferLike>();
    let head = 0;
    for (;;) {
      const batch = await q.peek(256 * 1024);
      if (batch.length === 0) break;
      batch.forEach((b, k) => {
        expect(b.equals(entry(head + k, 1024))).toBe(true);
        windows.add(b.buffer);
      });
      await q.advance(batch.length);
      head += batch.length;
    }
    expect(head).toBe(total);
    // Never reused, every window read would be a buffer of its own: 16 MiB / 1 MiB = 16+.
    expect(windows.size).toBeLessThanOrEqual(8);
  });

  it('forgets windows held for a reader that peeks again and again without advancing (no leak)', async () => {
    const gc = gcNow();
    const q = await filled(70);
    let batch: Buffer[] | null = await q.peek(2 * 1024 * 1024);
    const firstWindow = new WeakRef(batch[0].buffer);
    batch = null;
    // A node that keeps failing: the same batch is peeked again and again, the head never moves.
    for (let i = 0; i < 40; i++) {
      const again = await q.peek(2 * 1024 * 1024, Infinity, i % 2 === 0 ? 0 : 3);
      expect(again.length).toBeGreaterThan(0);
    }
    // WeakRefs are kept alive until the current job ends: collect in a later one.
    for (let i = 0; i < 5 && firstWindow.deref() !== undefined; i++) {
      await new Promise((resolve) => setImmediate(resolve));
      gc();
    }
    expect(firstWindow.deref()).toBeUndefined();
  });
});

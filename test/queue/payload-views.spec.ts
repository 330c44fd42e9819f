import { createHash } from 'node:crypto';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { QueueFixture } from './queue-test-helpers';

/**
 * peek() and current() hand out views of the read windows instead of copies: a window a payload
 * was taken from is never read into again, and is garbage once the caller drops its payloads.
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

  it('payloads kept from peek() and current() hold their bytes after every later read', async () => {
    const n = 140;
    const q = await filled(n);
    const kept: Buffer[] = [];
    // Peeks of a few entries at a time, and current() now and then: windows move many times
    // while every payload handed out so far is still held.
    while (kept.length < n) {
      if (kept.length % 3 === 0) {
        const one = await q.current();
        expect(one).not.toBeNull();
        kept.push(one!);
        await q.advance();
      } else {
        const batch = await q.peek(256 * 1024);
        expect(batch.length).toBeGreaterThan(0);
        // Peeked again before the advance: the same bytes (the window was not read into).
        const again = await q.peek(256 * 1024);
        expect(again.map((b, k) => b.equals(batch[k]))).toEqual(batch.map(() => true));
        kept.push(...batch);
        await q.advance(batch.length);
      }
    }
    expect(await q.current()).toBeNull();
    for (let i = 0; i < n; i++) expect(kept[i].equals(entry(i, sizeOf(i)))).toBe(true);
  });

  it('lets the garbage collector have a window once its payloads are dropped', async () => {
    const gc = gcNow();
    const q = await filled(70);
    let batch: Buffer[] | null = await q.peek(64 * 1024);
    const firstWindow = new WeakRef(batch[0].buffer);
    await q.advance(batch.length);
    batch = null;
    // Read on through later windows and segments, so the first one is no reader's window.
    for (;;) {
      const more = await q.peek(1024 * 1024);
      if (more.length === 0) break;
      await q.advance(more.length);
    }
    // WeakRefs are kept alive until the current job ends: collect in a later one.
    for (let i = 0; i < 5 && firstWindow.deref() !== undefined; i++) {
      await new Promise((resolve) => setImmediate(resolve));
      gc();
    }
    expect(firstWindow.deref()).toBeUndefined();
  });
});

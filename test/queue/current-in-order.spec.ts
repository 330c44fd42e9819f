import { type DiskBackedQueue } from '../../src/modules/queue';
import { buf, QueueFixture } from './queue-test-helpers';

/**
 * current() reads the head at once when nothing is queued before it; these specify that it still
 * answers as if it had waited its turn behind every read, advance and purge called before it.
 */
describe('DiskBackedQueue current() in call order', () => {
  const fx = new QueueFixture();
  beforeEach(() => fx.setup());
  afterEach(() => fx.teardown());

  async function filled(n: number, options = {}): Promise<DiskBackedQueue> {
    const q = await fx.open(options);
    await Promise.all(Array.from({ length: n }, (_, i) => q.append(buf(`e${i}`))));
    return q;
  }

  it('sees the head an advance called before it (not awaited) moved to', async () => {
    const q = await filled(5);
    const moved = q.advance(2);
    const head = q.current();
    await moved;
    expect((await head)?.toString()).toBe('e2');
  });

  it('sees the head of an advance queued behind a peek still in flight', async () => {
    const q = await filled(5);
    const peeked = q.peek(1024);
    const moved = q.advance(3);
    const head = q.current();
    expect((await peeked).map(String)).toEqual(['e0', 'e1', 'e2', 'e3', 'e4']);
    await moved;
    expect((await head)?.toString()).toBe('e3');
  });

  it('answers null after an advance past the last entry, and the entry appended next', async () => {
    const q = await filled(2);
    const moved = q.advance(2);
    expect(await q.current()).toBeNull();
    await moved;
    await q.append(buf('late'));
    expect((await q.current())?.toString()).toBe('late');
  });

  it('returns a copy the caller owns: later reads and advances do not change it', async () => {
    const q = await filled(3);
    const first = await q.current();
    const again = await q.current();
    expect(first).not.toBe(again);
    first!.fill(0x21);
    expect((await q.current())?.toString()).toBe('e0');
    await q.advance(3);
    expect(again?.toString()).toBe('e0');
  });

  it('reads the next segment once the head passed a sealed one', async () => {
    const q = await filled(0, { maxSegmentSize: 200 });
    for (let i = 0; i < 8; i++) await q.append(buf(`s${i}`.padEnd(40, '.')));
    expect((await fx.segmentFiles()).length).toBeGreaterThan(1);
    const seen: string[] = [];
    for (let head = await q.current(); head; head = await q.current()) {
      seen.push(head.toString().slice(0, 2));
      await q.advance();
    }
    expect(seen).toEqual(['s0', 's1', 's2', 's3', 's4', 's5', 's6', 's7']);
  });

  it('rejects with QueueNotOpenError once the queue is closed', async () => {
    const q = await filled(1);
    await q.close();
    await expect(q.current()).rejects.toMatchObject({ code: 'ERR_QUEUE_NOT_OPEN' });
  });
});

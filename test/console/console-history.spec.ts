import { ConsoleHistory } from '../../src/modules/console/console-history';
import { RingBuffer } from '../../src/modules/console/ring-buffer';
import type { NodeStatus } from '../../src/modules/replay/node-status.interface';

function node(id: string, entries: number, bytes: number, handedOff: number, replayed: number) {
  return {
    id,
    state: 'up',
    configured: true,
    open: true,
    backlog: { entries, bytes, oldestAgeSeconds: entries > 0 ? 5 : null },
    diskBytes: bytes,
    maxSize: 1e9,
    deadLetters: 0,
    backoffMs: 0,
    totals: {
      handedOffEntries: handedOff,
      handedOffBytes: handedOff * 10,
      replayedEntries: replayed,
      replayedBytes: replayed * 10,
    },
  } satisfies NodeStatus;
}

describe('RingBuffer', () => {
  it('keeps the last items in order, in fixed memory', () => {
    const ring = new RingBuffer<number>(3);
    expect(ring.toArray()).toEqual([]);
    expect(ring.last()).toBeUndefined();
    for (let i = 1; i <= 7; i++) ring.push(i);
    expect(ring.toArray()).toEqual([5, 6, 7]);
    expect(ring.length).toBe(3);
    expect(ring.last()).toBe(7);
  });

  it('refuses a capacity that is not a positive integer', () => {
    expect(() => new RingBuffer(0)).toThrow(/positive integer/);
    expect(() => new RingBuffer(1.5)).toThrow(/positive integer/);
  });
});

describe('ConsoleHistory', () => {
  it('turns running totals into per-second hand-off and replay rates', () => {
    const history = new ConsoleHistory(10);
    history.record(1_000, [node('a', 0, 0, 100, 40)]);
    history.record(3_000, [node('a', 20, 200, 140, 60)]);
    const [first, second] = history.samples('a');
    expect(first).toMatchObject({ t: 1_000, handoffRate: 0, replayRate: 0 });
    expect(second).toMatchObject({
      t: 3_000,
      entries: 20,
      bytes: 200,
      oldestAgeSeconds: 5,
      handoffRate: 20,
      replayRate: 10,
    });
  });

  it('answers only the samples after `since`', () => {
    const history = new ConsoleHistory(10);
    for (const t of [1_000, 2_000, 3_000]) history.record(t, [node('a', 1, 10, 0, 0)]);
    expect(history.samples('a', 2_000).map((s) => s.t)).toEqual([3_000]);
    expect(history.samples('nope')).toEqual([]);
  });

  it('keeps only its capacity of samples per node', () => {
    const history = new ConsoleHistory(4);
    for (let t = 1; t <= 10; t++) history.record(t * 1000, [node('a', t, t, 0, 0)]);
    expect(history.samples('a').map((s) => s.entries)).toEqual([7, 8, 9, 10]);
  });

  it('forgets a node that is gone', () => {
    const history = new ConsoleHistory(4);
    history.record(1_000, [node('a', 1, 1, 0, 0), node('b', 1, 1, 0, 0)]);
    history.record(2_000, [node('a', 1, 1, 0, 0)]);
    expect(history.samples('b')).toEqual([]);
    expect(history.samples('a')).toHaveLength(2);
  });

  it('estimates the time to empty from the recent drain, or null when not draining', () => {
    const history = new ConsoleHistory(100);
    // 1000 bytes drained over 10 s = 100 B/s; 500 bytes left: 5 s.
    history.record(0, [node('a', 150, 1500, 0, 0)]);
    history.record(10_000, [node('a', 50, 500, 0, 100)]);
    expect(history.etaSeconds('a')).toBeCloseTo(5);
    // Grown past where the window starts: no estimate.
    history.record(20_000, [node('a', 160, 1600, 110, 100)]);
    expect(history.etaSeconds('a')).toBeNull();
    expect(history.etaSeconds('unknown')).toBeNull();
  });

  it('looks back only over the last half minute', () => {
    const history = new ConsoleHistory(100);
    // An old fast drain, then 30 s flat: not draining now.
    history.record(0, [node('a', 900, 9000, 0, 0)]);
    history.record(10_000, [node('a', 100, 1000, 0, 800)]);
    history.record(41_000, [node('a', 100, 1000, 0, 800)]);
    expect(history.etaSeconds('a')).toBeNull();
  });

  it('gives no estimate from less than two seconds of history', () => {
    const history = new ConsoleHistory(100);
    history.record(0, [node('a', 10, 100, 0, 0)]);
    history.record(1_000, [node('a', 5, 50, 0, 5)]);
    expect(history.etaSeconds('a')).toBeNull();
  });
});

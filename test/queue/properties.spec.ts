import { HEADER_SIZE, SEAL_SIZE, segmentFileName } from '../../src/modules/queue/segment-format';
import { READ_CHUNK_SIZE } from '../../src/modules/queue/segment-reader';
import { FaultyFs, gateSegmentWrites } from '../support/faulty-fs';
import { buf, drain, peekAll, QueueFixture } from './queue-test-helpers';

const count = (log: string[], line: string) => log.filter((l) => l === line).length;

/**
 * Fakes setInterval only, so the queue's 'interval' tick runs when the test advances the timers:
 * a real 5 ms tick on a loaded machine can run between the steps a test counts syncs across.
 * The queue's I/O and every other timer stay real. Undo with jest.useRealTimers().
 */
function fakeTheTick(): void {
  jest.useFakeTimers({
    doNotFake: [
      'Date',
      'hrtime',
      'nextTick',
      'performance',
      'queueMicrotask',
      'requestAnimationFrame',
      'cancelAnimationFrame',
      'requestIdleCallback',
      'cancelIdleCallback',
      'setImmediate',
      'clearImmediate',
      'setTimeout',
      'clearTimeout',
    ],
  });
}

describe('DiskBackedQueue required properties', () => {
  const fx = new QueueFixture();
  beforeEach(() => fx.setup());
  afterEach(() => fx.teardown());

  it('opens in O(segments): a sealed segment costs one read of its seal, only the tail is scanned', async () => {
    const q = await fx.open({
      maxSegmentSize: 10 * (HEADER_SIZE + 100) + SEAL_SIZE,
      fsync: 'never',
    });
    for (let i = 0; i < 95; i++) await q.append(Buffer.alloc(100, i));
    await q.close();
    expect((await fx.segmentFiles()).length).toBe(10);
    const fs = new FaultyFs();
    fs.logReads = true;
    const again = await fx.open({ fs });
    const reads = fs.log.filter((l) => l.startsWith('read '));
    const readsOf = (id: number) =>
      reads.filter((l) => l.startsWith(`read ${segmentFileName(id)} `));
    for (let id = 2; id <= 9; id++)
      expect(readsOf(id)).toEqual([`read ${segmentFileName(id)} ${SEAL_SIZE}`]);
    // The head segment: its seal, then one window at the head for backlog().oldest.
    expect(readsOf(1)).toHaveLength(2);
    expect(readsOf(1)[0]).toBe(`read ${segmentFileName(1)} ${SEAL_SIZE}`);
    const tailBytes = reads
      .filter((l) => l.startsWith(`read ${segmentFileName(10)}`))
      .reduce((n, l) => n + Number(l.split(' ')[2]), 0);
    expect(tailBytes).toBeLessThanOrEqual(2 * READ_CHUNK_SIZE);
    expect(again.backlog().entries).toBe(95);
    expect(again.backlog().bytes).toBe(9500);
  });

  it('keeps memory flat: every read is bounded by the read chunk, never a whole segment', async () => {
    const q = await fx.open({ maxSegmentSize: 4 * 1024 * 1024, fsync: 'never' });
    const entry = Buffer.alloc(1024, 7);
    await Promise.all(Array.from({ length: 3 * 1024 }, () => q.append(entry)));
    await q.close();
    const fs = new FaultyFs();
    fs.logReads = true;
    const again = await fx.open({ fs });
    let drained = 0;
    for (;;) {
      const batch = await again.peek(64 * 1024);
      if (batch.length === 0) break;
      drained += batch.length;
      await again.advance(batch.length);
    }
    expect(drained).toBe(3 * 1024);
    const sizes = fs.log.filter((l) => l.startsWith('read ')).map((l) => Number(l.split(' ')[2]));
    expect(Math.max(...sizes)).toBeLessThanOrEqual(READ_CHUNK_SIZE);
  });

  it("'always': concurrent appends share one write and one fdatasync (group commit)", async () => {
    const fs = new FaultyFs();
    const q = await fx.open({ fs, fsync: 'always' });
    fs.log.length = 0;
    await Promise.all(Array.from({ length: 64 }, (_, i) => q.append(buf(`entry ${i}`))));
    const seg = segmentFileName(1);
    expect(count(fs.log, `writev ${seg}`)).toBe(1);
    expect(count(fs.log, `datasync ${seg}`)).toBe(1);
    expect(q.backlog().entries).toBe(64);
  });

  it("'always': a batch is written only once the batch before it is durable", async () => {
    const fs = new FaultyFs();
    const setGate = gateSegmentWrites(fs);
    const q = await fx.open({ fs, fsync: 'always' });
    let firstStarted!: () => void;
    const started = new Promise<void>((r) => (firstStarted = r));
    let secondAppended!: () => void;
    const appended = new Promise<void>((r) => (secondAppended = r));
    setGate(async (call, write) => {
      if (call === 0) {
        firstStarted();
        await appended;
        // A turn for the write loop to start the second batch, were it allowed to.
        await new Promise((r) => setImmediate(r));
      }
      await write();
    });
    fs.log.length = 0;
    // The first batch is written in two parts (1.2 MiB, then 300 KiB), the second in one.
    const first = [1, 2, 3, 4, 5].map((i) => q.append(Buffer.alloc(300 * 1024, i)));
    await started;
    const second = q.append(buf('second'));
    secondAppended();
    await Promise.all([...first, second]);
    const seg = segmentFileName(1);
    expect(fs.log.filter((l) => l.endsWith(seg))).toEqual([
      `writev ${seg}`,
      `writev ${seg}`,
      `datasync ${seg}`,
      `writev ${seg}`,
      `datasync ${seg}`,
    ]);
  });

  it("'interval': appends go on while a write is in flight; a second batch is written beside the first", async () => {
    const fs = new FaultyFs();
    const setGate = gateSegmentWrites(fs);
    const q = await fx.open({ fs, fsync: 'interval', fsyncIntervalMs: 60_000 });
    let secondStarted!: () => void;
    const started = new Promise<void>((r) => (secondStarted = r));
    let firstStarted!: () => void;
    const firstIn = new Promise<void>((r) => (firstStarted = r));
    const order: string[] = [];
    setGate(async (call, write) => {
      if (call === 0) {
        firstStarted();
        // Held until the second batch's write has started: two writes in flight.
        await started;
      } else secondStarted();
      await write();
      order.push(`landed ${call}`);
    });
    const first = q.append(buf('first')).then(() => order.push('resolved first'));
    await firstIn;
    const second = q.append(buf('second')).then(() => order.push('resolved second'));
    await Promise.all([first, second]);
    // Settled in order, each after its own write landed.
    expect(order.indexOf('resolved first')).toBeGreaterThan(order.indexOf('landed 0'));
    expect(order.indexOf('resolved second')).toBeGreaterThan(order.indexOf('landed 1'));
    expect(order.indexOf('resolved second')).toBeGreaterThan(order.indexOf('resolved first'));
    expect(await peekAll(q)).toEqual(['first', 'second']);
  });

  it("'interval': a rolled segment is fdatasynced by the next tick, not at the roll, and by close at the latest", async () => {
    const fs = new FaultyFs();
    const one = HEADER_SIZE + 3;
    const q = await fx.open({
      fs,
      fsync: 'interval',
      fsyncIntervalMs: 60_000,
      maxSegmentSize: 2 * one + SEAL_SIZE,
    });
    for (const e of ['one', 'two', 'thr', 'fou', 'fiv']) await q.append(buf(e));
    expect(await fx.segmentFiles()).toEqual([1, 2, 3].map(segmentFileName));
    expect(fs.log.filter((l) => l.startsWith('datasync') && l.endsWith('.seg'))).toEqual([]);
    await q.close();
    for (const id of [1, 2, 3]) expect(fs.log).toContain(`datasync ${segmentFileName(id)}`);
  });

  it("'interval': the tick fdatasyncs the segments rolled since the last tick", async () => {
    const fs = new FaultyFs();
    let synced!: () => void;
    const sealedSynced = new Promise<void>((r) => (synced = r));
    fs.fault = (op, file) => {
      if (op === 'datasync' && file === segmentFileName(1)) synced();
      return undefined;
    };
    const one = HEADER_SIZE + 3;
    // A tick between the appends would sync segment 1 once more while it was still the tail.
    fakeTheTick();
    try {
      const q = await fx.open({
        fs,
        fsync: 'interval',
        fsyncIntervalMs: 5,
        maxSegmentSize: 2 * one + SEAL_SIZE,
      });
      for (const e of ['one', 'two', 'thr']) await q.append(buf(e));
      expect(count(fs.log, `datasync ${segmentFileName(1)}`)).toBe(0);
      jest.advanceTimersByTime(5);
      await sealedSynced;
      expect(count(fs.log, `datasync ${segmentFileName(1)}`)).toBe(1);
    } finally {
      jest.useRealTimers();
    }
  });

  it("'always': the position is durable before advance() resolves", async () => {
    const fs = new FaultyFs();
    const q = await fx.open({ fs, fsync: 'always' });
    await q.append(buf('a'));
    await q.append(buf('b'));
    fs.log.length = 0;
    await q.advance();
    expect(fs.log).toEqual(['writev position', 'datasync position']);
  });

  it("'interval': appends resolve after the write; one fdatasync follows within the interval", async () => {
    const fs = new FaultyFs();
    let synced!: () => void;
    const dataSynced = new Promise<void>((r) => (synced = r));
    fs.fault = (op, file) => {
      if (op === 'datasync' && file.endsWith('.seg')) synced();
      return undefined;
    };
    // A tick while the write is in flight would sync before the appends resolve.
    fakeTheTick();
    try {
      const q = await fx.open({ fs, fsync: 'interval', fsyncIntervalMs: 5 });
      fs.log.length = 0;
      await Promise.all(Array.from({ length: 10 }, (_, i) => q.append(buf(`e${i}`))));
      expect(count(fs.log, `writev ${segmentFileName(1)}`)).toBe(1);
      expect(count(fs.log, `datasync ${segmentFileName(1)}`)).toBe(0);
      jest.advanceTimersByTime(5);
      await dataSynced;
      expect(count(fs.log, `datasync ${segmentFileName(1)}`)).toBe(1);
    } finally {
      jest.useRealTimers();
    }
  });

  it("'never': no fdatasync on the append path; close still makes data and position durable", async () => {
    const fs = new FaultyFs();
    const q = await fx.open({ fs, fsync: 'never' });
    fs.log.length = 0;
    for (let i = 0; i < 20; i++) await q.append(buf(`e${i}`));
    await q.advance(3);
    expect(fs.log.filter((l) => l.startsWith('datasync'))).toEqual([]);
    await q.close();
    expect(fs.log).toContain(`datasync ${segmentFileName(1)}`);
    expect(fs.log).toContain('datasync position');
  });

  it("writes the position every positionSyncEntries advanced entries in 'interval' mode", async () => {
    const fs = new FaultyFs();
    const q = await fx.open({
      fs,
      fsync: 'interval',
      fsyncIntervalMs: 60_000,
      positionSyncEntries: 5,
    });
    for (let i = 0; i < 20; i++) await q.append(buf(`e${i}`));
    fs.log.length = 0;
    for (let i = 0; i < 12; i++) await q.advance();
    expect(count(fs.log, 'writev position')).toBe(2);
  });

  it('rolls a segment for the entry that would pass maxSegmentSize, with the seal inside the limit', async () => {
    const max = 3 * (HEADER_SIZE + 10) + SEAL_SIZE;
    const q = await fx.open({ maxSegmentSize: max });
    for (let i = 0; i < 7; i++) await q.append(Buffer.alloc(10, i));
    const { stat } = await import('node:fs/promises');
    const sizes = await Promise.all(
      (await fx.segmentFiles()).map(async (f) => (await stat(fx.path('q', f))).size),
    );
    expect(sizes).toEqual([max, max, HEADER_SIZE + 10]);
    q.setMaxSegmentSize(2 * (HEADER_SIZE + 10) + SEAL_SIZE);
    for (let i = 0; i < 2; i++) await q.append(Buffer.alloc(10, i));
    expect((await fx.segmentFiles()).length).toBe(4);
    expect((await drain(q)).length).toBe(9);
  });

  it('reports diskUsage exactly as the bytes of the segment files', async () => {
    const q = await fx.open({ maxSegmentSize: 200 });
    for (let i = 0; i < 30; i++) await q.append(Buffer.alloc(i, i));
    await q.advance(13);
    const { stat } = await import('node:fs/promises');
    const files = await fx.segmentFiles();
    const onDisk = (await Promise.all(files.map((f) => stat(fx.path('q', f))))).reduce(
      (n, s) => n + s.size,
      0,
    );
    expect(q.diskUsage()).toBe(onDisk);
  });
});

import { open, writeFile } from 'node:fs/promises';
import { encodeRecord, KIND_ENTRY } from '../../src/modules/queue/segment-format';
import {
  READ_CHUNK_SIZE,
  RecordStatus,
  SegmentReader,
} from '../../src/modules/queue/segment-reader';
import { WindowPool } from '../../src/modules/queue/window-pool';
import { QueueFixture } from './queue-test-helpers';

/** Deterministic payload bytes, different for every entry. */
const payload = (i: number, size: number) => Buffer.alloc(size, (i * 37 + 11) & 0xff);

describe('SegmentReader windows', () => {
  const fx = new QueueFixture();
  beforeEach(() => fx.setup());
  afterEach(() => fx.teardown());

  async function segmentOf(sizes: number[]): Promise<{ path: string; size: number }> {
    const bytes = Buffer.concat(sizes.map((s, i) => encodeRecord(KIND_ENTRY, payload(i, s), i)));
    const path = fx.path('one.seg');
    await writeFile(path, bytes);
    return { path, size: bytes.length };
  }

  async function readAll(path: string, size: number) {
    const fh = await open(path, 'r');
    const reader = new SegmentReader(fh, 1);
    const out: { payload: Buffer; appendedAt: number }[] = [];
    try {
      for (let offset = 0; offset < size;) {
        const rec = await reader.readAt(offset, size);
        if (rec.type !== 'entry') throw new Error(`unexpected ${rec.type} at ${offset}`);
        out.push({ payload: rec.payload, appendedAt: rec.appendedAt });
        offset = rec.next;
      }
    } finally {
      await reader.idle();
      await fh.close();
    }
    return out;
  }

  it('reads records cut by window ends and records larger than a window, each intact', async () => {
    // Odd sizes so records straddle every window boundary; two records larger than a window.
    const sizes = [
      ...Array.from({ length: 700 }, (_, i) => 1000 + (i % 97)),
      READ_CHUNK_SIZE + 5000,
      ...Array.from({ length: 300 }, (_, i) => 3000 + (i % 13)),
      2 * READ_CHUNK_SIZE,
      7,
    ];
    const { path, size } = await segmentOf(sizes);
    const got = await readAll(path, size);
    expect(got.map((e) => e.payload.length)).toEqual(sizes);
    got.forEach((e, i) => {
      expect(e.appendedAt).toBe(i);
      expect(e.payload.equals(payload(i, sizes[i]))).toBe(true);
    });
  });

  it('moves onto a finished read ahead without a promise, carrying records cut by the window end', async () => {
    // 300 KiB records: larger than the old 64 KiB carry room, so most are cut by a window end.
    // Enough of them to fill several windows whatever the window size.
    const count = Math.ceil((5 * READ_CHUNK_SIZE) / (300 * 1024));
    const sizes = Array.from({ length: count }, (_, i) => 300 * 1024 + i * 7);
    const { path, size } = await segmentOf(sizes);
    const fh = await open(path, 'r');
    const reader = new SegmentReader(fh, 1);
    try {
      const taken: Buffer[] = [];
      let offset = 0;
      let syncMoves = 0;
      while (offset < size) {
        let status = reader.tryRecordSync(offset, size);
        if (status === RecordStatus.NeedRead) {
          // Let the reads ahead finish; then the window moves on without one.
          await reader.idle();
          status = reader.tryRecordSync(offset, size);
          if (status === RecordStatus.Entry) syncMoves++;
        }
        if (status === RecordStatus.NeedRead) status = await reader.nextRecord(offset, size);
        expect(status).toBe(RecordStatus.Entry);
        taken.push(reader.sharedPayload());
        offset = reader.next;
      }
      expect(syncMoves).toBeGreaterThan(1);
      expect(taken.map((b, i) => b.equals(payload(i, sizes[i])))).toEqual(sizes.map(() => true));
    } finally {
      await reader.idle();
      await fh.close();
    }
  });

  it('reads a record larger than a window whose header is not in the window yet', async () => {
    // The first read of a fresh reader gets the header and learns the record is bigger than
    // that read: a second read must follow, not a verdict of "runs past the end".
    const sizes = [READ_CHUNK_SIZE + 100_000, 2 * READ_CHUNK_SIZE + 1, 5];
    const { path, size } = await segmentOf(sizes);
    const got = await readAll(path, size);
    expect(got.map((e) => e.payload.length)).toEqual(sizes);
    got.forEach((e, i) => expect(e.payload.equals(payload(i, sizes[i]))).toBe(true));
  });

  it('hands out payloads that stay valid after the window has moved on', async () => {
    const sizes = Array.from({ length: 2000 }, () => 1024);
    const { path, size } = await segmentOf(sizes);
    const got = await readAll(path, size);
    // The first payload was read many windows ago: still its own bytes.
    expect(got[0].payload.equals(payload(0, 1024))).toBe(true);
    expect(got[1999].payload.equals(payload(1999, 1024))).toBe(true);
  });

  it('gives its buffers, the window among them, back to the pool when released', async () => {
    const sizes = Array.from({ length: 50 }, () => 1024);
    const { path, size } = await segmentOf(sizes);
    const fh = await open(path, 'r');
    const pool = new WindowPool();
    const reader = new SegmentReader(fh, 1, READ_CHUNK_SIZE, pool);
    let window: ArrayBufferLike;
    try {
      expect(await reader.nextRecord(0, size)).toBe(RecordStatus.Entry);
      // A look at the payload (no payload handed out): the window is free to reuse at once.
      window = reader.payloadView().buffer;
      await reader.release();
    } finally {
      await fh.close();
    }
    const taken = Array.from({ length: 6 }, () => pool.take(window.byteLength).buffer);
    expect(taken).toContain(window);
  });

  it('finds the next whole record after damage that spans a window boundary', async () => {
    const record = 24 + 1024;
    const sizes = Array.from({ length: Math.ceil((2 * READ_CHUNK_SIZE) / record) }, () => 1024);
    const { path, size } = await segmentOf(sizes);
    // Zero 3 records around the first window end.
    const from = Math.floor(READ_CHUNK_SIZE / record) * record;
    const fh = await open(path, 'r+');
    await fh.write(Buffer.alloc(3 * record), 0, 3 * record, from - record);
    await fh.close();
    const rfh = await open(path, 'r');
    const reader = new SegmentReader(rfh, 1);
    try {
      const rec = await reader.readAt(from - record, size);
      expect(rec).toMatchObject({ type: 'corrupt', next: from + 2 * record, resynced: true });
      const after = await reader.readAt(from + 2 * record, size);
      expect(after.type === 'entry' && after.payload.equals(payload(from / record + 2, 1024))).toBe(
        true,
      );
    } finally {
      await reader.idle();
      await rfh.close();
    }
  });
});

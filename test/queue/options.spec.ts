import { DiskBackedQueue } from '../../src/modules/queue';
import { SEAL_SIZE } from '../../src/modules/queue/segment-format';
import { QueueFixture } from './queue-test-helpers';

describe('DiskBackedQueue options', () => {
  const fx = new QueueFixture();
  beforeEach(() => fx.setup());
  afterEach(() => fx.teardown());

  const create = (options: object) => new DiskBackedQueue(fx.path('q'), options);

  it.each([0, -1, 1.5, Number.NaN, Infinity, 2 ** 53, '1000' as unknown as number])(
    'rejects maxSize %p with a RangeError naming it',
    (maxSize) => {
      expect(() => create({ maxSize })).toThrow(RangeError);
      expect(() => create({ maxSize })).toThrow(/maxSize/);
    },
  );

  it.each([0, SEAL_SIZE, 4096.5, Number.NaN])('rejects maxSegmentSize %p', (maxSegmentSize) => {
    expect(() => create({ maxSegmentSize })).toThrow(/maxSegmentSize/);
  });

  it('rejects an unknown fsync policy', () => {
    expect(() => create({ fsync: 'sometimes' })).toThrow(/fsync must be one of/);
  });

  it.each([0, -5, Number.NaN, 2 ** 31])('rejects fsyncIntervalMs %p', (fsyncIntervalMs) => {
    expect(() => create({ fsyncIntervalMs })).toThrow(/fsyncIntervalMs/);
  });

  it.each([0, 2.5])('rejects positionSyncEntries %p', (positionSyncEntries) => {
    expect(() => create({ positionSyncEntries })).toThrow(/positionSyncEntries/);
  });

  it('accepts the smallest valid values and opens with them', async () => {
    const q = fx.create({
      maxSize: 1,
      maxSegmentSize: SEAL_SIZE + 1,
      fsync: 'never',
      fsyncIntervalMs: 1,
      positionSyncEntries: 1,
    });
    await q.open();
    expect(q.isOpen()).toBe(true);
  });

  it('checks setMaxSegmentSize the same way', async () => {
    const q = await fx.open();
    expect(() => q.setMaxSegmentSize(SEAL_SIZE)).toThrow(RangeError);
    expect(() => q.setMaxSegmentSize(1e6 + 0.5)).toThrow(RangeError);
    q.setMaxSegmentSize(SEAL_SIZE + 100);
  });
});

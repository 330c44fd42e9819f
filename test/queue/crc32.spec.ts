import { randomBytes } from 'node:crypto';
import { crc32 as zlibCrc32 } from 'node:zlib';
import { chooseCrc32, CRC32_ENV, type Crc32Choice } from '../../src/modules/queue/crc32';
import { buf, drain, QueueFixture } from './queue-test-helpers';

/** Random buffers of sizes around the ones the queue checks, half of them views at odd offsets. */
function samples(): Uint8Array[] {
  const sizes = [0, 1, 3, 7, 8, 15, 16, 63, 64, 65, 1000, 1024, 4097, 32 * 1024 + 24 * 31, 300_000];
  const out: Uint8Array[] = [];
  for (const size of sizes) {
    for (let i = 0; i < 8; i++) {
      const big = randomBytes(size + 16);
      const from = i % 2 === 0 ? 0 : 1 + (i % 13);
      out.push(big.subarray(from, from + size));
    }
  }
  return out;
}

/** The module as a fresh process loads it, with `env` as its HH_QUEUE_CRC32. */
function loadWithEnv(value: string | undefined): Crc32Choice {
  const saved = process.env[CRC32_ENV];
  if (value === undefined) delete process.env[CRC32_ENV];
  else process.env[CRC32_ENV] = value;
  try {
    let choice: Crc32Choice | undefined;
    jest.isolateModules(() => {
      type CrcModule = typeof import('../../src/modules/queue/crc32');
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const fresh = require('../../src/modules/queue/crc32') as CrcModule;
      choice = fresh.selectedCrc32;
    });
    return choice!;
  } finally {
    if (saved === undefined) delete process.env[CRC32_ENV];
    else process.env[CRC32_ENV] = saved;
  }
}

describe('CRC-32 implementation', () => {
  it('takes @node-rs/crc32 when it is installed (an optional dependency of the package)', () => {
    expect(chooseCrc32(undefined).name).toBe('node-rs');
    expect(loadWithEnv(undefined).name).toBe('node-rs');
    expect(loadWithEnv('auto').name).toBe('node-rs');
  });

  it(`falls back to zlib when the package is missing or its binary does not load`, () => {
    const missing = () => {
      throw Object.assign(new Error("Cannot find module '@node-rs/crc32'"), {
        code: 'MODULE_NOT_FOUND',
      });
    };
    expect(chooseCrc32(undefined, missing)).toEqual({ name: 'zlib', crc32: zlibCrc32 });
    expect(chooseCrc32('auto', () => ({})).name).toBe('zlib');
  });

  it(`${CRC32_ENV}=zlib selects zlib's crc32 when the module loads`, () => {
    const choice = loadWithEnv('zlib');
    expect(choice.name).toBe('zlib');
    expect(choice.crc32).toBe(zlibCrc32);
    expect(loadWithEnv(' ZLIB ').name).toBe('zlib');
  });

  it('refuses an unknown setting with a clear error', () => {
    expect(() => chooseCrc32('crc32c')).toThrow(
      `${CRC32_ENV}="crc32c": expected one of auto, zlib`,
    );
  });

  it('both give the checksums zlib gives, on random data of many sizes and offsets', () => {
    const nodeRs = chooseCrc32('auto');
    const zlib = chooseCrc32('zlib');
    expect(nodeRs.name).toBe('node-rs');
    // The check value of the CRC-32 every implementation publishes.
    expect(nodeRs.crc32(Buffer.from('123456789'))).toBe(0xcbf43926);
    expect(zlib.crc32(Buffer.from('123456789'))).toBe(0xcbf43926);
    let highBit = 0;
    for (const data of samples()) {
      const expected = zlibCrc32(data);
      expect(nodeRs.crc32(data)).toBe(expected);
      expect(zlib.crc32(data)).toBe(expected);
      if (expected >= 0x80000000) highBit++;
    }
    // Unsigned on both sides: the samples included checksums with the top bit set.
    expect(highBit).toBeGreaterThan(0);
  });

  describe('segments are read whichever implementation wrote them', () => {
    const fx = new QueueFixture();
    beforeEach(() => fx.setup());
    afterEach(() => fx.teardown());

    it('written with zlib, read with @node-rs/crc32', async () => {
      const entries = Array.from({ length: 200 }, (_, i) => `entry ${i} ${'x'.repeat(i * 37)}`);
      // The queue code loaded afresh with the zlib setting writes the segments.
      const saved = process.env[CRC32_ENV];
      process.env[CRC32_ENV] = 'zlib';
      try {
        let queue: typeof import('../../src/modules/queue') | undefined;
        jest.isolateModules(() => {
          // eslint-disable-next-line @typescript-eslint/no-require-imports
          queue = require('../../src/modules/queue') as typeof import('../../src/modules/queue');
        });
        const w = new queue!.DiskBackedQueue(fx.path('q'), { maxSegmentSize: 16384 });
        await w.open();
        // Concurrent appends: records checksummed in groups, as well as alone.
        for (const e of entries.slice(0, 50)) await w.append(buf(e));
        await Promise.all(entries.slice(50).map((e) => w.append(buf(e))));
        await w.close();
      } finally {
        if (saved === undefined) delete process.env[CRC32_ENV];
        else process.env[CRC32_ENV] = saved;
      }
      const corrupt: unknown[] = [];
      const r = await fx.open({ maxSegmentSize: 16384, onCorrupt: (c) => corrupt.push(c) });
      expect(await drain(r)).toEqual(entries);
      expect(corrupt).toEqual([]);
    });
  });
});

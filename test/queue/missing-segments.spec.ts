import { appendFile, open, readdir, readFile, truncate, unlink } from 'node:fs/promises';
import type { CorruptInfo, SegmentRange } from '../../src/modules/queue';
import { HEADER_SIZE, segmentFileName } from '../../src/modules/queue/segment-format';
import { verify, formatVerify } from '../../src/cli/verify-command';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildCli } from '../support/build-cli';
import { buf, drain, QueueFixture } from './queue-test-helpers';

let cliDir: string;
let hh: string;
beforeAll(async () => {
  cliDir = await mkdtemp(join(tmpdir(), 'hh-cli-'));
  hh = await buildCli(cliDir);
});
afterAll(() => rm(cliDir, { recursive: true, force: true }));

/** Segments deleted while stopped, and a damaged last record: reported, never silent. */
describe('missing segments and a damaged tail record', () => {
  const fx = new QueueFixture();
  beforeEach(() => fx.setup());
  afterEach(() => fx.teardown());

  /** Five segments of three entries each ('s<segment>e<n>'), the fifth the open tail. */
  async function fiveSegments(): Promise<string[]> {
    const q = await fx.open({ maxSegmentSize: 200, fsync: 'never' });
    const all: string[] = [];
    for (let i = 0; all.length < 14 || (await fx.segmentFiles()).length < 5; i++) {
      const word = `entry-${String(i).padStart(3, '0')}-${'x'.repeat(20)}`;
      await q.append(buf(word));
      all.push(word);
    }
    await q.close();
    return all;
  }

  async function entriesOf(segment: number): Promise<string[]> {
    const bytes = await readFile(fx.path('q', segmentFileName(segment)));
    const out: string[] = [];
    for (let at = 0; at + HEADER_SIZE <= bytes.length;) {
      const length = bytes.readUInt32BE(at + 8);
      if (bytes[at + 20] === 1)
        out.push(bytes.subarray(at + HEADER_SIZE, at + HEADER_SIZE + length).toString());
      at += HEADER_SIZE + length;
    }
    return out;
  }

  it.each([
    ['a middle segment', 3],
    ['the tail segment', 5],
  ])(
    'reports %s deleted while stopped (callback, verify exit status) and goes on past it',
    async (_what, gone) => {
      const all = await fiveSegments();
      const lost = await entriesOf(gone);
      expect(lost.length).toBeGreaterThan(0);
      await unlink(fx.path('q', segmentFileName(gone)));

      const report = await verify(fx.dir);
      expect(report.ok).toBe(false);
      expect(report.missingSegments).toEqual([{ node: 'q', segments: [{ from: gone, to: gone }] }]);
      expect(formatVerify(report)).toContain(`MISSING node q segments ${gone}: entries lost`);
      const cli = spawnSync(process.execPath, [hh, 'verify', fx.dir], { encoding: 'utf8' });
      expect(cli.status).toBe(1);
      expect(cli.stdout).toContain(`MISSING node q segments ${gone}`);

      const missing: SegmentRange[][] = [];
      const q = await fx.open({ maxSegmentSize: 200, onMissingSegments: (m) => missing.push(m) });
      expect(missing).toEqual([[{ from: gone, to: gone }]]);
      expect(q.missingSegments()).toEqual([{ from: gone, to: gone }]);
      await q.append(buf('after'));
      expect(await drain(q)).toEqual([...all.filter((w) => !lost.includes(w)), 'after']);
    },
  );

  it('reports no missing segment for an intact queue, nor for segments passed by the head', async () => {
    await fiveSegments();
    const missing: SegmentRange[][] = [];
    const q = await fx.open({ maxSegmentSize: 200, onMissingSegments: (m) => missing.push(m) });
    await drain(q);
    await q.close();
    await q.open();
    expect(missing).toEqual([]);
    expect((await verify(fx.dir)).missingSegments).toEqual([]);
  });

  it('reports a damaged last record of the tail (complete, wrong checksum) as damage, and cuts it', async () => {
    const q = await fx.open();
    for (const w of ['alpha', 'beta', 'gamma']) await q.append(buf(w));
    await q.close();
    const seg = fx.path('q', segmentFileName(1));
    const size = (await readFile(seg)).length;
    const fh = await open(seg, 'r+');
    await fh.write(Buffer.from('G'), 0, 1, size - 5); // 'gamma' -> 'Gamma': every byte still there
    await fh.close();
    const corrupt: CorruptInfo[] = [];
    const reopened = await fx.open({ onCorrupt: (c) => corrupt.push(c) }, 'q');
    expect(corrupt).toEqual([
      expect.objectContaining({
        segment: 1,
        bytes: HEADER_SIZE + 5,
        reason: expect.stringContaining('damaged last record'),
      }),
    ]);
    expect(reopened.corruptCount()).toBe(1);
    expect(await readdir(fx.path('q', 'corrupt'))).toEqual([`1-${size - HEADER_SIZE - 5}.bin`]);
    expect(await drain(reopened)).toEqual(['alpha', 'beta']);
  });

  it.each([
    ['cut short', (seg: string, size: number) => truncate(seg, size - 2)],
    ['zero-filled (pages lost)', (seg: string) => appendFile(seg, Buffer.alloc(4096))],
  ])('cuts a torn write (%s) quietly', async (_what, tear) => {
    const q = await fx.open();
    for (const w of ['alpha', 'beta', 'gamma']) await q.append(buf(w));
    await q.close();
    const seg = fx.path('q', segmentFileName(1));
    await tear(seg, (await readFile(seg)).length);
    const corrupt: CorruptInfo[] = [];
    const reopened = await fx.open({ onCorrupt: (c) => corrupt.push(c) }, 'q');
    expect(corrupt).toEqual([]);
    expect((await readdir(fx.path('q', 'corrupt')))[0]).toMatch(/\.torn$/);
    expect((await drain(reopened)).length).toBeGreaterThanOrEqual(2);
  });
});

import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, open, readdir, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DiskBackedQueue } from '../../src/modules/queue/disk-backed-queue';
import { segmentFileName } from '../../src/modules/queue/segment-format';
import { DeadLetterQueue } from '../../src/modules/replay/dead-letter-queue';
import { buildCli } from '../support/build-cli';

/** Clock stamped into records, so times in the output are known. */
const T0 = Date.UTC(2026, 0, 2, 3, 4, 5);

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

let work: string;
let hh: string;

function runHh(...args: string[]): Promise<Result> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(process.execPath, [hh, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolveRun({ code, stdout, stderr }));
  });
}

/** Fills a queue: `count` entries `<prefix>-<i>` a second apart, of which `advance` are read. */
async function fillQueue(
  dir: string,
  count: number,
  advance: number,
  prefix: string,
  maxSegmentSize = 128,
) {
  let t = T0;
  const queue = new DiskBackedQueue(dir, { maxSegmentSize, fsync: 'never', now: () => t });
  await queue.open();
  for (let i = 0; i < count; i++) {
    t = T0 + i * 1000;
    await queue.append(Buffer.from(`${prefix}-${i}`));
  }
  await queue.advance(advance);
  await queue.close();
}

async function segmentsOf(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((n) => n.endsWith('.seg')).sort();
}

/** Snapshot of every file's bytes, to prove the CLI changed nothing. */
async function snapshot(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    out.set(path, (await readFile(path)).toString('base64'));
  }
  return out;
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'hh-cli-'));
  hh = await buildCli(join(work, 'build'));
});

afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe('hh on a healthy data directory', () => {
  let dataDir: string;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(work, 'data-'));
    await fillQueue(join(dataDir, 'a'), 30, 10, 'cpu');
    await fillQueue(join(dataDir, 'b'), 0, 0, 'mem');
    const dlq = new DeadLetterQueue(join(dataDir, 'a'), { fsync: 'never', now: () => T0 });
    await dlq.open();
    await dlq.add(Buffer.from('bad line'), T0, 'unable to parse', 400);
    await dlq.add(Buffer.from('bad line 2'), T0, 'unable to parse', 400);
    await dlq.close();
  });

  it('starts with a shebang so npm can install it as the hh bin', async () => {
    const source = await readFile(join(__dirname, '../../src/cli/hh.ts'), 'utf8');
    expect(source.startsWith('#!/usr/bin/env node\n')).toBe(true);
  });

  it('inspect --json reports each node’s segments, backlog, times, head and dead letters', async () => {
    const r = await runHh('inspect', dataDir, '--json');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const { nodes } = JSON.parse(r.stdout);
    expect(nodes.map((n: { node: string }) => n.node)).toEqual(['a', 'b']);
    const [a, b] = nodes;
    const segments = await segmentsOf(join(dataDir, 'a'));
    expect(segments.length).toBeGreaterThan(1);
    expect(a.segments.count).toBe(segments.length);
    expect(segmentFileName(a.segments.last)).toBe(segments[segments.length - 1]);
    let diskBytes = 0;
    for (const s of segments) diskBytes += (await stat(join(dataDir, 'a', s))).size;
    expect(a.diskBytes).toBe(diskBytes);
    // Entries cpu-10 .. cpu-29 are unread: 20 entries of 6 bytes each.
    expect(a.backlog).toEqual({ entries: 20, bytes: 20 * 6 });
    expect(a.oldest).toBe(new Date(T0 + 10 * 1000).toISOString());
    expect(a.newest).toBe(new Date(T0 + 29 * 1000).toISOString());
    expect(a.head).toEqual({ segment: expect.any(Number), offset: expect.any(Number) });
    expect(a.position).toBe('ok');
    expect(a.deadLetters).toBe(2);
    expect(a.damagedRegions).toBe(0);
    expect(a.lock).toEqual({ state: 'free' });
    expect(b.backlog).toEqual({ entries: 0, bytes: 0 });
    expect(b.oldest).toBeNull();
  });

  it('inspect prints a readable summary per node', async () => {
    const r = await runHh('inspect', dataDir);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('node a');
    expect(r.stdout).toContain('backlog:      20 entries, 120 bytes');
    expect(r.stdout).toContain('dead letters: 2');
    expect(r.stdout).toContain('node b');
  });

  it('verify exits 0 when every checksum holds', async () => {
    const r = await runHh('verify', dataDir);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /^ok: \d+ records in \d+ segments of 2 nodes \(and 1 dead-letter queue\) checked\n$/,
    );
  });

  it('dump prints the unread entries oldest first, from the head on', async () => {
    const r = await runHh('dump', dataDir, 'a', '--limit', '3');
    expect(r.code).toBe(0);
    const payloads = r.stdout.split('\n').filter((l) => l && !l.startsWith('#'));
    expect(payloads).toEqual(['cpu-10', 'cpu-11', 'cpu-12']);
    expect(r.stdout).toContain(`at ${new Date(T0 + 10 * 1000).toISOString()} size 6`);
  });

  it('dump --hex --json gives exact bytes for scripts', async () => {
    const r = await runHh('dump', dataDir, 'a', '--hex', '--json', '--limit=1');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.node).toBe('a');
    expect(out.entries).toHaveLength(1);
    expect(Buffer.from(out.entries[0].payload, 'hex').toString()).toBe('cpu-10');
  });

  it('dump without --limit gives the whole backlog, segment 10 after segment 9', async () => {
    const r = await runHh('dump', dataDir, 'a', '--json');
    const { entries } = JSON.parse(r.stdout);
    expect(entries.map((e: { payload: string }) => e.payload)).toEqual(
      Array.from({ length: 20 }, (_, i) => `cpu-${i + 10}`),
    );
    const segments = entries.map((e: { segment: number }) => e.segment);
    expect(Math.max(...segments)).toBeGreaterThanOrEqual(10);
    expect([...segments].sort((x, y) => x - y)).toEqual(segments);
  });

  it('changes nothing on disk and takes no lock', async () => {
    const before = await snapshot(dataDir);
    await runHh('inspect', dataDir);
    await runHh('verify', dataDir);
    await runHh('dump', dataDir, 'a');
    expect(await snapshot(dataDir)).toEqual(before);
  });

  it('exits 2 with the usage on a wrong command line', async () => {
    for (const args of [
      [],
      ['frobnicate'],
      ['dump', dataDir],
      ['inspect', dataDir, '--limit', '0'],
    ]) {
      const r = await runHh(...args);
      if (args.length === 0) {
        expect(r.code).toBe(0);
        expect(r.stdout).toContain('usage:');
        continue;
      }
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('usage:');
    }
  });

  it('refuses a node id that could climb out of the data directory', async () => {
    const r = await runHh('dump', dataDir, '..');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('is not a node id');
  });

  it('exits 2 on a directory that holds no queue', async () => {
    const empty = await mkdtemp(join(work, 'empty-'));
    const r = await runHh('inspect', empty);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('neither a hand-off data directory nor a queue directory');
  });
});

describe('hh next to a running relay', () => {
  it('reads a directory whose lock a live process holds, says so, and leaves the lock alone', async () => {
    const dataDir = await mkdtemp(join(work, 'held-'));
    await fillQueue(join(dataDir, 'a'), 3, 0, 'x');
    // A live process other than the CLI: the lock names its pid, as the relay's would.
    const holder = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], {
      stdio: 'ignore',
    });
    try {
      const lockPath = join(dataDir, 'a', 'lock');
      await writeFile(lockPath, `${holder.pid}\n`);
      const r = await runHh('inspect', dataDir, '--json');
      expect(r.code).toBe(0);
      expect(r.stderr).toContain(`node a is held by running pid ${holder.pid}`);
      expect(JSON.parse(r.stdout).nodes[0].lock).toEqual({ state: 'held', pid: holder.pid });
      expect(JSON.parse(r.stdout).nodes[0].backlog.entries).toBe(3);
      expect(await readFile(lockPath, 'utf8')).toBe(`${holder.pid}\n`);
    } finally {
      holder.kill('SIGKILL');
    }
  });
});

describe('hh reading the lock a queue writes (pid, start time, boot id)', () => {
  it('reports held while a queue is open in a live process', async () => {
    const dataDir = await mkdtemp(join(work, 'held-new-'));
    await fillQueue(join(dataDir, 'a'), 1, 0, 'x');
    const queue = new DiskBackedQueue(join(dataDir, 'a'));
    await queue.open();
    try {
      const r = await runHh('inspect', dataDir, '--json');
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout).nodes[0].lock).toEqual({ state: 'held', pid: process.pid });
      expect(r.stderr).toContain(`node a is held by running pid ${process.pid}`);
    } finally {
      await queue.close();
    }
  });

  it('reports stale a lock whose pid now runs another process', async () => {
    const dataDir = await mkdtemp(join(work, 'reused-'));
    await fillQueue(join(dataDir, 'a'), 1, 0, 'x');
    const queue = new DiskBackedQueue(join(dataDir, 'a'));
    await queue.open();
    const lockPath = join(dataDir, 'a', 'lock');
    const recorded = JSON.parse(await readFile(lockPath, 'utf8')) as { startTime: string };
    await queue.close();
    // This process's own pid, started at another time: what a container restart leaves behind.
    await writeFile(
      lockPath,
      JSON.stringify({ ...recorded, startTime: String(Number(recorded.startTime) + 1) }),
    );
    const r = await runHh('inspect', dataDir, '--json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).nodes[0].lock).toEqual({ state: 'stale', pid: process.pid });
    expect(r.stderr).not.toContain('held by running pid');
  });
});

describe('hh verify on a damaged directory', () => {
  let dataDir: string;
  let damagedSegment: string;
  let damagedOffset: number;
  let damagedBytes: number;
  let damagedPayload: string;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(work, 'damaged-'));
    // Segments of several records each, so a damaged record has good ones after it.
    await fillQueue(join(dataDir, 'a'), 30, 0, 'cpu', 256);
    const segments = await segmentsOf(join(dataDir, 'a'));
    // Flip one payload byte of the second record of the third segment. Offsets are read from
    // the record headers (length at byte 8), not assumed.
    damagedSegment = segments[2];
    const bytes = await readFile(join(dataDir, 'a', damagedSegment));
    damagedOffset = 24 + bytes.readUInt32BE(8);
    const length = bytes.readUInt32BE(damagedOffset + 8);
    damagedBytes = 24 + length;
    damagedPayload = bytes.subarray(damagedOffset + 24, damagedOffset + 24 + length).toString();
    const fh = await open(join(dataDir, 'a', damagedSegment), 'r+');
    await fh.write(Buffer.from([bytes[damagedOffset + 24] ^ 0xff]), 0, 1, damagedOffset + 24);
    await fh.close();
    // And cut the last segment's last record short, as a crash mid-append would.
    const last = join(dataDir, 'a', segments[segments.length - 1]);
    await truncate(last, (await stat(last)).size - 3);
  });

  it('exits 1 and names every damaged offset', async () => {
    const r = await runHh('verify', dataDir);
    expect(r.code).toBe(1);
    const segment = Number(damagedSegment.replace('.seg', ''));
    expect(r.stdout).toContain(
      `DAMAGED node a segment ${segment} offset ${damagedOffset}: checksum mismatch, ${damagedBytes} bytes`,
    );
    expect(r.stdout).toMatch(/DAMAGED node a segment \d+ offset \d+: .*\(torn tail/);
  });

  it('reports the damage as JSON for scripts', async () => {
    const r = await runHh('verify', dataDir, '--json');
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout);
    expect(report.ok).toBe(false);
    expect(report.damage).toHaveLength(2);
    expect(report.damage[0]).toEqual({
      node: 'a',
      segment: Number(damagedSegment.replace('.seg', '')),
      offset: damagedOffset,
      bytes: damagedBytes,
      reason: 'checksum mismatch',
      tornTail: false,
    });
    expect(report.damage[1].tornTail).toBe(true);
  });

  it('dump skips damaged records and still delivers the ones after them', async () => {
    const r = await runHh('dump', dataDir, 'a', '--json');
    expect(r.code).toBe(0);
    const payloads = JSON.parse(r.stdout).entries.map((e: { payload: string }) => e.payload);
    expect(payloads).toHaveLength(28);
    expect(payloads[payloads.length - 1]).toBe('cpu-28');
    expect(payloads).not.toContain(damagedPayload);
    const n = Number(damagedPayload.replace('cpu-', ''));
    expect(payloads.indexOf(`cpu-${n + 1}`)).toBe(payloads.indexOf(`cpu-${n - 1}`) + 1);
  });

  it('verify reports an unreadable position file', async () => {
    const dir = await mkdtemp(join(work, 'pos-'));
    await fillQueue(join(dir, 'a'), 2, 1, 'p');
    await writeFile(join(dir, 'a', 'position'), Buffer.alloc(128, 7));
    const r = await runHh('verify', dir);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('DAMAGED node a: position file unreadable');
  });
});

it('the compiled CLI runs with --help', () => {
  const r = spawnSync(process.execPath, [hh, '--help'], { encoding: 'utf8' });
  expect(r.status).toBe(0);
  expect(r.stdout).toContain('hh inspect DIR');
});

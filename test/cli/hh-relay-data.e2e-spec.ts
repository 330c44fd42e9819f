import { spawnSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { ensureBuilt, spawnRelay } from '../support/relay-process';
import { buildCli } from '../support/build-cli';

/**
 * `hh` on what a real relay process stored: writes handed off to a node nothing answers
 * (a closed loopback port), the relay stopped, then the CLI reads the data directory.
 */
describe('hh on a relay’s data directory', () => {
  let work: string;
  let dataDir: string;
  let hh: string;
  const LINE_S = 'cpu,host=h1 value=0.5 1700000000';
  const TOKEN = 'cli-test-token';
  const STATEMENT = 'CREATE DATABASE "newdb"';
  const LINES_GZ =
    'mem,host=h2 used=1i 1700000000000000000\nmem,host=h2 used=2i 1700000001000000000';

  beforeAll(async () => {
    await ensureBuilt();
    work = await fs.mkdtemp(path.join(os.tmpdir(), 'hh-cli-relay-'));
    dataDir = path.join(work, 'data');
    hh = await buildCli(path.join(work, 'build'));
    // With a token the relay authenticates the client itself, so it may hand a statement off.
    const relay = await spawnRelay({
      HH_DATA_DIR: dataDir,
      HH_NODES: 'x=http://127.0.0.1:9',
      HH_AUTH_TOKEN: TOKEN,
    });
    const auth = { authorization: `Bearer ${TOKEN}` };
    const plain = await fetch(`${relay.url}/write?db=mydb&rp=autogen&precision=s`, {
      method: 'POST',
      headers: auth,
      body: LINE_S,
    });
    expect(plain.status).toBe(204);
    const gz = await fetch(`${relay.url}/write?db=other`, {
      method: 'POST',
      headers: { ...auth, 'content-encoding': 'gzip' },
      body: gzipSync(LINES_GZ),
    });
    expect(gz.status).toBe(204);
    const ddl = await fetch(`${relay.url}/query?q=${encodeURIComponent(STATEMENT)}`, {
      method: 'POST',
      headers: auth,
    });
    expect(ddl.status).toBe(200);
    expect(await relay.stop()).toBe(0);
  }, 120_000);

  afterAll(async () => {
    await fs.rm(work, { recursive: true, force: true });
  });

  const hhRun = (...args: string[]) =>
    spawnSync(process.execPath, [hh, ...args], { encoding: 'utf8' });

  it('dump shows each write’s target, then its body as text', () => {
    const r = hhRun('dump', dataDir, 'x');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(
      /^# segment \d+ offset 0 at \S+ size \d+ db=mydb rp=autogen precision=s$/,
    );
    expect(lines[1]).toBe(LINE_S);
    expect(lines[2]).toMatch(/ db=other \(gzip\)$/);
    expect(lines.slice(3, 5).join('\n')).toBe(LINES_GZ);
    expect(lines[5]).toMatch(/^# segment \d+ offset \d+ at \S+ size \d+ statement$/);
    expect(lines[6]).toBe(STATEMENT);
    expect(lines).toHaveLength(7);
    expect(r.stdout).not.toContain('\\x01');
    expect(r.stdout).not.toContain('\\x02');
  });

  it('dump --json gives the target as fields; --hex keeps the stored bytes', () => {
    const json = JSON.parse(hhRun('dump', dataDir, 'x', '--json').stdout);
    expect(json.entries.map((e: { target: unknown }) => e.target)).toEqual([
      { db: 'mydb', rp: 'autogen', precision: 's', encoding: 'identity' },
      { db: 'other', rp: '', precision: '', encoding: 'gzip' },
      undefined,
    ]);
    expect(json.entries[2].statement).toEqual({ db: '', rp: '' });
    expect(json.entries[2].payload).toBe(STATEMENT);
    expect(json.entries[0].payload).toBe(LINE_S);
    const hex = JSON.parse(hhRun('dump', dataDir, 'x', '--json', '--hex').stdout);
    const stored = Buffer.from(hex.entries[0].payload, 'hex');
    expect(stored.length).toBe(hex.entries[0].size);
    expect(stored[0]).toBe(1); // the envelope's version byte
    expect(stored.subarray(stored.length - LINE_S.length).toString()).toBe(LINE_S);
  });

  it('verify and inspect count the same one node', () => {
    const inspect = JSON.parse(hhRun('inspect', dataDir, '--json').stdout);
    expect(inspect.nodes).toHaveLength(1);
    const verify = hhRun('verify', dataDir);
    expect(verify.status).toBe(0);
    // The relay opens each node's dead-letter queue too: counted apart from the nodes.
    expect(verify.stdout).toMatch(
      /^ok: 3 records in \d+ segments of 1 node \(and 1 dead-letter queue\) checked\n$/,
    );
    expect(JSON.parse(hhRun('verify', dataDir, '--json').stdout)).toMatchObject({ nodes: 1 });
  });
});

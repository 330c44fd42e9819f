/**
 * The @nats-io packages are optional peers: a disk-store host never loads them, and a host that
 * asks for HH_STORE=jetstream without them gets an error naming what to install. Run on the
 * built library (dist/) in a child process, so Node's own module loading is what is observed.
 */
import { execFile } from 'node:child_process';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { ensureBuilt } from '../support/relay-process';
import { makeTempDir, removeDir } from '../support/temp-dir';

jest.setTimeout(180_000);

const run = promisify(execFile);
const ROOT = resolve(__dirname, '../..');
const CHILD = join(__dirname, 'fixtures', 'store-child.js');

interface Report {
  store?: string;
  error?: { code?: string; message: string };
  natsLoaded: boolean;
}

async function report(env: Record<string, string>, dataDir: string): Promise<Report> {
  const base = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith('HH_')),
  );
  const { stdout } = await run(process.execPath, [CHILD, join(ROOT, 'dist/index.js'), dataDir], {
    cwd: ROOT,
    env: { ...base, ...env },
  });
  return JSON.parse(stdout.trim().split('\n').pop()!) as Report;
}

describe('the NATS packages are optional', () => {
  let dataDir: string;
  beforeAll(async () => {
    await ensureBuilt();
  });
  beforeEach(async () => {
    dataDir = await makeTempDir();
  });
  afterEach(async () => {
    await removeDir(dataDir);
  });

  it('a disk-store host opens its queues without loading any @nats-io module', async () => {
    expect(await report({}, dataDir)).toEqual({ store: 'disk', natsLoaded: false });
  });

  it('the disk store works where the @nats-io packages are not installed', async () => {
    expect(await report({ BLOCK_NATS: '1' }, dataDir)).toEqual({
      store: 'disk',
      natsLoaded: false,
    });
  });

  it('HH_STORE=jetstream without them names the packages to install', async () => {
    const got = await report(
      { BLOCK_NATS: '1', HH_STORE: 'jetstream', HH_NATS_URL: 'nats://127.0.0.1:1' },
      dataDir,
    );
    expect(got.error?.code).toBe('ERR_NATS_PACKAGES_MISSING');
    expect(got.error?.message).toContain(
      'HH_STORE=jetstream needs the NATS client packages: npm install @nats-io/transport-node @nats-io/jetstream @nats-io/kv',
    );
  });
});

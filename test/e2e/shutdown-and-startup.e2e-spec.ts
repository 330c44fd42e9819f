import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { promises as fs } from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { inspect } from '../../src/cli/inspect-command';
import { ensureBuilt, runRelayToExit, spawnRelay } from '../support/relay-process';

const ROOT = path.resolve(__dirname, '../..');

/**
 * A node that accepts connections and reads requests but never answers: a hung InfluxDB.
 * `received` is its first `/write` (the relay's start-up `/ping` for the version comes first).
 */
async function hungNode(): Promise<{ port: number; received: Promise<void>; close(): void }> {
  const sockets = new Set<net.Socket>();
  let gotRequest!: () => void;
  const received = new Promise<void>((resolve) => (gotRequest = resolve));
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('data', (chunk: Buffer) => {
      if (chunk.toString('latin1').startsWith('POST /write')) gotRequest();
    });
    socket.on('error', () => undefined);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as net.AddressInfo).port,
    received,
    close: () => {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}

const logLines = (text: string) =>
  text
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);

let work: string;
beforeAll(async () => {
  await ensureBuilt();
  work = await fs.mkdtemp(path.join(os.tmpdir(), 'hh-shutdown-'));
}, 120_000);
afterAll(async () => {
  await fs.rm(work, { recursive: true, force: true });
});

describe('SIGTERM while a node hangs', () => {
  it('says which send it waits for, aborts it at HH_SHUTDOWN_TIMEOUT, hands the write off and exits 0', async () => {
    const node = await hungNode();
    const dataDir = path.join(work, 'hung');
    try {
      const relay = await spawnRelay({
        HH_DATA_DIR: dataDir,
        HH_NODES: `slow=http://127.0.0.1:${node.port}`,
        HH_WRITE_TIMEOUT: '120s',
        HH_SHUTDOWN_TIMEOUT: '3s',
      });
      const write = fetch(`${relay.url}/write?db=mydb`, {
        method: 'POST',
        body: 'cpu value=1 1700000000000000000',
      });
      await node.received;
      const signalled = Date.now();
      const code = await relay.stop();
      const tookMs = Date.now() - signalled;
      expect(code).toBe(0);
      // Bounded by the shutdown timeout (3 s, plus the queues' close), far below the 120 s
      // the node's write timeout would have taken.
      expect(tookMs).toBeLessThan(15_000);
      expect(tookMs).toBeGreaterThanOrEqual(2_500);
      expect((await write).status).toBe(204);

      const lines = logLines(relay.stderr());
      expect(lines).toContainEqual(
        expect.objectContaining({ msg: 'shutdown waiting', node: 'slow', send: 'live write' }),
      );
      expect(lines).toContainEqual(
        expect.objectContaining({
          msg: 'shutdown timeout: aborting the send in flight',
          node: 'slow',
          send: 'live write',
        }),
      );
      expect(relay.stdout()).toContain('"msg":"shut down cleanly"');
      const [report] = await inspect(dataDir);
      expect(report).toMatchObject({ node: 'slow', backlog: { entries: 1 } });
      expect(report.lock).toEqual({ state: 'free' });
    } finally {
      node.close();
    }
  }, 60_000);
});

describe('a data directory the relay cannot use', () => {
  const expectNamed = (stderr: string, dir: string, code: string) => {
    const fatal = logLines(stderr).find((l) => l.level === 'fatal');
    expect(fatal).toMatchObject({ variable: 'HH_DATA_DIR', value: dir, code });
    expect(String(fatal?.msg)).toContain('HH_DATA_DIR');
    expect(String(fatal?.path)).toMatch(new RegExp(`^${work}`));
    expect(String(fatal?.fix)).toMatch(/HH_DATA_DIR|ulimit|free/);
    expect(stderr).not.toMatch(/\n\s+at /);
  };

  it('names HH_DATA_DIR, the path and the fix when mkdir is refused (EACCES, or EROFS as root), exit 1', async () => {
    const parent = path.join(work, 'not-writable');
    await fs.mkdir(parent, { mode: 0o755 });
    const dir = path.join(parent, 'hh');
    // Root may write anywhere a mode allows nothing: as root the parent is a read-only tmpfs
    // (mkdir: EROFS); where that mount is refused, the relay runs as nobody (EACCES; it must
    // then be able to read the checkout). Otherwise the parent is made 0555 (EACCES).
    const asRoot = process.getuid?.() === 0;
    const mounted =
      asRoot &&
      spawnSync('mount', ['-t', 'tmpfs', '-o', 'ro,size=64k', 'tmpfs', parent]).status === 0;
    if (!asRoot) await fs.chmod(parent, 0o555);
    try {
      const child = spawn(process.execPath, [path.join(ROOT, 'dist/main.js')], {
        cwd: ROOT,
        env: { PATH: process.env.PATH, HH_DATA_DIR: dir, HH_PORT: '0', HH_HOST: '127.0.0.1' },
        ...(asRoot && !mounted ? { uid: 65534, gid: 65534 } : {}),
        stdio: 'pipe',
      });
      let stderr = '';
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      const [code] = (await once(child, 'close')) as [number];
      expect(code).toBe(1);
      expectNamed(stderr, dir, mounted ? 'EROFS' : 'EACCES');
    } finally {
      if (mounted) spawnSync('umount', [parent]);
      else await fs.chmod(parent, 0o755);
    }
  });

  it('names HH_DATA_DIR when a part of its path is a file (ENOTDIR), exit 1', async () => {
    const file = path.join(work, 'a-file');
    await fs.writeFile(file, 'x');
    const dir = path.join(file, 'hh');
    const { code, stderr } = await runRelayToExit({ HH_DATA_DIR: dir });
    expect(code).toBe(1);
    expectNamed(stderr, dir, 'ENOTDIR');
  });
});

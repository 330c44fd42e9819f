import { spawn, execFile, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs/promises';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { TestSink } from '../support/test-sink';

const run = promisify(execFile);
const ROOT = path.resolve(__dirname, '../..');
const TSC = path.join(ROOT, 'node_modules/typescript/bin/tsc');
const PACKAGE = 'nestjs-hinted-handoff';

/**
 * The proof that the library drops in: the package is built and packed as it would be published,
 * installed from the tarball into a fresh copy of examples/host-app (no path into src/), built
 * with its own tsconfig, booted, and used over HTTP while one of its two nodes is down.
 * Offline: the host's other dependencies are the root's node_modules, linked one by one, and the
 * tarball is unpacked into node_modules/nestjs-hinted-handoff as npm would.
 */
describe('the packed library in a host app', () => {
  let tmp: string;
  let hostDir: string;
  let host: ChildProcess | undefined;
  const nodeA = new TestSink();
  const nodeB = new TestSink();

  beforeAll(async () => {
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'hh-pack-'));
    hostDir = path.join(tmp, 'host');
    const tarball = await buildAndPack(tmp);
    await installHost(hostDir, tarball);
  }, 120_000);

  afterAll(async () => {
    if (host && host.exitCode === null && host.signalCode === null) host.kill('SIGKILL');
    await nodeA.stop();
    await nodeB.stop();
    if (tmp) await fs.rm(tmp, { recursive: true, force: true });
  });

  it('resolves the library from the installed tarball, not from the source tree', async () => {
    const { stdout } = await run(process.execPath, ['-p', `require.resolve('${PACKAGE}')`], {
      cwd: hostDir,
    });
    expect(stdout.trim()).toBe(path.join(hostDir, 'node_modules', PACKAGE, 'dist', 'index.js'));
    const sources = await fs.readdir(path.join(hostDir, 'src'));
    for (const file of sources) {
      const text = await fs.readFile(path.join(hostDir, 'src', file), 'utf8');
      expect(text).not.toMatch(/from '\.\.\/\.\.\//);
    }
    // The package carries the build and no sources, tests, or maps pointing at absent sources.
    const packed = await fs.readdir(path.join(hostDir, 'node_modules', PACKAGE));
    expect(packed.sort()).toEqual(['README.md', 'dist', 'package.json']);
    const built = await fs.readdir(path.join(hostDir, 'node_modules', PACKAGE, 'dist'), {
      recursive: true,
    });
    expect(built.filter((f) => f.endsWith('.map'))).toEqual([]);
  });

  it('loads nothing heavy on require, and only what a feature needs when it is used', async () => {
    const probe = `
      const heavy = () => ['@nestjs/terminus', '@nestjs/schedule', 'prom-client',
        '@willsoto/nestjs-prometheus', '@nestjs/config', 'class-validator', 'fastify']
        .filter((name) => Object.keys(require.cache).some((k) => k.includes('/node_modules/' + name + '/')));
      const lib = require('${PACKAGE}');
      const onRequire = heavy();
      lib.HintedHandoffModule.forRoot();
      const onForRoot = heavy();
      lib.HandoffMetricsModule;
      console.log(JSON.stringify({ onRequire, onForRoot, onMetrics: heavy() }));`;
    const { stdout } = await run(process.execPath, ['-e', probe], { cwd: hostDir });
    expect(JSON.parse(stdout)).toEqual({
      onRequire: [],
      onForRoot: ['@nestjs/terminus', '@nestjs/schedule'],
      onMetrics: [
        '@nestjs/terminus',
        '@nestjs/schedule',
        'prom-client',
        '@willsoto/nestjs-prometheus',
      ],
    });
  });

  it('gives an ES module host the same names as require', async () => {
    const cjs = `console.log(JSON.stringify(Object.keys(require('${PACKAGE}')).sort()))`;
    const esm = `import * as lib from '${PACKAGE}';
      console.log(JSON.stringify(Object.keys(lib).filter((k) => k !== 'default' && k !== '__esModule').sort()))`;
    const names = JSON.parse((await run(process.execPath, ['-e', cjs], { cwd: hostDir })).stdout);
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', esm], {
      cwd: hostDir,
    });
    expect(names).toContain('HintedHandoffModule');
    expect(JSON.parse(stdout)).toEqual(names);
  });

  it('exposes its entry points through the exports map and nothing deeper', async () => {
    const resolve = (spec: string) =>
      run(process.execPath, ['-p', `require.resolve('${spec}')`], { cwd: hostDir });
    const dist = path.join(hostDir, 'node_modules', PACKAGE, 'dist');
    expect((await resolve(`${PACKAGE}/testing`)).stdout.trim()).toBe(path.join(dist, 'testing.js'));
    expect((await resolve(`${PACKAGE}/relay`)).stdout.trim()).toBe(path.join(dist, 'relay.js'));
    await expect(resolve(`${PACKAGE}/dist/modules/replay/handoff.service`)).rejects.toThrow(
      /ERR_PACKAGE_PATH_NOT_EXPORTED/,
    );
    const manifest = JSON.parse(
      await fs.readFile(path.join(hostDir, 'node_modules', PACKAGE, 'package.json'), 'utf8'),
    ) as { bin: Record<string, string>; dependencies: Record<string, string> };
    expect(Object.keys(manifest.bin)).toEqual(['hinted-handoff']);
    // The relay's packages are not the library's dependencies.
    expect(Object.keys(manifest.dependencies)).toEqual(['cron']);
  });

  it("passes the host app's own unit and e2e tests, on Express and Fastify (the README's testing recipe)", async () => {
    const jest = path.join(hostDir, 'node_modules', 'jest', 'bin', 'jest.js');
    const env = { PATH: process.env.PATH, HOME: process.env.HOME };
    const { stderr } = await run(process.execPath, [jest, '--runInBand', '--ci'], {
      cwd: hostDir,
      env,
    });
    expect(stderr).toMatch(/Tests:\s+4 passed, 4 total/);
    // The recipe writes its queues to the OS temp dir, never into the project folder.
    await expect(fs.access(path.join(hostDir, 'data'))).rejects.toThrow(/ENOENT/);
  });

  it('hands off a write to a stopped node, shows it on /health, and delivers it when the node is back', async () => {
    await run(process.execPath, [TSC, '-p', 'tsconfig.json'], { cwd: hostDir });
    await nodeA.start();
    // Node b is down: a port that was free a moment ago, with nothing listening on it.
    const portB = await freePort();
    const urlB = `http://127.0.0.1:${portB}/write`;
    const dataDir = path.join(tmp, 'data');
    host = spawn(process.execPath, ['dist/main.js'], {
      cwd: hostDir,
      env: {
        PATH: process.env.PATH,
        PORT: '0',
        HH_DATA_DIR: dataDir,
        HH_NODES: `a=${nodeA.url},b=${urlB}`,
        HH_RETRY_INTERVAL: '10ms',
        HH_RETRY_MAX_INTERVAL: '100ms',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const base = await listeningUrl(host);

    const created = await request('POST', `${base}/items`, { name: 'first' });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({ nodes: { a: 'delivered', b: 'handed-off' } });
    expect(nodeA.lines()).toEqual(['{"name":"first"}']);

    const health = await request('GET', `${base}/health`);
    expect(health.status).toBe(200);
    const nodes = (health.body as HealthBody).details.handoff.nodes;
    expect(nodes.a.entries).toBe(0);
    expect(nodes.b.entries).toBe(1);

    await nodeB.start(portB);
    await nodeB.waitForLines(1);
    expect(nodeB.lines()).toEqual(['{"name":"first"}']);
    // The backlog drains once the replay's advance is recorded.
    let backlog = 1;
    while (backlog > 0) {
      const h = await request('GET', `${base}/health`);
      backlog = (h.body as HealthBody).details.handoff.nodes.b.entries;
      if (backlog > 0) await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(backlog).toBe(0);

    // Shut down by signal: the app closes (queues last) and the process ends by itself.
    const exited = new Promise<string>((resolve) =>
      host!.once('exit', (code, signal) => resolve(String(signal ?? code))),
    );
    host.kill('SIGTERM');
    expect(['SIGTERM', '0']).toContain(await exited);
  });
});

interface HealthBody {
  details: { handoff: { nodes: Record<string, { entries: number; state: string }> } };
}

/** Builds the library into a staging copy of the package and packs it; returns the tarball. */
async function buildAndPack(tmp: string): Promise<string> {
  const stage = path.join(tmp, 'package');
  await fs.mkdir(stage);
  // Its own outDir: the shared dist/ of the working tree is left alone.
  await run(
    process.execPath,
    [TSC, '-p', 'tsconfig.build.json', '--outDir', path.join(stage, 'dist')],
    {
      cwd: ROOT,
    },
  );
  await fs.copyFile(path.join(ROOT, 'package.json'), path.join(stage, 'package.json'));
  await fs.copyFile(path.join(ROOT, 'README.md'), path.join(stage, 'README.md'));
  const { stdout } = await run(
    'npm',
    ['pack', '--offline', '--silent', '--pack-destination', tmp],
    {
      cwd: stage,
    },
  );
  return path.join(tmp, stdout.trim().split('\n').pop()!);
}

/** A fresh copy of the example with the root's packages linked and the tarball unpacked. */
async function installHost(hostDir: string, tarball: string): Promise<void> {
  const example = path.join(ROOT, 'examples', 'host-app');
  await fs.cp(example, hostDir, {
    recursive: true,
    filter: (src) => !/[/\\](node_modules|dist|data)$/.test(src),
  });
  const modules = path.join(hostDir, 'node_modules');
  await fs.mkdir(modules);
  for (const name of await fs.readdir(path.join(ROOT, 'node_modules'))) {
    if (name.startsWith('.') || name === PACKAGE) continue;
    await fs.symlink(path.join(ROOT, 'node_modules', name), path.join(modules, name));
  }
  const target = path.join(modules, PACKAGE);
  await fs.mkdir(target);
  await run('tar', ['-xzf', tarball, '-C', target, '--strip-components=1']);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = http.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** The URL the host prints once it listens; its stderr is kept for the failure message. */
function listeningUrl(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const match = /\{"msg":"listening","url":"([^"]+)"\}/.exec(out);
      if (match) resolve(match[1].replace('[::1]', '127.0.0.1'));
    });
    child.once('exit', (code, signal) =>
      reject(new Error(`host exited (${code ?? signal}) before listening:\n${out}\n${err}`)),
    );
  });
}

function request(
  method: string,
  url: string,
  body?: unknown,
): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const req = http.request(
      url,
      {
        method,
        agent: false,
        headers: data ? { 'content-type': 'application/json', 'content-length': data.length } : {},
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString();
          resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : undefined });
        });
      },
    );
    req.once('error', reject);
    req.end(data);
  });
}

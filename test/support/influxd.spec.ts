import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { startInfluxd, type InfluxNode } from './influxd';

describe('the influxd test harness', () => {
  let a: InfluxNode;
  let b: InfluxNode;

  beforeAll(async () => {
    [a, b] = await Promise.all([startInfluxd(), startInfluxd()]);
  });

  afterAll(async () => {
    await Promise.all([a?.cleanup(), b?.cleanup()]);
  });

  it('runs two nodes on distinct loopback ports with their own directories', async () => {
    expect(a.url).toBe(`http://127.0.0.1:${a.port}`);
    expect(a.port).not.toBe(b.port);
    expect(a.dir).not.toBe(b.dir);
    expect(a.running && b.running).toBe(true);
    const config = await fs.readFile(path.join(a.dir, 'influxd.conf'), 'utf8');
    expect(config).toContain(`bind-address = "127.0.0.1:${a.port}"`);
    expect(config).not.toContain(':8088"');
    expect(config).toMatch(/^reporting-disabled = true$/m);
    expect(config).toMatch(/store-enabled = false/);
    await expect(fs.stat(path.join(a.dir, 'meta'))).resolves.toBeTruthy();
  });

  it('writes points and counts them on each node separately', async () => {
    await a.createDatabase('hh');
    await b.createDatabase('hh');
    await a.write('hh', [
      'cpu,host=x value=1i 1',
      'cpu,host=x value=2i 2',
      'cpu,host=y value=3i 3',
    ]);
    await b.write('hh', 'cpu,host=x value=10i 1');
    expect(await a.count('hh', 'cpu', 'value')).toBe(3);
    expect(await a.sum('hh', 'cpu', 'value')).toBe(6);
    expect(await b.count('hh', 'cpu', 'value')).toBe(1);
    expect(await b.count('hh', 'absent', 'value')).toBe(0);
  });

  it('rejects a bad write and a bad query with the node’s message', async () => {
    await expect(a.write('hh', 'not line protocol')).rejects.toThrow(/answered 400/);
    await expect(a.query('SELECT FROM nowhere', 'hh')).rejects.toThrow(/failed/);
  });

  it('keeps the data of a node stopped cleanly and started again on the same port', async () => {
    const port = b.port;
    await b.stop();
    expect(b.running).toBe(false);
    await b.start();
    expect(b.port).toBe(port);
    expect(await b.count('hh', 'cpu', 'value')).toBe(1);
  });

  it('keeps acknowledged points across a SIGKILL (replayed from the WAL)', async () => {
    await a.write('hh', 'cpu,host=z value=4i 4');
    const pid = a.pid;
    await a.kill();
    expect(() => process.kill(pid!, 0)).toThrow();
    await a.start();
    expect(await a.count('hh', 'cpu', 'value')).toBe(4);
    expect(await a.sum('hh', 'cpu', 'value')).toBe(10);
  });

  it('fails to start with the process output when influxd cannot run', async () => {
    await expect(startInfluxd({ port: a.port })).rejects.toThrow(
      /exited before answering \/ping; output tail:\n.*\S/s,
    );
  });

  it('fails to start with a clear error when the binary is missing', async () => {
    await expect(startInfluxd({ binary: '/nonexistent/influxd' })).rejects.toThrow(
      /could not be spawned.*ENOENT/,
    );
  });
});

import { execFileSync } from 'node:child_process';
import { promises as fs, readdirSync } from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { ensureBuilt, spawnRelay, type RelayProcess } from '../e2e/relay-process';
import { startInfluxd, type InfluxNode } from '../support/influxd';

/**
 * A real descriptor limit: the built relay runs under `ulimit -n`, idle client connections take
 * every descriptor it has while writes go on through one kept-alive connection, node b is down
 * (its copies are handed off and its queue must roll segments, which needs new descriptors).
 * Once the idle connections close, the relay heals by itself.
 */
const MAX_OPEN_FILES = 120;

/** Whether a shell here can lower `ulimit -n` (any user may lower a soft limit; a jail may not). */
function canLowerOpenFiles(): boolean {
  try {
    const out = execFileSync('/bin/sh', ['-c', `ulimit -n ${MAX_OPEN_FILES} && ulimit -n`], {
      encoding: 'utf8',
    });
    return out.trim() === String(MAX_OPEN_FILES);
  } catch {
    return false;
  }
}

/** `count` points with v = first..first+count-1 and distinct timestamps. */
function batch(first: number, count: number): string {
  const lines: string[] = [];
  for (let v = first; v < first + count; v += 1)
    lines.push(`m,src=fds v=${v}i ${1_600_000_000_000 + v}`);
  return lines.join('\n');
}

async function until(check: () => Promise<boolean>, timeoutMs = 30_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check().catch(() => false)) return true;
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const openDescriptors = (pid: number) => readdirSync(`/proc/${pid}/fd`).length;

/** One request over `agent` (a single kept-alive connection): status and body. */
function call(
  agent: http.Agent,
  url: string,
  method = 'GET',
  body?: string,
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, agent, timeout: 20_000 }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${url} timed out`)));
    req.on('error', reject);
    req.end(body);
  });
}

/** A counter's sample for `labels` in a /metrics text (0 when absent). */
function sample(metrics: string, name: string, labels: string): number {
  const escaped = labels.replace(/[{}"]/g, (c) => `\\${c}`);
  const m = new RegExp(`^${name}${escaped} (\\S+)$`, 'm').exec(metrics);
  return m ? Number(m[1]) : 0;
}

/** An idle client connection: connected, sends nothing. */
function idleConnection(port: number): Promise<net.Socket | undefined> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.on('error', () => resolve(undefined));
    socket.once('connect', () => resolve(socket));
  });
}

const lowerable = canLowerOpenFiles();
if (!lowerable) {
  console.warn(
    `SKIPPED fd exhaustion test: this shell cannot lower ulimit -n to ${MAX_OPEN_FILES}`,
  );
}

describe('descriptors exhausted (ulimit -n, idle connections, real relay, real influxd)', () => {
  let a: InfluxNode;
  let b: InfluxNode;
  let work: string;
  let relay: RelayProcess | undefined;
  const idle: net.Socket[] = [];
  // One kept-alive connection for every request of the test, opened before the descriptors run
  // out: what a client already connected (a Telegraf, a collector) keeps using.
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

  beforeAll(async () => {
    if (!lowerable) return;
    await ensureBuilt();
    work = await fs.mkdtemp(path.join(os.tmpdir(), 'hh-fds-'));
    [a, b] = await Promise.all([startInfluxd(), startInfluxd()]);
  }, 120_000);

  afterAll(async () => {
    for (const socket of idle) socket.destroy();
    agent.destroy();
    await relay?.kill();
    await Promise.all([a?.cleanup(), b?.cleanup()]);
    if (work) await fs.rm(work, { recursive: true, force: true });
  });

  it('answers writes again once the connections holding every descriptor close, and b gets every point a bounded number of times', async () => {
    if (!lowerable) return;
    await Promise.all([a.createDatabase('fds'), b.createDatabase('fds')]);
    relay = await spawnRelay(
      {
        HH_NODES: `a=${a.url},b=${b.url}`,
        HH_DATA_DIR: path.join(work, 'hh'),
        HH_RETRY_INTERVAL: '20ms',
        HH_RETRY_MAX_INTERVAL: '200ms',
        HH_WRITE_TIMEOUT: '5s',
        HH_MAX_SEGMENT_SIZE: '16KiB',
        // High caps: the descriptor limit, not the relay's own limits, is what runs out.
        HH_MAX_CONNECTIONS: '100000',
        HH_HEADER_TIMEOUT: '120s',
        HH_BODY_TIMEOUT: '120s',
        HH_KEEPALIVE_TIMEOUT: '120s',
      },
      { maxOpenFiles: MAX_OPEN_FILES },
    );
    const pid = relay.child.pid!;
    const port = Number(new URL(relay.url).port);
    const write = (first: number, count: number) =>
      call(agent, `${relay!.url}/write?db=fds`, 'POST', batch(first, count));
    const metrics = async () => (await call(agent, `${relay!.url}/metrics`)).text;

    await b.stop();
    const per = 200;
    let sent = 0;
    for (let i = 0; i < 3; i++, sent += per) expect((await write(sent, per)).status).toBe(204);
    const baseline = openDescriptors(pid);

    // Idle connections until the relay holds every descriptor it may have.
    for (let i = 0; i < 40 && openDescriptors(pid) < MAX_OPEN_FILES; i++) {
      const opened = await Promise.all(Array.from({ length: 10 }, () => idleConnection(port)));
      for (const s of opened) if (s) idle.push(s);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const exhausted = openDescriptors(pid);

    // Writes go on through the connection already open: b's segments must roll.
    const statuses: number[] = [];
    let refused: { status: number; body: string } | undefined;
    for (let i = 0; i < 20 && !refused; i++) {
      const res = await write(sent, per);
      statuses.push(res.status);
      if (res.status === 204) sent += per;
      else refused = { status: res.status, body: res.text };
    }
    const during = await metrics();
    const health = await call(agent, `${relay.url}/health`);
    const ready = await call(agent, `${relay.url}/health/ready`);
    const live = await call(agent, `${relay.url}/health/live`);
    console.log(
      JSON.stringify({
        baseline,
        exhausted,
        idle: idle.length,
        statuses,
        refusedBody: refused?.body,
        health,
        ready,
        live: live.status,
        reopen: during.split('\n').filter((l) => l.startsWith('hh_queue_reopen_total')),
      }),
    );
    expect(exhausted).toBeGreaterThanOrEqual(MAX_OPEN_FILES - 2);
    // What a client sees: its write refused (b's copy could not be kept), so it retries.
    expect(refused?.status).toBe(503);
    expect(relay.stdout() + relay.stderr()).toMatch(/hand-off not stored.*"node":"b".*EMFILE/);
    // What an orchestrator sees: unhealthy, with the cause, not a bare 500.
    expect(health.status).toBe(503);
    expect(health.text).toContain('node b: queue not open');
    expect(health.text).toContain('EMFILE');
    expect(ready.status).toBe(503);
    expect(live.status).toBe(200);

    // The cause goes away: the idle connections close, node b comes back.
    for (const socket of idle.splice(0)) socket.destroy();
    expect(await until(async () => openDescriptors(pid) < MAX_OPEN_FILES - 50)).toBe(true);
    // The refused batch is retried as a client would, until the relay takes it (no restart).
    expect(await until(async () => (await write(sent, per)).status === 204)).toBe(true);
    sent += per;
    for (let i = 0; i < 3; i++, sent += per) expect((await write(sent, per)).status).toBe(204);
    await b.start();
    const backlogOf = async (node: string) =>
      JSON.parse((await call(agent, `${relay!.url}/hh/nodes/${node}`)).text).backlog
        .entries as number;
    expect(await until(async () => (await backlogOf('b')) === 0)).toBe(true);
    expect(await until(async () => (await backlogOf('a')) === 0)).toBe(true);
    expect(await b.count('fds', 'm', 'v')).toBe(sent);
    expect(await a.count('fds', 'm', 'v')).toBe(sent);

    const after = await metrics();
    const appended = sample(after, 'hh_appended_entries_total', '{node="b"}');
    const replayed = sample(after, 'hh_replayed_entries_total', '{node="b"}');
    console.log(JSON.stringify({ appended, replayed, sent }));
    expect(appended).toBeGreaterThan(2);
    expect(replayed).toBeGreaterThanOrEqual(appended);
    expect(replayed).toBeLessThanOrEqual(2 * appended);
    expect(sample(after, 'hh_queue_reopen_total', '{node="b",outcome="ok"}')).toBeGreaterThan(0);
    expect((await call(agent, `${relay.url}/health`)).status).toBe(200);
  }, 120_000);
});

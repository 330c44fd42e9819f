import { readFileSync } from 'node:fs';
import { promises as fs } from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { ensureBuilt, spawnRelay, type RelayProcess } from '../support/relay-process';

/**
 * The relay's request limits through real sockets against a real relay process: slow bodies,
 * slow headers, idle keep-alive connections, too many connections, and unauthenticated uploads.
 */
jest.setTimeout(120_000);

let work: string;
beforeAll(async () => {
  await ensureBuilt();
  work = await fs.mkdtemp(path.join(os.tmpdir(), 'hh-limits-'));
}, 120_000);
afterAll(async () => {
  await fs.rm(work, { recursive: true, force: true });
});

let relayCount = 0;
async function relayWith(env: Record<string, string>): Promise<RelayProcess> {
  // A node nothing answers: writes that get through are handed off (204).
  return spawnRelay({
    HH_DATA_DIR: path.join(work, `relay-${relayCount++}`),
    HH_NODES: 'x=http://127.0.0.1:9',
    ...env,
  });
}

const portOf = (relay: RelayProcess) => Number(new URL(relay.url).port);

/** A raw connection: what it received, and when it was closed (ms after `opened`). */
interface Probe {
  socket: net.Socket;
  received: () => string;
  closed: Promise<number>;
}

async function connect(port: number, opened = Date.now()): Promise<Probe> {
  const socket = net.connect(port, '127.0.0.1');
  let data = '';
  socket.on('data', (c: Buffer) => (data += c.toString()));
  socket.on('error', () => undefined);
  const closed = new Promise<number>((resolve) =>
    socket.once('close', () => resolve(Date.now() - opened)),
  );
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  return { socket, received: () => data, closed };
}

/** Writes `bytes` one per `everyMs` until the socket closes. */
function trickle(socket: net.Socket, bytes: string, everyMs: number): void {
  let i = 0;
  const timer = setInterval(() => {
    if (socket.destroyed || i >= bytes.length) return clearInterval(timer);
    socket.write(bytes[i++]);
  }, everyMs);
  socket.once('close', () => clearInterval(timer));
}

async function ping(relay: RelayProcess): Promise<number> {
  return (await fetch(`${relay.url}/ping`)).status;
}

function peakRssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmHWM:\s+(\d+) kB/.exec(status)![1]) * 1024;
}

describe('slow clients', () => {
  let relay: RelayProcess;
  beforeAll(async () => {
    relay = await relayWith({
      HH_BODY_TIMEOUT: '2s',
      HH_HEADER_TIMEOUT: '2s',
      HH_KEEPALIVE_TIMEOUT: '1s',
    });
  });
  afterAll(async () => {
    expect(await relay.stop()).toBe(0);
  });

  it('cuts 200 slow-body connections within HH_BODY_TIMEOUT, with a 408, and keeps answering', async () => {
    const started = Date.now();
    const probes = await Promise.all(
      Array.from({ length: 200 }, async () => {
        const probe = await connect(portOf(relay), started);
        probe.socket.write(
          'POST /write?db=mydb HTTP/1.1\r\nHost: relay\r\nContent-Length: 1000\r\n\r\n',
        );
        trickle(probe.socket, 'x'.repeat(1000), 500);
        return probe;
      }),
    );
    expect(await ping(relay)).toBe(204);
    const closedAfter = await Promise.all(probes.map((p) => p.closed));
    // 2 s limit; the slack is for 200 sockets on a loaded 2-CPU machine, not for the limit.
    expect(Math.max(...closedAfter)).toBeLessThan(2_000 + 6_000);
    expect(Math.min(...closedAfter)).toBeGreaterThanOrEqual(1_900);
    for (const probe of probes) expect(probe.received()).toMatch(/^HTTP\/1\.1 408 /);
    expect(await ping(relay)).toBe(204);
  });

  it('cuts a connection that trickles its headers within HH_HEADER_TIMEOUT', async () => {
    const probe = await connect(portOf(relay));
    probe.socket.write('POST /write?db=mydb HTTP/1.1\r\n');
    trickle(probe.socket, 'X-Slow: ' + 'a'.repeat(100), 200);
    const after = await probe.closed;
    expect(after).toBeGreaterThanOrEqual(1_900);
    expect(after).toBeLessThan(2_000 + 4_000);
  });

  it('closes an idle keep-alive connection after HH_KEEPALIVE_TIMEOUT', async () => {
    const probe = await connect(portOf(relay));
    probe.socket.write('GET /ping HTTP/1.1\r\nHost: relay\r\n\r\n');
    const answered = Date.now();
    const after = await probe.closed;
    expect(probe.received()).toMatch(/^HTTP\/1\.1 204 /);
    expect(probe.received()).not.toMatch(/connection: close/i);
    expect(Date.now() - answered).toBeLessThan(1_000 + 4_000);
    expect(after).toBeGreaterThanOrEqual(900);
  });
});

describe('HH_MAX_CONNECTIONS', () => {
  it('closes connections past the cap as they arrive, and takes new ones once some close', async () => {
    const relay = await relayWith({ HH_MAX_CONNECTIONS: '5', HH_HEADER_TIMEOUT: '60s' });
    try {
      const held = await Promise.all(Array.from({ length: 5 }, () => connect(portOf(relay))));
      const extra = await connect(portOf(relay));
      extra.socket.write('GET /ping HTTP/1.1\r\nHost: relay\r\n\r\n');
      await extra.closed;
      expect(extra.received()).toBe('');
      held[0].socket.destroy();
      await held[0].closed;
      // The server counts the close asynchronously: retry briefly until a slot is free.
      let status = 0;
      for (let i = 0; i < 50 && status !== 204; i++) {
        status = await ping(relay).catch(() => 0);
        if (status !== 204) await new Promise((r) => setTimeout(r, 100));
      }
      expect(status).toBe(204);
      for (const probe of held) probe.socket.destroy();
    } finally {
      expect(await relay.stop()).toBe(0);
    }
  });
});

describe('unauthenticated uploads with HH_AUTH_TOKEN set', () => {
  const UPLOAD = 24 * 1024 * 1024;
  const CHUNK = Buffer.alloc(64 * 1024, 'cpu value=1\n');
  let relay: RelayProcess;
  beforeAll(async () => {
    relay = await relayWith({ HH_AUTH_TOKEN: 'secret', HH_MAX_BODY_SIZE: '32MiB' });
  });
  afterAll(async () => {
    expect(await relay.stop()).toBe(0);
  });

  /**
   * Streams a 24 MiB body over a raw socket (with back-pressure) and stops at the answer, as an
   * uploading client that reads while it writes: the status, the body, and the bytes it had sent.
   */
  function upload(headers: Record<string, string> = {}) {
    return new Promise<{ status: number; sent: number; ms: number; body: string }>(
      (resolve, reject) => {
        const started = Date.now();
        const socket = net.connect(portOf(relay), '127.0.0.1');
        let sent = 0;
        let received = '';
        const extra = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`);
        socket.write(
          `POST /write?db=mydb HTTP/1.1\r\nHost: relay\r\nContent-Length: ${UPLOAD}\r\n${extra.join('')}\r\n`,
        );
        socket.on('data', (chunk: Buffer) => {
          received += chunk.toString();
          const head = /^HTTP\/1\.1 (\d+) [^]*?content-length: (\d+)\r\n[^]*?\r\n\r\n/i.exec(
            received,
          );
          if (!head || received.length < head[0].length + Number(head[2])) return;
          socket.destroy();
          resolve({
            status: Number(head[1]),
            sent,
            ms: Date.now() - started,
            body: received.slice(head[0].length),
          });
        });
        socket.on('error', reject);
        socket.on('close', () => reject(new Error(`closed without an answer: ${received}`)));
        const pump = () => {
          while (!socket.destroyed && sent < UPLOAD) {
            sent += CHUNK.length;
            if (!socket.write(CHUNK)) return void socket.once('drain', pump);
          }
        };
        pump();
      },
    );
  }

  it('answers 20 parallel 24 MiB uploads 401 without reading them, memory bounded', async () => {
    const pid = relay.child.pid!;
    const before = peakRssBytes(pid);
    const results = await Promise.all(Array.from({ length: 20 }, () => upload()));
    const grown = peakRssBytes(pid) - before;
    for (const r of results) {
      expect(r.status).toBe(401);
      expect(JSON.parse(r.body)).toEqual({ error: 'unable to parse authentication credentials' });
      // Answered from the headers: at most what the socket buffers took, not the body.
      expect(r.sent).toBeLessThan(UPLOAD / 2);
      expect(r.ms).toBeLessThan(10_000);
    }
    // Reading the bodies would take 20 × 24 MiB = 480 MiB; a rejected request costs sockets only.
    expect(grown).toBeLessThan(48 * 1024 * 1024);
    console.log(`peak RSS growth over 20 rejected uploads: ${(grown / 1048576).toFixed(1)} MiB`);
  });

  it('answers a wrong token 401 before the body too, and still takes the right one', async () => {
    const wrong = await upload({ authorization: 'Bearer nope' });
    expect(wrong.status).toBe(401);
    expect(JSON.parse(wrong.body)).toEqual({ error: 'authorization failed' });
    expect(wrong.sent).toBeLessThan(UPLOAD / 2);
    const right = await fetch(`${relay.url}/write?db=mydb&p=secret`, {
      method: 'POST',
      body: 'cpu value=1 1700000000000000000',
    });
    expect(right.status).toBe(204);
  });
});

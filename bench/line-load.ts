/**
 * Load for the relay benchmark: 5 000-point line-protocol bodies over 1 000 series, each body
 * with new timestamps (so every point is a new one, as a live feed writes), and two clients —
 * closed-loop (N connections, as fast as the target answers) and paced (a fixed rate, each
 * request's latency recorded).
 */
import * as http from 'node:http';

export const POINTS = 5000;
export const SERIES = 1000;
const TS_DIGITS = 19;
/** 2023-11-14: well inside the default retention policy (infinite) and one shard group a run. */
const T0 = 1_700_000_000_000_000_000n;

/**
 * Bodies with fresh timestamps: a template is written once, and each body is a copy with the
 * 19-digit timestamps patched in place (a few hundred microseconds, not a string build).
 */
export class BodyFactory {
  private readonly template: Buffer;
  private readonly tsOffsets: number[] = [];
  private next = 0n;

  constructor() {
    const parts: string[] = [];
    let at = 0;
    for (let i = 0; i < POINTS; i += 1) {
      const s = i % SERIES;
      const head = `cpu,host=h${s},region=r${s % 10} usage_user=${(i % 97) + 0.5},usage_idle=${i % 89}i `;
      at += Buffer.byteLength(head);
      this.tsOffsets.push(at);
      const line = `${head}${'0'.repeat(TS_DIGITS)}\n`;
      at += TS_DIGITS + 1;
      parts.push(line);
    }
    this.template = Buffer.from(parts.join(''));
  }

  get size(): number {
    return this.template.length;
  }

  /** A body whose points all have timestamps no earlier body used (one second apart per series). */
  body(): Buffer {
    const out = Buffer.from(this.template);
    const rounds = BigInt(POINTS / SERIES);
    const first = this.next;
    this.next += rounds;
    for (let i = 0; i < POINTS; i += 1) {
      const ts = (T0 + (first + BigInt(Math.floor(i / SERIES))) * 1_000_000_000n).toString();
      out.write(ts, this.tsOffsets[i], 'latin1');
    }
    return out;
  }
}

export function post(agent: http.Agent, url: string, body: Buffer): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const req = http.request(
      url,
      {
        method: 'POST',
        agent,
        headers: { 'content-type': 'text/plain', 'content-length': body.length },
      },
      (res) => {
        res.resume();
        res.on('end', () =>
          res.statusCode === 204
            ? resolve()
            : reject(new Error(`${url}: status ${res.statusCode}`)),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * `connections` loops, each POSTing a fresh body to every URL of `targets` (in parallel) and
 * starting the next once all answered. Resolves points/s (points of one body count once).
 */
export async function closedLoop(
  bodies: BodyFactory,
  targets: string[],
  connections: number,
  seconds: number,
): Promise<number> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections * targets.length });
  const deadline = Date.now() + seconds * 1000;
  let batches = 0;
  const started = Date.now();
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (Date.now() < deadline) {
        const body = bodies.body();
        await Promise.all(targets.map((t) => post(agent, t, body)));
        batches += 1;
      }
    }),
  );
  const elapsed = (Date.now() - started) / 1000;
  agent.destroy();
  return (batches * POINTS) / elapsed;
}

export interface PacedResult {
  sent: number;
  p50: number;
  p99: number;
  pointsPerSecond: number;
}

/**
 * Open loop: one fresh body every `1000 / (rate / POINTS)` ms to `url` until `until()` says
 * stop (checked each tick) — a request does not wait for the one before (at most 64 in flight),
 * so a slow answer shows as latency rather than as a lower rate.
 */
export async function paced(
  bodies: BodyFactory,
  url: string,
  pointsPerSecond: number,
  until: () => boolean,
): Promise<PacedResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  const everyMs = 1000 / (pointsPerSecond / POINTS);
  const latencies: number[] = [];
  const pending = new Set<Promise<void>>();
  const started = Date.now();
  let sent = 0;
  while (!until()) {
    const due = started + sent * everyMs;
    const wait = due - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    if (pending.size >= 64) {
      await Promise.race(pending);
      continue;
    }
    const body = bodies.body();
    const t0 = process.hrtime.bigint();
    const p = post(agent, url, body).then(() => {
      latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
      pending.delete(p);
    });
    pending.add(p);
    sent += 1;
  }
  await Promise.all(pending);
  const elapsed = (Date.now() - started) / 1000;
  agent.destroy();
  latencies.sort((x, y) => x - y);
  const pick = (q: number) =>
    latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
  return { sent, p50: pick(0.5), p99: pick(0.99), pointsPerSecond: (sent * POINTS) / elapsed };
}

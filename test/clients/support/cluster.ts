/**
 * The conformance rig: the relay (`node dist/main.js`, as `npm start` runs it) in front of two
 * real influxd nodes `a` and `b`, and a third influxd `ref` that clients talk to directly — the
 * "one InfluxDB" every client's script is also run against. At the end, both nodes must hold
 * what `ref` holds, point for point.
 */
import { execFile } from 'node:child_process';
import * as http from 'node:http';
import { startInfluxd, type InfluxNode } from '../../support/influxd';
import { ensureBuilt, spawnRelay, type RelayProcess } from '../../support/relay-process';

/** Where a client's script sends: the relay, or the reference InfluxDB. */
export interface Target {
  name: 'relay' | 'ref';
  host: string;
  port: number;
  url: string;
}

export interface Cluster {
  a: InfluxNode;
  b: InfluxNode;
  ref: InfluxNode;
  relay: RelayProcess;
  targets: Target[];
}

function targetOf(name: Target['name'], url: string): Target {
  const parsed = new URL(url);
  return { name, host: parsed.hostname, port: Number(parsed.port), url };
}

export async function startCluster(env: Record<string, string>, dataDir: string): Promise<Cluster> {
  const [a, b, ref] = await Promise.all([startInfluxd(), startInfluxd(), startInfluxd()]);
  await ensureBuilt();
  const relay = await spawnRelay({
    HH_NODES: `a=${a.url},b=${b.url}`,
    HH_DATA_DIR: dataDir,
    HH_RETRY_INTERVAL: '20ms',
    HH_RETRY_MAX_INTERVAL: '300ms',
    ...env,
  });
  return { a, b, ref, relay, targets: [targetOf('relay', relay.url), targetOf('ref', ref.url)] };
}

/** One HTTP exchange (no keep-alive), with exactly the given headers. */
export function httpRequest(
  url: string,
  method: string,
  headers: Record<string, string> = {},
  body?: Buffer | string,
): Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          body: Buffer.concat(chunks).toString('utf8'),
          headers: res.headers,
        }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Waits (polling the admin API) until node `id`'s queue is empty. */
export async function waitDrained(relayUrl: string, id: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    const res = await httpRequest(`${relayUrl}/hh/nodes/${id}`, 'GET');
    last = res.body;
    const status = JSON.parse(res.body) as { backlog?: { entries?: number } };
    if (res.status === 200 && status.backlog?.entries === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`node ${id} did not drain within ${timeoutMs} ms: ${last}`);
}

/** Runs a program; resolves with its output whatever the exit code. */
export function runProgram(
  file: string,
  args: string[],
  options: { input?: string; timeoutMs?: number } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      file,
      args,
      { timeout: options.timeoutMs ?? 60_000, env: cleanEnv() },
      (err, stdout, stderr) => {
        const code = err ? ((err as { code?: unknown }).code ?? 1) : 0;
        if (err && typeof code !== 'number') reject(err);
        else resolve({ code: code as number, stdout, stderr });
      },
    );
    if (options.input !== undefined) child.stdin?.end(options.input);
  });
}

/** The environment of client programs: no INFLUX_* or HH_* settings of the developer's shell. */
function cleanEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith('INFLUX') && !k.startsWith('HH_')),
  );
}

/**
 * Everything a node holds in `databases`, in a form two nodes can be compared by: the databases
 * that exist (of those), each one's retention policies, and every point of every measurement of
 * every policy with its series (tags), fields and nanosecond timestamp.
 */
export async function contentOf(node: InfluxNode, databases: string[]): Promise<unknown> {
  const [shown] = await node.query('SHOW DATABASES');
  const existing = new Set((shown.series?.[0]?.values ?? []).map((v) => String(v[0])));
  const out: Record<string, unknown> = {};
  for (const db of databases) {
    if (!existing.has(db)) {
      out[db] = 'missing';
      continue;
    }
    const [rps] = await node.query(`SHOW RETENTION POLICIES ON "${db}"`);
    const policies = (rps.series?.[0]?.values ?? []).map((v) => ({
      name: String(v[0]),
      duration: v[1],
      replicaN: v[3],
      default: v[4],
    }));
    const points: Record<string, unknown> = {};
    for (const policy of policies) {
      const [result] = await node.query(
        `SELECT * FROM "${db}"."${policy.name}"./.*/ GROUP BY *`,
        db,
      );
      points[policy.name] = (result.series ?? [])
        .map((s) => ({ name: s.name, tags: s.tags ?? {}, columns: s.columns, values: s.values }))
        .sort((x, y) =>
          JSON.stringify([x.name, x.tags]).localeCompare(JSON.stringify([y.name, y.tags])),
        );
    }
    out[db] = { policies, points };
  }
  return out;
}

/** A recent whole hour in seconds, so points stay inside short retention policies. */
export function recentHourSeconds(): number {
  return Math.floor(Date.now() / 3_600_000) * 3600 - 3 * 3600;
}

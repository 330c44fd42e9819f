import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { SCRIPTS, type ClientScript, type Phase } from './client-scripts';
import {
  contentOf,
  httpRequest,
  recentHourSeconds,
  startCluster,
  waitDrained,
  type Cluster,
} from './support/cluster';

/**
 * Real clients through the relay, exactly as against one InfluxDB: every script runs against the
 * relay (nodes a and b) and against a reference influxd, with b up, then stopped, then back; then
 * both nodes must hold what the reference holds, and each read must have answered the same.
 */
describe('real InfluxDB clients through the relay', () => {
  let cluster: Cluster;
  let dataDir: string;
  const base = recentHourSeconds();
  /** Per script: what went wrong while it ran, and its reads per phase and target. */
  const failures = new Map<string, string[]>();
  const reads = new Map<string, Record<string, string>>();

  async function runPhase(phase: Phase): Promise<void> {
    for (const script of SCRIPTS) {
      for (const target of cluster.targets) {
        try {
          const out = await script.run(target, phase, base);
          const byPhase = reads.get(script.name) ?? {};
          byPhase[`${phase}:${target.name}`] = out;
          reads.set(script.name, byPhase);
        } catch (err) {
          const list = failures.get(script.name) ?? [];
          list.push(`${phase} ${target.name}: ${(err as Error).message}`);
          failures.set(script.name, list);
        }
      }
    }
  }

  beforeAll(async () => {
    dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'hh-clients-'));
    cluster = await startCluster(
      // The CLI asks consistency=all on every write: the operator lets a down node not be an error.
      { HH_MAX_CONSISTENCY: 'one', HH_MAX_SEGMENT_SIZE: '64KiB', HH_REPLAY_BATCH_BYTES: '1KiB' },
      dataDir,
    );
    await runPhase('up');
    await cluster.b.stop();
    await runPhase('down');
    await cluster.b.start();
    await runPhase('back');
    await waitDrained(cluster.relay.url, 'b');
  }, 170_000);

  afterAll(async () => {
    await cluster?.relay.stop();
    await fs.rm(dataDir, { recursive: true, force: true });
  });

  it.each(SCRIPTS.map((s) => [s.name, s] as const))(
    '%s: works through the relay, and both nodes end equal to one InfluxDB',
    async (_name, script: ClientScript) => {
      expect(failures.get(script.name) ?? []).toEqual([]);
      const byPhase = reads.get(script.name) ?? {};
      for (const phase of ['up', 'down', 'back']) {
        expect(byPhase[`${phase}:relay`]).toEqual(byPhase[`${phase}:ref`]);
      }
      const expected = await contentOf(cluster.ref, script.databases);
      expect(JSON.stringify(expected)).not.toContain('missing');
      expect(await contentOf(cluster.a, script.databases)).toEqual(expected);
      expect(await contentOf(cluster.b, script.databases)).toEqual(expected);
    },
  );

  it("dead-letters on b only the write a refused too (Telegraf's write before its CREATE DATABASE)", async () => {
    const res = await httpRequest(`${cluster.relay.url}/hh/nodes/b/dead-letters`, 'GET');
    const { entries: list } = JSON.parse(res.body) as { entries: { error?: string }[] };
    expect(list).toHaveLength(1);
    expect(list[0].error).toMatch(/database not found/);
  });
});

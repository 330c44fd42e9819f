import { execFileSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import request from 'supertest';
import { ensureBuilt, spawnRelay, type RelayProcess } from '../support/relay-process';
import { startInfluxd, type InfluxNode } from '../support/influxd';
import { pointBatch, until } from '../support/until';

/**
 * Real faults on a real file system: a small tmpfs mounted for the test (root only), a relay
 * process writing its queues there, real influxd nodes behind it.
 */

async function backlogEntries(relay: RelayProcess, node: string): Promise<number> {
  const res = await request(relay.url).get(`/hh/nodes/${node}`).expect(200);
  return res.body.backlog.entries as number;
}

/** A counter's sample for node `node` in the relay's /metrics text (0 when absent). */
async function counter(relay: RelayProcess, name: string, node: string): Promise<number> {
  const res = await request(relay.url).get('/metrics').expect(200);
  const m = new RegExp(`^${name}\\{node="${node}"\\} (\\S+)$`, 'm').exec(res.text);
  return m ? Number(m[1]) : 0;
}

/** Mounts a tmpfs with `options`; null (and a printed reason) when this is not possible. */
function mountTmpfs(dir: string, options: string): boolean {
  if (process.getuid?.() !== 0) {
    console.warn(
      `SKIPPED tmpfs fault tests: they mount a tmpfs and need root (uid ${process.getuid?.()})`,
    );
    return false;
  }
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', dir], { stdio: 'pipe' });
    return true;
  } catch (err) {
    console.warn(`SKIPPED tmpfs fault tests: mount failed: ${(err as Error).message}`);
    return false;
  }
}

/** Fills the file system at `dir` until it refuses: files of `chunk` bytes, then smaller. */
async function fill(dir: string, what: 'space' | 'inodes'): Promise<void> {
  for (let i = 0; ; i++) {
    const file = path.join(dir, `filler-${i}`);
    try {
      if (what === 'inodes') await fs.writeFile(file, '');
      else {
        const fh = await fs.open(file, 'w');
        try {
          for (let size = 1 << 20; size >= 1;) {
            try {
              await fh.write(Buffer.alloc(size));
            } catch {
              size >>= 1;
            }
          }
        } finally {
          await fh.close();
        }
        return;
      }
    } catch {
      return;
    }
  }
}

async function unfill(dir: string): Promise<void> {
  for (const f of await fs.readdir(dir)) {
    if (f.startsWith('filler-')) await fs.rm(path.join(dir, f));
  }
}

describe('faults heal by themselves (tmpfs, real relay, real influxd)', () => {
  let a: InfluxNode;
  let b: InfluxNode;
  let mnt: string;
  let mounted = false;
  let relay: RelayProcess | undefined;

  beforeAll(async () => {
    await ensureBuilt();
    [a, b] = await Promise.all([startInfluxd(), startInfluxd()]);
  }, 120_000);

  afterAll(async () => {
    await Promise.all([a?.cleanup(), b?.cleanup()]);
  });

  beforeEach(async () => {
    mnt = await fs.mkdtemp(path.join(os.tmpdir(), 'hh-tmpfs-'));
    if (!b.running) await b.start();
    if (!a.running) await a.start();
  });

  afterEach(async () => {
    await relay?.kill();
    relay = undefined;
    if (mounted) execFileSync('umount', [mnt]);
    mounted = false;
    await fs.rm(mnt, { recursive: true, force: true });
  });

  const relayEnv = (extra: Record<string, string> = {}) => ({
    HH_NODES: `a=${a.url},b=${b.url}`,
    HH_DATA_DIR: path.join(mnt, 'hh'),
    HH_RETRY_INTERVAL: '20ms',
    HH_RETRY_MAX_INTERVAL: '200ms',
    HH_WRITE_TIMEOUT: '5s',
    HH_MAX_SEGMENT_SIZE: '16KiB',
    ...extra,
  });

  const write = (db: string, body: string) =>
    request(relay!.url).post(`/write?db=${db}`).set('content-type', 'text/plain').send(body);

  it('answers 204 again once exhausted inodes are freed, and the node gets every point, each a bounded number of times', async () => {
    mounted = mountTmpfs(mnt, 'size=16m,nr_inodes=40');
    if (!mounted) return;
    await Promise.all([a.createDatabase('inodes'), b.createDatabase('inodes')]);
    relay = await spawnRelay(relayEnv());
    await b.stop();
    // Every inode left but four goes to filler files: a few rolls of b's queue work, then one
    // cannot create its segment.
    await fill(mnt, 'inodes');
    for (let i = 0; i < 4; i++) await fs.rm(path.join(mnt, `filler-${i}`));
    const per = 200;
    let sent = 0;
    let refused = false;
    for (let i = 0; i < 100 && !refused; i++) {
      const res = await write('inodes', pointBatch('faults', sent, per));
      if (res.status === 503) refused = true;
      else {
        expect(res.status).toBe(204);
        sent += per;
      }
    }
    expect(refused).toBe(true);
    expect(sent).toBeGreaterThan(0);
    // The cause goes away: inodes freed, the node back.
    await unfill(mnt);
    await b.start();
    // The refused batch is retried as a client would, until the relay takes it (no restart).
    const healed = await until(
      async () => (await write('inodes', pointBatch('faults', sent, per))).status === 204,
    );
    expect(healed).toBe(true);
    sent += per;
    for (let i = 0; i < 3; i++, sent += per)
      await write('inodes', pointBatch('faults', sent, per)).expect(204);
    expect(await until(async () => (await backlogEntries(relay!, 'b')) === 0)).toBe(true);
    expect(await b.count('inodes', 'm', 'v')).toBe(sent);
    expect(await a.count('inodes', 'm', 'v')).toBe(sent);
    // No flood: each handed-off entry was sent to b at most twice (measured: exactly once).
    const appended = await counter(relay, 'hh_appended_entries_total', 'b');
    const replayed = await counter(relay, 'hh_replayed_entries_total', 'b');
    expect(appended).toBeGreaterThan(2);
    expect(replayed).toBeGreaterThanOrEqual(appended);
    expect(replayed).toBeLessThanOrEqual(2 * appended);
    const metrics = (await request(relay.url).get('/metrics')).text;
    expect(metrics).toMatch(/^hh_queue_reopen_total\{node="b",outcome="ok"\} [1-9]/m);
    // Logged once per change, not per attempt.
    const log = relay.stdout() + relay.stderr();
    expect(log).toContain('node b: queue reopened');
    expect(log.split('node b: queue failed').length - 1).toBeLessThanOrEqual(2);
  }, 90_000);

  it('starts on a full disk and drains the backlog that frees it', async () => {
    mounted = mountTmpfs(mnt, 'size=4m');
    if (!mounted) return;
    await Promise.all([a.createDatabase('full'), b.createDatabase('full')]);
    relay = await spawnRelay(relayEnv());
    await b.stop();
    const per = 200;
    const batches = 10;
    for (let i = 0; i < batches; i++)
      await write('full', pointBatch('faults', i * per, per)).expect(204);
    expect(await backlogEntries(relay, 'b')).toBe(batches);
    expect(await relay.stop()).toBe(0);
    relay = undefined;
    await fill(mnt, 'space');
    await b.start();
    relay = await spawnRelay(relayEnv());
    expect(await until(async () => (await backlogEntries(relay!, 'b')) === 0)).toBe(true);
    expect(await b.count('full', 'm', 'v')).toBe(batches * per);
    const left = await fs.readdir(path.join(mnt, 'hh', 'b'));
    expect(left.filter((f) => f.endsWith('.tmp'))).toEqual([]);
    await unfill(mnt);
  }, 90_000);
});

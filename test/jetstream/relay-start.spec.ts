/**
 * `npm start`'s relay (dist/main.js) with HH_STORE=jetstream, configured by the environment only:
 * a NATS setting that cannot work (missing, unreadable creds, refused credentials, streams the
 * servers cannot reserve) stops it at start with a message naming it; a good one runs
 * it with its default relay id (`<hostname>-<pid>`) in the leases, and SIGTERM releases them.
 */
import { hostname } from 'node:os';
import { join } from 'node:path';
import { NatsLink, NodeLease, openLeaseBucket } from '../../src/modules/jetstream';
import { closedPort, FakeInfluxNode } from '../support/fake-influx-node';
import { startNatsServer, type NatsServer } from '../support/nats-server';
import { ensureBuilt, runRelayToExit, spawnRelay } from '../support/relay-process';
import { makeTempDir, removeDir } from '../support/temp-dir';
import { until } from '../support/until';

jest.setTimeout(180_000);

describe('the relay process with HH_STORE=jetstream', () => {
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

  it('exits 1 naming HH_NATS_URL when it is missing', async () => {
    const run = await runRelayToExit({ HH_DATA_DIR: dataDir, HH_STORE: 'jetstream' });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('HH_NATS_URL (unset): required with HH_STORE=jetstream');
  });

  // NATS unreachable at start is not one of them: the relay starts and heals once NATS answers
  // (relay-start-nats-down.spec.ts). Settings that cannot work still stop it.
  it('exits 1 naming HH_NATS_CREDS when the creds file cannot be read', async () => {
    const port = await closedPort();
    const run = await runRelayToExit({
      HH_DATA_DIR: dataDir,
      HH_STORE: 'jetstream',
      HH_NATS_URL: `nats://127.0.0.1:${port}`,
      HH_NATS_CREDS: join(dataDir, 'no-such.creds'),
    });
    expect(run.code).toBe(1);
    const out = run.stdout + run.stderr;
    expect(out).toMatch(/HH_NATS_CREDS|creds file .*no-such\.creds/);
  });

  describe('on a real nats-server', () => {
    let nats: NatsServer;
    let node: FakeInfluxNode;
    beforeAll(async () => {
      nats = await startNatsServer();
      node = await new FakeInfluxNode().start();
    });
    afterAll(async () => {
      await node?.stop();
      await nats?.kill();
    });

    it('exits 1 naming HH_MAX_SIZE when the servers cannot reserve the streams', async () => {
      // The test server gives JetStream 1 GB; the default 1 GiB per stream, twice, does not fit.
      const run = await runRelayToExit({
        HH_DATA_DIR: dataDir,
        HH_NODES: `a=${node.url}`,
        HH_STORE: 'jetstream',
        HH_NATS_URL: nats.url,
      });
      expect(run.code).toBe(1);
      const out = run.stdout + run.stderr;
      expect(out).toContain('ERR_JETSTREAM_CONFIG');
      expect(out).toMatch(/needs 1073741824 bytes \(HH_MAX_SIZE\).*lower HH_MAX_SIZE/);
    });

    it('exits 1 with ERR_JETSTREAM_CONFIG when NATS refuses the credentials', async () => {
      const guarded = await startNatsServer({ extraConfig: 'authorization { token: "s3cret" }\n' });
      try {
        const run = await runRelayToExit({
          HH_DATA_DIR: dataDir,
          HH_NODES: `a=${node.url}`,
          HH_STORE: 'jetstream',
          HH_NATS_URL: guarded.url,
          HH_NATS_TOKEN: 'wrong',
          HH_MAX_SIZE: '64MiB',
        });
        expect(run.code).toBe(1);
        const out = run.stdout + run.stderr;
        expect(out).toContain('ERR_JETSTREAM_CONFIG');
        expect(out).toContain("NATS refused this relay's credentials");
      } finally {
        await guarded.kill();
      }
    });

    it('shuts down cleanly (exit 0) while NATS is down', async () => {
      const relay = await spawnRelay({
        HH_DATA_DIR: dataDir,
        HH_NODES: `a=${node.url}`,
        HH_STORE: 'jetstream',
        HH_NATS_URL: nats.url,
        HH_MAX_SIZE: '64MiB',
        HH_SHUTDOWN_TIMEOUT: '5s',
      });
      try {
        await nats.kill();
        const state = async () =>
          ((await (await fetch(`${relay.url}/hh/nodes`)).json()) as { store: { nats: string } })
            .store.nats;
        expect(await until(async () => (await state()) !== 'connected')).toBe(true);
        const started = Date.now();
        expect(await relay.stop()).toBe(0);
        expect(Date.now() - started).toBeLessThan(30_000);
      } finally {
        await relay.kill();
        await nats.start();
      }
    });

    it('holds the leases as <hostname>-<pid> and releases them on SIGTERM', async () => {
      const relay = await spawnRelay({
        HH_DATA_DIR: dataDir,
        HH_NODES: `a=${node.url}`,
        HH_STORE: 'jetstream',
        HH_NATS_URL: nats.url,
        HH_LEASE_TTL: '10s',
        HH_MAX_SIZE: '64MiB',
      });
      const id = `${hostname()}-${relay.child.pid}`;
      const link = await NatsLink.connect({ servers: nats.url });
      try {
        const probe = new NodeLease(await openLeaseBucket(link, { ttlMs: 10_000 }), 'a', 'probe');
        const nodes = async () =>
          (await (await fetch(`${relay.url}/hh/nodes`)).json()) as {
            store: { kind: string; nats: string };
            nodes: { id: string; lease: { holder: string; held: boolean } }[];
          };
        expect(await until(async () => (await nodes()).nodes[0].lease.held)).toBe(true);
        expect((await nodes()).store).toMatchObject({ kind: 'jetstream', nats: 'connected' });
        expect((await nodes()).nodes[0].lease).toEqual({ holder: id, held: true });
        expect(await probe.holder()).toBe(id);
        expect(await relay.stop()).toBe(0);
        // Released by the clean shutdown: free now, not after the 10 s TTL.
        expect(await probe.holder()).toBeNull();
      } finally {
        await link.close();
      }
    });
  });
});

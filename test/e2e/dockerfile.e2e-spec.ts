import { spawnSync } from 'node:child_process';
import { promises as fs, readFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ensureBuilt, spawnRelay } from '../support/relay-process';

/**
 * What of the Dockerfile can run without a container engine: its runtime contract read from the
 * file, and its HEALTHCHECK command run against a real relay process.
 */
const dockerfile = readFileSync(path.resolve(__dirname, '../../Dockerfile'), 'utf8').replace(
  /\\\n\s*/g,
  ' ',
);
const runtime = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
const instruction = (name: string) =>
  [...runtime.matchAll(new RegExp(`^${name} (.+)$`, 'gm'))].map((m) => m[1]);

describe('the Dockerfile', () => {
  it('runs node dist/main.js as PID 1 (exec form), as a non-root user, with the data on a volume', () => {
    expect(dockerfile.match(/^FROM /gm)).toHaveLength(2);
    expect(instruction('CMD')).toEqual(['["node", "dist/main.js"]']);
    expect(instruction('ENTRYPOINT')).toEqual([]);
    expect(instruction('USER')).toEqual(['node']);
    expect(instruction('VOLUME')).toEqual(['["/var/lib/hh"]']);
    expect(runtime).toMatch(/HH_DATA_DIR=\/var\/lib\/hh/);
    expect(runtime).not.toMatch(/npm (start|run)/);
  });

  it('has a HEALTHCHECK that passes on a ready relay and fails when nothing answers', async () => {
    const [healthcheck] = instruction('HEALTHCHECK');
    const command = JSON.parse(healthcheck.slice(healthcheck.indexOf('CMD ') + 4)) as string[];
    expect(command[0]).toBe('node');
    expect(command.join(' ')).toContain('/health/ready');
    await ensureBuilt();
    const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'hh-healthcheck-'));
    const relay = await spawnRelay({ HH_DATA_DIR: dataDir, HH_NODES: 'x=http://127.0.0.1:9' });
    try {
      const run = (port: string) =>
        spawnSync(process.execPath, command.slice(1), {
          env: { PATH: process.env.PATH, HH_PORT: port },
          timeout: 10_000,
        }).status;
      expect(run(new URL(relay.url).port)).toBe(0);
      expect(run('9')).toBe(1);
    } finally {
      expect(await relay.stop()).toBe(0);
      await fs.rm(dataDir, { recursive: true, force: true });
    }
  }, 120_000);
});

import { spawnSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { HANDOFF_METRIC_NAMES } from '../../src/modules/metrics/metrics.definitions';
import { ensureBuilt, spawnRelay, type RelayProcess } from '../support/relay-process';
import { sampleValue } from './prometheus-text';

const PROMTOOL = '/usr/bin/promtool';
const NODES = ['a', 'b'];

/**
 * A freshly started relay process, before any write: every hh_* series of every configured node
 * is there (counters at 0, the node up), and Prometheus' own linter finds nothing to say about
 * the hh_* metrics of the real /metrics text.
 */
describe('the hh_* series of a relay that has done nothing yet', () => {
  let dataDir: string;
  let relay: RelayProcess;
  let text: string;

  beforeAll(async () => {
    await ensureBuilt();
    dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'hh-series-'));
    // Nothing listens on these: no write is sent, so nothing finds out.
    relay = await spawnRelay({
      HH_DATA_DIR: dataDir,
      HH_NODES: NODES.map((n, i) => `${n}=http://127.0.0.1:${9 + i}`).join(','),
    });
    const res = await fetch(`${relay.url}/metrics`);
    expect(res.status).toBe(200);
    text = await res.text();
  }, 120_000);

  afterAll(async () => {
    if (relay) expect(await relay.stop()).toBe(0);
    await fs.rm(dataDir, { recursive: true, force: true });
  });

  it.each(NODES)('has every per-node series of node %s at its resting value', (node) => {
    const zeroCounters = HANDOFF_METRIC_NAMES.filter(
      (n) =>
        n.endsWith('_total') &&
        n !== 'hh_replay_errors_total' &&
        n !== 'hh_purged_entries_total' &&
        n !== 'hh_queue_reopen_total',
    );
    expect(zeroCounters.length).toBeGreaterThanOrEqual(7);
    for (const name of zeroCounters) {
      expect({ name, value: sampleValue(text, name, { node }) }).toEqual({ name, value: 0 });
    }
    for (const kind of ['transient', 'permanent', 'timeout', 'network']) {
      expect(sampleValue(text, 'hh_replay_errors_total', { node, kind })).toBe(0);
    }
    for (const outcome of ['ok', 'failed']) {
      expect(sampleValue(text, 'hh_queue_reopen_total', { node, outcome })).toBe(0);
    }
    for (const reason of ['age', 'operator', 'inactive-node']) {
      expect(sampleValue(text, 'hh_purged_entries_total', { node, reason })).toBe(0);
    }
    expect(sampleValue(text, 'hh_node_up', { node })).toBe(1);
    expect(sampleValue(text, 'hh_replay_backoff_seconds', { node })).toBe(0);
    for (const gauge of ['hh_queue_entries', 'hh_queue_bytes', 'hh_queue_oldest_age_seconds']) {
      expect({ gauge, value: sampleValue(text, gauge, { node }) }).toEqual({ gauge, value: 0 });
    }
  });

  it('gives every hh_* metric the library defines at least one sample', () => {
    for (const name of HANDOFF_METRIC_NAMES) {
      const sampled = text.split('\n').some((line) => line.startsWith(`${name}{`));
      expect({ name, sampled }).toEqual({ name, sampled: true });
    }
  });

  it('passes `promtool check metrics` for every hh_* metric', () => {
    const lint = spawnSync(PROMTOOL, ['check', 'metrics'], { input: text, encoding: 'utf8' });
    expect(lint.error).toBeUndefined();
    const problems = `${lint.stdout}\n${lint.stderr}`
      .split('\n')
      .filter((line) => line.includes('hh_'));
    expect(problems).toEqual([]);
  });
});

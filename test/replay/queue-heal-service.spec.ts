import { Test, type TestingModule } from '@nestjs/testing';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { HandoffService } from '../../src/modules/replay/handoff.service';
import type { NodeClient } from '../../src/modules/replay/node-client.interface';
import { ReplayModule } from '../../src/modules/replay/replay.module';
import { errno } from '../support/faulty-fs';
import { testConfig } from '../support/handoff-config';
import { RecordingMetrics } from '../support/recording-metrics';
import { makeTempDir, removeDir } from '../support/temp-dir';

/** Nodes that take everything, by node id. */
class Nodes implements NodeClient {
  readonly got = new Map<string, string[]>();
  down = new Set<string>();
  async send(node: string, batch: Buffer[]): Promise<void> {
    if (this.down.has(node))
      throw Object.assign(new Error('ECONNREFUSED'), { code: 'ECONNREFUSED' });
    const lines = this.got.get(node) ?? [];
    lines.push(...batch.map((b) => b.toString()));
    this.got.set(node, lines);
  }
}

async function eventually(
  check: () => Promise<boolean> | boolean,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not reached');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('HandoffService: a failed queue heals while the service runs', () => {
  let dataDir: string;
  let ref: TestingModule | undefined;

  beforeEach(async () => {
    dataDir = await makeTempDir();
  });
  afterEach(async () => {
    await ref?.close().catch(() => undefined);
    ref = undefined;
    await removeDir(dataDir);
  });

  it('keeps other nodes writable while one queue cannot reopen (its directory removed), and heals it once the directory is back', async () => {
    const nodes = new Nodes();
    const metrics = new RecordingMetrics();
    const config = testConfig(dataDir, [
      { id: 'n1', url: 'http://127.0.0.1:9' },
      { id: 'n2', url: 'http://127.0.0.1:9' },
    ]);
    ref = await Test.createTestingModule({
      imports: [ReplayModule.forRoot({ config, metrics, client: nodes })],
    }).compile();
    await ref.init();
    const service = ref.get(HandoffService);
    nodes.down.add('n1');
    await service.enqueue('n1', Buffer.from('kept v=1'));
    // A write fails the queue (a failed fdatasync), and the directory goes away.
    (service.queueOf('n1') as unknown as { fail(err: unknown): void }).fail(errno('EIO'));
    const dir = path.join(dataDir, 'n1');
    await fs.rename(dir, `${dir}.away`);
    await fs.writeFile(dir, 'not a directory');

    await expect(service.enqueue('n1', Buffer.from('refused v=2'))).rejects.toThrow();
    // Another node's hand-offs are untouched.
    await service.enqueue('n2', Buffer.from('other v=1'));
    await eventually(() => (nodes.got.get('n2') ?? []).length === 1);

    // The cause goes away: the next hand-off (once a reopen is due) reopens the queue.
    await fs.rm(dir);
    await fs.rename(`${dir}.away`, dir);
    await eventually(() =>
      service.enqueue('n1', Buffer.from('after v=3')).then(
        () => true,
        () => false,
      ),
    );
    expect(service.node('n1').open).toBe(true);
    nodes.down.delete('n1');
    await eventually(() => service.backlog('n1').entries === 0);
    expect(nodes.got.get('n1')).toEqual(['kept v=1', 'after v=3']);
    expect(metrics.of('queueReopened').some(([, ok]) => ok === true)).toBe(true);
    expect(metrics.of('queueReopened').some(([, ok]) => ok === false)).toBe(true);
  }, 20_000);
});

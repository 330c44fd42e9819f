import { ScheduleModule, SchedulerRegistry } from '@nestjs/schedule';
import { Test, type TestingModule } from '@nestjs/testing';
import { NodeUnreachableError } from '../../src/modules/replay/errors';
import {
  HandoffService,
  replayTimeoutName,
  RETRY_SWEEP_NAME,
} from '../../src/modules/replay/handoff.service';
import type { NodeClient } from '../../src/modules/replay/node-client.interface';
import { ReplayModule } from '../../src/modules/replay/replay.module';
import { testConfig } from '../support/handoff-config';
import { makeTempDir, removeDir } from '../support/temp-dir';

/** A node that refuses while `down`, and keeps every line it took. */
class FlakyNode implements NodeClient {
  down = true;
  attempts = 0;
  readonly lines: string[] = [];
  async send(_node: string, batch: Buffer[]): Promise<void> {
    this.attempts++;
    if (this.down) throw new NodeUnreachableError('connect ECONNREFUSED', 0, 'ECONNREFUSED');
    this.lines.push(...batch.map((b) => b.toString()));
  }
}

async function eventually(predicate: () => boolean): Promise<void> {
  while (!predicate()) await new Promise((r) => setTimeout(r, 10));
}

describe('the retry sweep (safety net)', () => {
  let dataDir: string;
  let ref: TestingModule | undefined;

  beforeEach(async () => {
    dataDir = await makeTempDir();
  });

  afterEach(async () => {
    await ref?.close();
    ref = undefined;
    await removeDir(dataDir);
  });

  async function boot(client: NodeClient, hostSchedule: boolean) {
    const config = testConfig(dataDir, [{ id: 'n1', url: 'http://127.0.0.1:9' }], {
      retryIntervalMs: 5,
      retryMaxIntervalMs: 1000,
    });
    ref = await Test.createTestingModule({
      imports: hostSchedule
        ? [ScheduleModule.forRoot(), ReplayModule.forRoot({ config, client, schedule: false })]
        : [ReplayModule.forRoot({ config, client, schedule: false })],
    }).compile();
    await ref.init();
    return ref.get(HandoffService);
  }

  it("is registered as 'handoff:retry-sweep' in the host's SchedulerRegistry and removed at shutdown", async () => {
    await boot(new FlakyNode(), true);
    const registry = ref!.get(SchedulerRegistry);
    expect(registry.getIntervals()).toContain(RETRY_SWEEP_NAME);
    await ref!.close();
    expect(registry.getIntervals()).not.toContain(RETRY_SWEEP_NAME);
    ref = undefined;
  });

  it('reopens a failed queue that nothing else would touch (no backlog, no write, no timer)', async () => {
    const node = new FlakyNode();
    node.down = false;
    const service = await boot(node, true);
    const queue = service.queueOf('n1');
    (queue as unknown as { fail(err: unknown): void }).fail(
      Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' }),
    );
    expect(service.node('n1').open).toBe(false);
    await eventually(() => service.node('n1').open);
    expect(queue.isFailed()).toBe(false);
    expect(node.attempts).toBe(0);
  }, 10_000);

  it.each([
    ['the host registry', true],
    ['a private registry', false],
  ])(
    're-arms a node whose replay timer was lost, on %s, and drains its backlog',
    async (_name, host) => {
      const node = new FlakyNode();
      const service = await boot(node, host);
      for (const l of ['a v=1', 'b v=2', 'c v=3']) await service.enqueue('n1', Buffer.from(l));
      await eventually(() => node.attempts >= 1);
      // The node comes back, and the timer that would have found out is lost (a bug, a fault).
      node.down = false;
      const registry = (service as unknown as { registry: SchedulerRegistry }).registry;
      await eventually(() => registry.doesExist('timeout', replayTimeoutName('n1')));
      registry.deleteTimeout(replayTimeoutName('n1'));
      const attempts = node.attempts;
      // Without the sweep nothing would ever send again; with it, within one sweep interval (1 s).
      await eventually(() => node.lines.length === 3);
      expect(node.lines).toEqual(['a v=1', 'b v=2', 'c v=3']);
      expect(node.attempts).toBe(attempts + 1);
      expect(service.backlog('n1').entries).toBe(0);
    },
    10_000,
  );
});

import { Test, type TestingModule } from '@nestjs/testing';
import { HandoffService } from '../../src/modules/replay/handoff.service';
import type { NodeClient } from '../../src/modules/replay/node-client.interface';
import { ReplayModule } from '../../src/modules/replay/replay.module';
import { WriteReplayer } from '../../src/modules/replay/write-replayer';
import { testConfig } from '../support/handoff-config';
import { RecordingMetrics } from '../support/recording-metrics';
import { makeTempDir, removeDir } from '../support/temp-dir';

/** Records every batch; the first send waits until the test releases it. */
class FirstSendHeld implements NodeClient {
  readonly sent: string[][] = [];
  private release!: () => void;
  private readonly held = new Promise<void>((r) => (this.release = r));
  private started!: () => void;
  /** Resolves once the first send is in flight (and held). */
  readonly firstInFlight = new Promise<void>((r) => (this.started = r));
  private waiters: Array<{ n: number; resolve: () => void }> = [];

  async send(_nodeId: string, entries: Buffer[]): Promise<void> {
    const first = this.sent.length === 0;
    this.sent.push(entries.map((e) => e.toString()));
    if (first) {
      this.started();
      await this.held;
    }
    const n = this.sent.flat().length;
    this.waiters = this.waiters.filter((w) => (n >= w.n ? (w.resolve(), false) : true));
  }

  releaseFirst(): void {
    this.release();
  }

  entriesSent(n: number): Promise<void> {
    if (this.sent.flat().length >= n) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ n, resolve }));
  }
}

describe('HandoffService pause', () => {
  let dataDir: string;
  let moduleRef: TestingModule | undefined;

  beforeEach(async () => {
    dataDir = await makeTempDir();
  });

  afterEach(async () => {
    jest.restoreAllMocks();
    await moduleRef?.close();
    moduleRef = undefined;
    await removeDir(dataDir);
  });

  it('stops a drain in progress after the batch in flight, and resume finishes it in order', async () => {
    const client = new FirstSendHeld();
    // One entry per batch: the drain would otherwise send everything in one request.
    const config = testConfig(dataDir, [{ id: 'n1', url: 'http://127.0.0.1:9/write' }], {
      replayBatchBytes: 1,
    });
    moduleRef = await Test.createTestingModule({
      imports: [ReplayModule.forRoot({ config, client, metrics: new RecordingMetrics() })],
    }).compile();
    await moduleRef.init();
    const service = moduleRef.get(HandoffService);
    const drain = jest.spyOn(WriteReplayer.prototype, 'drain');

    service.pause('n1');
    for (const line of ['a', 'b', 'c']) await service.enqueue('n1', Buffer.from(line));
    service.resume('n1');
    await client.firstInFlight;

    service.pause('n1');
    client.releaseFirst();
    await drain.mock.results[0].value;

    // The batch in flight was delivered; nothing after it was sent while paused.
    expect(client.sent).toEqual([['a']]);
    expect(service.backlog('n1').entries).toBe(2);
    expect(service.node('n1').state).toBe('paused');

    service.resume('n1');
    await client.entriesSent(3);
    expect(client.sent.flat()).toEqual(['a', 'b', 'c']);
  });
});

import { Injectable, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import {
  HandoffService,
  HintedHandoffModule,
  NODE_CLIENT,
  PermanentWriteError,
  type NodeClient,
} from '../../src';
import { makeTempDir, removeDir } from '../support/temp-dir';
import { fastSettings } from '../support/fast-settings';

/** A host's own transport: records what it was given; fails while `failWith` is set. */
class RecordingClient implements NodeClient {
  readonly sent: Array<{ nodeId: string; entries: string[] }> = [];
  failWith: ((entries: Buffer[]) => Error | undefined) | undefined;
  private waiters: Array<{ n: number; resolve: () => void }> = [];

  send(nodeId: string, entries: Buffer[]): Promise<void> {
    const err = this.failWith?.(entries);
    if (err) return Promise.reject(err);
    this.sent.push({ nodeId, entries: entries.map((e) => e.toString()) });
    const count = this.delivered().length;
    this.waiters = this.waiters.filter((w) => (count >= w.n ? (w.resolve(), false) : true));
    return Promise.resolve();
  }

  delivered(): string[] {
    return this.sent.flatMap((s) => s.entries);
  }

  waitForDelivered(n: number): Promise<void> {
    if (this.delivered().length >= n) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ n, resolve }));
  }
}

describe('HintedHandoffModule with a custom NodeClient', () => {
  let dataDir: string;

  beforeEach(async () => {
    dataDir = await makeTempDir('hh-library-client-');
  });

  afterEach(async () => {
    await removeDir(dataDir);
  });

  // No node URL is ever contacted: the host's client decides where a node is.
  const nodes = [{ id: 'rpc1', url: 'http://127.0.0.1:9/never-used' }];

  it('uses an instance instead of HTTP, with the node id and the batch', async () => {
    const client = new RecordingClient();
    const ref = await Test.createTestingModule({
      imports: [HintedHandoffModule.forRoot({ ...fastSettings(dataDir, nodes), client })],
    }).compile();
    await ref.init();
    expect(ref.get(NODE_CLIENT)).toBe(client);
    await ref.get(HandoffService).enqueue('rpc1', Buffer.from('one'));
    await ref.get(HandoffService).enqueue('rpc1', Buffer.from('two'));
    await client.waitForDelivered(2);
    expect(client.delivered()).toEqual(['one', 'two']);
    expect(new Set(client.sent.map((s) => s.nodeId))).toEqual(new Set(['rpc1']));
    await ref.close();
  });

  it("instantiates a class through Nest's DI, so it can inject the host's providers", async () => {
    @Injectable()
    class RpcGateway {
      readonly calls: string[] = [];
    }
    @Module({ providers: [RpcGateway], exports: [RpcGateway] })
    class RpcModule {}
    @Injectable()
    class RpcNodeClient implements NodeClient {
      constructor(readonly gateway: RpcGateway) {}
      send(nodeId: string, entries: Buffer[]): Promise<void> {
        for (const e of entries) this.gateway.calls.push(`${nodeId}:${e.toString()}`);
        return Promise.resolve();
      }
    }
    const ref = await Test.createTestingModule({
      imports: [
        HintedHandoffModule.forRootAsync({
          imports: [RpcModule],
          useFactory: () => fastSettings(dataDir, nodes),
          client: RpcNodeClient,
        }),
        RpcModule,
      ],
    }).compile();
    await ref.init();
    const client = ref.get<RpcNodeClient>(NODE_CLIENT);
    expect(client).toBeInstanceOf(RpcNodeClient);
    await ref.get(HandoffService).enqueue('rpc1', Buffer.from('hello'));
    // The replay runs on a timer: wait for it through the service's own view of the queue.
    await until(() => ref.get(HandoffService).backlog('rpc1').entries === 0);
    expect(client.gateway.calls).toEqual(['rpc1:hello']);
    await ref.close();
  });

  it('retries any error that is not a PermanentWriteError, in order, until it goes through', async () => {
    const client = new RecordingClient();
    client.failWith = () => new Error('rpc: connection lost');
    const ref = await Test.createTestingModule({
      imports: [HintedHandoffModule.forRoot({ ...fastSettings(dataDir, nodes), client })],
    }).compile();
    await ref.init();
    const handoff = ref.get(HandoffService);
    let attempts = 0;
    const failing = client.failWith;
    const failedTwice = new Promise<void>((resolve) => {
      client.failWith = (entries) => {
        if (++attempts === 2) resolve();
        return failing(entries);
      };
    });
    await handoff.enqueue('rpc1', Buffer.from('first'));
    await handoff.enqueue('rpc1', Buffer.from('second'));
    await failedTwice;
    expect(handoff.node('rpc1').state).toBe('backing-off');
    expect(handoff.backlog('rpc1').entries).toBe(2);
    client.failWith = undefined;
    await client.waitForDelivered(2);
    expect(client.delivered()).toEqual(['first', 'second']);
    expect(await handoff.deadLetters('rpc1')).toEqual([]);
    await ref.close();
  });

  it('dead-letters what the client refuses with PermanentWriteError, and delivers the rest', async () => {
    const client = new RecordingClient();
    client.failWith = (entries) =>
      entries.some((e) => e.toString() === 'poison')
        ? new PermanentWriteError('rpc: schema violation', 0, 422, 'bad field')
        : undefined;
    const ref = await Test.createTestingModule({
      imports: [HintedHandoffModule.forRoot({ ...fastSettings(dataDir, nodes), client })],
    }).compile();
    await ref.init();
    const handoff = ref.get(HandoffService);
    handoff.pause('rpc1');
    for (const p of ['ok-1', 'poison', 'ok-2']) await handoff.enqueue('rpc1', Buffer.from(p));
    handoff.resume('rpc1');
    await client.waitForDelivered(2);
    expect(client.delivered()).toEqual(['ok-1', 'ok-2']);
    await until(() => handoff.node('rpc1').deadLetters === 1);
    const [letter] = await handoff.deadLetters('rpc1');
    expect(letter).toEqual(expect.objectContaining({ status: 422 }));
    expect(handoff.backlog('rpc1').entries).toBe(0);
    await ref.close();
  });
  it('sends a batch in lanes when the client says how its entries partition (replayLanes)', async () => {
    // Entries "<series>:<n>": one lane per series; a series' entries must stay in order.
    let inFlight = 0;
    let maxInFlight = 0;
    const sent: string[][] = [];
    const client: NodeClient = {
      partition: (entry, lanes) => ({
        pieces: [{ lane: Number(entry.toString().split(':')[0]) % lanes, piece: entry }],
      }),
      async send(_nodeId, entries) {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        await new Promise((r) => setTimeout(r, 20));
        sent.push(entries.map((e) => e.toString()));
        inFlight--;
      },
    };
    const ref = await Test.createTestingModule({
      imports: [
        HintedHandoffModule.forRoot({
          ...fastSettings(dataDir, nodes, { replayLanes: 4 }),
          client,
        }),
      ],
    }).compile();
    await ref.init();
    const service = ref.get(HandoffService);
    await service.pause('rpc1');
    const all = Array.from({ length: 40 }, (_, i) => `${i % 4}:${Math.floor(i / 4)}`);
    for (const e of all) await service.enqueue('rpc1', Buffer.from(e));
    await service.resume('rpc1');
    for (let i = 0; i < 200 && sent.flat().length < all.length; i++) {
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(sent.flat().sort()).toEqual([...all].sort());
    expect(maxInFlight).toBeGreaterThan(1);
    for (const series of ['0', '1', '2', '3']) {
      const order = sent.flat().filter((e) => e.startsWith(`${series}:`));
      expect(order).toEqual(all.filter((e) => e.startsWith(`${series}:`)));
    }
    await ref.close();
  });
});

/** Waits for a condition the replay timer will make true; the test's own timeout bounds it. */
async function until(predicate: () => boolean): Promise<void> {
  while (!predicate()) await new Promise((resolve) => setTimeout(resolve, 5));
}

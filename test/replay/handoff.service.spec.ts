import { Test, type TestingModule } from '@nestjs/testing';
import { SchedulerRegistry } from '@nestjs/schedule';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import type { HandoffConfig } from '../../src/config/handoff-config.interface';
import { DiskBackedQueue } from '../../src/modules/queue/disk-backed-queue';
import { QueueFullError } from '../../src/modules/queue/errors';
import {
  InvalidNodeIdError,
  NodeUnreachableError,
  ReplayClosedError,
  UnknownNodeError,
} from '../../src/modules/replay/errors';
import {
  HandoffService,
  PURGE_CRON_NAME,
  replayTimeoutName,
} from '../../src/modules/replay/handoff.service';
import type { NodeClient } from '../../src/modules/replay/node-client.interface';
import { writeNodeRecord } from '../../src/modules/replay/node-record';
import { ReplayModule } from '../../src/modules/replay/replay.module';
import { testConfig } from '../support/handoff-config';
import { RecordingMetrics } from '../support/recording-metrics';
import { makeTempDir, removeDir } from '../support/temp-dir';
import { TestSink } from '../support/test-sink';

const buf = (s: string) => Buffer.from(s);

/** Waits (bounded by the test timeout) for a state change no event announces. */
async function eventually(predicate: () => boolean): Promise<void> {
  while (!predicate()) await new Promise((r) => setTimeout(r, 5));
}

describe('HandoffService', () => {
  let dataDir: string;
  let sink: TestSink;
  let metrics: RecordingMetrics;
  let moduleRef: TestingModule | undefined;

  beforeEach(async () => {
    dataDir = await makeTempDir();
    sink = new TestSink();
    await sink.start();
    metrics = new RecordingMetrics();
  });

  afterEach(async () => {
    await moduleRef?.close();
    moduleRef = undefined;
    await sink.stop();
    await removeDir(dataDir);
  });

  async function boot(
    overrides: Partial<HandoffConfig> = {},
    nodes = [{ id: 'n1', url: sink.url }],
  ) {
    const config = testConfig(dataDir, nodes, overrides);
    moduleRef = await Test.createTestingModule({
      imports: [ReplayModule.forRoot({ config, metrics })],
    }).compile();
    await moduleRef.init();
    return {
      service: moduleRef.get(HandoffService),
      registry: moduleRef.get(SchedulerRegistry),
    };
  }

  /** Fills a queue directory the way an earlier run (or another node) left it. */
  async function seedQueue(id: string, lines: string[], url?: string): Promise<void> {
    const dir = path.join(dataDir, id);
    const q = new DiskBackedQueue(dir, { fsync: 'never' });
    await q.open();
    for (const l of lines) await q.append(buf(l));
    await q.close();
    if (url) await writeNodeRecord(dir, { id, url });
  }

  it('opens one queue per configured node under <dataDir>/<nodeId>', async () => {
    const { service } = await boot({}, [
      { id: 'n1', url: sink.url },
      { id: 'n2', url: sink.url },
    ]);
    expect(service.nodes().map((n) => n.id)).toEqual(['n1', 'n2']);
    expect((service.queueOf('n2') as DiskBackedQueue).dir).toBe(path.resolve(dataDir, 'n2'));
    expect(service.queueOf('n1').isOpen()).toBe(true);
    expect(service.node('n1')).toMatchObject({
      id: 'n1',
      url: sink.url,
      state: 'up',
      configured: true,
      open: true,
      backlog: { entries: 0, bytes: 0, oldestAgeSeconds: null },
      deadLetters: 0,
      backoffMs: 0,
    });
  });

  it('refuses an unknown node id with UnknownNodeError', async () => {
    const { service } = await boot();
    expect(service.hasNode('nope')).toBe(false);
    expect(() => service.node('nope')).toThrow(UnknownNodeError);
    await expect(service.enqueue('nope', buf('x'))).rejects.toMatchObject({
      code: 'ERR_UNKNOWN_NODE',
    });
  });

  it('refuses a configured node id that could climb out of the data dir', async () => {
    const config = testConfig(dataDir, [{ id: '..', url: sink.url }]);
    const ref = await Test.createTestingModule({
      imports: [ReplayModule.forRoot({ config, metrics })],
    }).compile();
    await expect(ref.init()).rejects.toBeInstanceOf(InvalidNodeIdError);
    // Nest's close() re-raises the failed init; nothing was opened, so nothing is left behind.
    await expect(ref.close()).rejects.toBeInstanceOf(InvalidNodeIdError);
    expect(await fs.readdir(dataDir)).toEqual([]);
  });

  it('delivers everything handed off while the node was down, in order, once it is up', async () => {
    await sink.stop();
    const { service, registry } = await boot();
    const lines = Array.from({ length: 200 }, (_, i) => `m,i=${i} v=${i}`);
    for (const l of lines) await service.enqueue('n1', buf(l));
    expect(service.isBacklogged('n1')).toBe(true);
    await metrics.until(() => metrics.of('replayError').length >= 3);
    expect(service.node('n1').state).toBe('backing-off');
    // Each failed run re-arms the node's named timeout with the back-off delay.
    await eventually(() => registry.doesExist('timeout', replayTimeoutName('n1')));
    await sink.start();
    await sink.waitForLines(200);
    expect(sink.lines()).toEqual(lines);
    await metrics.until(() => metrics.total('replayed') === 200);
    expect(service.backlog('n1').entries).toBe(0);
    expect(service.node('n1').state).toBe('up');
  });

  it('replays entries appended straight to its queue once woken', async () => {
    const { service } = await boot();
    await service.queueOf('n1').append(buf('direct v=1'));
    expect(sink.lines()).toEqual([]);
    service.wake('n1');
    await sink.waitForLines(1);
    expect(sink.lines()).toEqual(['direct v=1']);
    await eventually(() => service.backlog('n1').entries === 0);
  });

  it('sends new writes behind the backlog, never past it', async () => {
    const { service } = await boot();
    sink.mode = { kind: 'status', status: 503 };
    await service.enqueue('n1', buf('old v=1'));
    await metrics.waitFor('replayError');
    expect(service.isBacklogged('n1')).toBe(true);
    await service.enqueue('n1', buf('new v=2'));
    sink.mode = { kind: 'up' };
    await sink.waitForLines(2);
    expect(sink.lines()).toEqual(['old v=1', 'new v=2']);
  });

  it('sends live while an empty queue is only being purged or peeked (nothing waits to be sent)', async () => {
    // A purge or a peek of an empty queue that hangs (a slow disk, NATS gone mid-call) holds
    // the replayer's lock; nothing is queued or in flight, so live writes need not queue behind it.
    const { service } = await boot();
    const queue = service.queueOf('n1');
    let release!: () => void;
    const hung = new Promise<void>((r) => (release = r));
    const purge = queue.purgeOlderThan.bind(queue);
    queue.purgeOlderThan = async (cutoff) => {
      await hung;
      return purge(cutoff);
    };
    const purging = service.purgeOldData();
    try {
      await new Promise((r) => setTimeout(r, 20));
      expect(service.isBacklogged('n1')).toBe(false);
    } finally {
      release();
      await purging;
    }

    let releasePeek!: () => void;
    const peekHung = new Promise<void>((r) => (releasePeek = r));
    const peek = queue.peekEntries.bind(queue);
    let peeking = false;
    queue.peekEntries = async (...args) => {
      peeking = true;
      await peekHung;
      return peek(...args);
    };
    const replaying = service.replayNow('n1');
    try {
      await eventually(() => peeking);
      expect(service.isBacklogged('n1')).toBe(false);
    } finally {
      releasePeek();
      await replaying;
    }
  });

  it('runs the purge cron job on schedule while retries keep failing', async () => {
    await sink.stop();
    const { service, registry } = await boot({ purgeCron: '* * * * * *', maxAgeMs: 1 });
    expect(registry.doesExist('cron', PURGE_CRON_NAME)).toBe(true);
    for (let i = 0; i < 10; i++) await service.enqueue('n1', buf(`old,i=${i} v=1`));
    // Retries fail and back off…
    await metrics.until(() => metrics.of('replayError').length >= 3);
    // …and the purge still comes on its schedule and drops every entry past maxAge.
    await metrics.until(() => metrics.total('purged') === 10);
    expect(metrics.of('purged').every((a) => a[2] === 'age')).toBe(true);
    expect(metrics.of('replayed')).toEqual([]);
    expect(service.node('n1').state).toBe('backing-off');
    expect(service.backlog('n1').entries).toBe(0);
  });

  it('pauses and resumes a node', async () => {
    const { service, registry } = await boot();
    service.pause('n1');
    await service.enqueue('n1', buf('a v=1'));
    expect(registry.doesExist('timeout', replayTimeoutName('n1'))).toBe(false);
    expect(service.node('n1').state).toBe('paused');
    expect(sink.requests).toBe(0);
    service.resume('n1');
    await sink.waitForLines(1);
    expect(sink.lines()).toEqual(['a v=1']);
  });

  it('replays now, ignoring the back-off, and resolves the bytes sent', async () => {
    const { service } = await boot({ retryIntervalMs: 60_000, retryMaxIntervalMs: 60_000 });
    service.pause('n1');
    await service.enqueue('n1', buf('abc'));
    await service.enqueue('n1', buf('defg'));
    await expect(service.replayNow('n1')).resolves.toBe(7);
    expect(sink.lines()).toEqual(['abc', 'defg']);
    await sink.stop();
    await service.enqueue('n1', buf('h'));
    await expect(service.replayNow('n1')).rejects.toBeInstanceOf(NodeUnreachableError);
  });

  it('purges the whole backlog for the operator, counted as such', async () => {
    const { service } = await boot();
    service.pause('n1');
    for (let i = 0; i < 4; i++) await service.enqueue('n1', buf(`x${i}`));
    const result = await service.purge('n1');
    expect(result.entries).toBe(4);
    expect(service.backlog('n1').entries).toBe(0);
    expect(metrics.of('purged')).toEqual([['n1', 4, 'operator']]);
  });

  it('keeps refused writes as dead letters and requeues them', async () => {
    const { service } = await boot();
    sink.refuse.add('bad');
    await service.enqueue('n1', buf('good1 v=1'));
    await service.enqueue('n1', buf('bad v=1'));
    await service.enqueue('n1', buf('good2 v=1'));
    await metrics.waitFor('deadLettered');
    await sink.waitForLines(2);
    expect(sink.lines()).toEqual(['good1 v=1', 'good2 v=1']);
    const dead = await service.deadLetters('n1');
    expect(dead).toEqual([expect.objectContaining({ index: 0, size: 7, status: 400 })]);
    expect(service.node('n1').deadLetters).toBe(1);
    sink.refuse.clear();
    expect(await service.requeueDeadLetters('n1')).toBe(1);
    await sink.waitForLines(3);
    expect(sink.lines()).toEqual(['good1 v=1', 'good2 v=1', 'bad v=1']);
  });

  it('arms the replay of dead letters requeued before the queue filled up', async () => {
    // 28-byte records (24 + 4): 34 of them leave room for one more under maxSize, not two.
    const { service, registry } = await boot({ maxSize: 1000 });
    sink.refuse.add('bad');
    for (let i = 0; i < 32; i++) await service.enqueue('n1', buf(`g${String(i).padStart(3, '0')}`));
    await service.enqueue('n1', buf('bad1'));
    await service.enqueue('n1', buf('bad2'));
    await metrics.until(() => metrics.total('deadLettered') === 2);
    await eventually(() => !service.isBacklogged('n1'));
    sink.refuse.clear();
    await expect(service.requeueDeadLetters('n1')).rejects.toBeInstanceOf(QueueFullError);
    expect(service.backlog('n1').entries).toBe(1);
    expect(registry.doesExist('timeout', replayTimeoutName('n1'))).toBe(true);
    await sink.waitForLines(33);
    expect(sink.lines().slice(-1)).toEqual(['bad1']);
  });

  it('rejects a hand-off to a full queue and counts it', async () => {
    const { service } = await boot({ maxSize: 2048, maxSegmentSize: 1024 });
    service.pause('n1');
    let err: unknown;
    for (let i = 0; i < 50 && !err; i++) {
      await service.enqueue('n1', Buffer.alloc(300, 97)).catch((e) => (err = e));
    }
    expect(err).toBeInstanceOf(QueueFullError);
    expect(metrics.of('queueFull').length).toBe(1);
  });

  it('adds a node at run time and replays to it', async () => {
    const { service } = await boot();
    await service.addNode('late', sink.url);
    expect(service.node('late')).toMatchObject({ configured: true, url: sink.url });
    await service.enqueue('late', buf('l v=1'));
    await sink.waitForLines(1);
    expect(sink.lines()).toEqual(['l v=1']);
    await expect(service.addNode('late', sink.url)).rejects.toMatchObject({
      code: 'ERR_DUPLICATE_NODE',
    });
    await expect(service.addNode('../x', sink.url)).rejects.toBeInstanceOf(InvalidNodeIdError);
  });

  it('adds a node once when two callers add it at the same time; the other gets DuplicateNodeError', async () => {
    const { service } = await boot();
    const results = await Promise.allSettled([
      service.addNode('late', sink.url),
      service.addNode('late', sink.url),
    ]);
    expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    const refused = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect(refused.reason).toMatchObject({ code: 'ERR_DUPLICATE_NODE' });
    await service.enqueue('late', buf('l v=1'));
    await sink.waitForLines(1);
    expect(sink.lines()).toEqual(['l v=1']);
  });

  it('closes the queue of a node being added when shutdown begins, and refuses adds after it', async () => {
    const { service } = await boot();
    const adding = service.addNode('late', sink.url);
    await moduleRef!.close();
    moduleRef = undefined;
    await adding.catch(() => undefined);
    if (service.hasNode('late')) expect(service.queueOf('late').isOpen()).toBe(false);
    await expect(service.addNode('later', sink.url)).rejects.toBeInstanceOf(ReplayClosedError);
    expect(service.hasNode('later')).toBe(false);
  });

  describe('inactive nodes (queue directories of nodes no longer configured)', () => {
    it('drains a removed node to its last URL, then deletes its directory', async () => {
      const lines = ['r1 v=1', 'r2 v=2', 'r3 v=3'];
      await seedQueue('gone', lines, sink.url);
      const { service } = await boot();
      await sink.waitForLines(3);
      expect(sink.lines()).toEqual(lines);
      await eventually(() => !service.hasNode('gone'));
      await expect(fs.stat(path.join(dataDir, 'gone'))).rejects.toMatchObject({ code: 'ENOENT' });
    });

    it('deletes an empty removed node directory at start-up', async () => {
      await seedQueue('empty', []);
      const { service } = await boot();
      expect(service.hasNode('empty')).toBe(false);
      await expect(fs.stat(path.join(dataDir, 'empty'))).rejects.toMatchObject({ code: 'ENOENT' });
    });

    it('keeps a removed node without a URL until its entries pass maxAge, then deletes it', async () => {
      await seedQueue('nourl', ['k v=1']);
      const { service } = await boot({ maxAgeMs: 60_000 });
      expect(service.node('nourl')).toMatchObject({ state: 'inactive', configured: false });
      await service.purgeOldData();
      expect(service.backlog('nourl').entries).toBe(1);
      await moduleRef!.close();
      const later = await boot({ maxAgeMs: 1 });
      await later.service.purgeOldData();
      expect(later.service.hasNode('nourl')).toBe(false);
      expect(metrics.of('purged')).toContainEqual(['nourl', 1, 'inactive-node']);
      await expect(fs.stat(path.join(dataDir, 'nourl'))).rejects.toMatchObject({ code: 'ENOENT' });
    });
    it('keeps a removed node that is added back while its directory is being deleted', async () => {
      await seedQueue('nourl', ['k v=1']);
      const { service } = await boot({ maxAgeMs: 1 });
      const queue = service.queueOf('nourl');
      const remove = queue.remove.bind(queue);
      let added: Promise<void> | undefined;
      jest.spyOn(queue, 'remove').mockImplementationOnce(() => {
        // The operator adds the node back while the age purge deletes its old directory.
        added = service.addNode('nourl', sink.url);
        return remove();
      });
      await service.purgeOldData();
      await added;
      expect(service.node('nourl')).toMatchObject({ configured: true, open: true });
      await service.enqueue('nourl', buf('back v=1'));
      await sink.waitForLines(1);
      expect(sink.lines()).toEqual(['back v=1']);
    });
  });

  it('skips a purge tick while the previous purge still runs, so frequent ticks cannot pile up', async () => {
    const { service, registry } = await boot();
    service.pause('n1');
    await service.enqueue('n1', buf('h v=1'));
    sink.mode = { kind: 'hang' };
    // The send hangs with the node's lock held: a purge started now waits for it.
    const replay = service.replayNow('n1');
    await sink.waitForRequests(1);
    const purge = jest.spyOn(service, 'purgeOldData');
    const job = registry.getCronJob(PURGE_CRON_NAME);
    await job.fireOnTick();
    await job.fireOnTick();
    expect(purge).toHaveBeenCalledTimes(1);

    await sink.stop();
    await expect(replay).rejects.toThrow();
    await purge.mock.results[0].value;
    await job.fireOnTick();
    expect(purge).toHaveBeenCalledTimes(2);
    await purge.mock.results[1].value;
  });

  it('replays at most retryConcurrency nodes at once', async () => {
    let active = 0;
    let peak = 0;
    const got: string[] = [];
    const client: NodeClient = {
      async send(nodeId, entries) {
        active++;
        peak = Math.max(peak, active);
        await new Promise((r) => setImmediate(r));
        got.push(...entries.map((e) => `${nodeId}:${e}`));
        active--;
      },
    };
    const ids = ['a', 'b', 'c', 'd'];
    for (const id of ids) await seedQueue(id, [`${id}1`, `${id}2`]);
    const config = testConfig(
      dataDir,
      ids.map((id) => ({ id, url: sink.url })),
      { retryConcurrency: 1, replayBatchBytes: 2 },
    );
    moduleRef = await Test.createTestingModule({
      imports: [ReplayModule.forRoot({ config, metrics, client })],
    }).compile();
    await moduleRef.init();
    await metrics.until(() => metrics.total('replayed') === 8);
    expect(peak).toBe(1);
    expect(got.sort()).toEqual(ids.flatMap((id) => [`${id}:${id}1`, `${id}:${id}2`]).sort());
  });

  it('stops its timers and closes every queue on shutdown', async () => {
    await sink.stop();
    const { service, registry } = await boot();
    await service.enqueue('n1', buf('a v=1'));
    await metrics.waitFor('replayError');
    const queue = service.queueOf('n1');
    await moduleRef!.close();
    moduleRef = undefined;
    expect(queue.isOpen()).toBe(false);
    expect(registry.getTimeouts()).toEqual([]);
    expect(registry.doesExist('cron', PURGE_CRON_NAME)).toBe(false);
  });
  it('reports a failed queue as not open, and the next hand-off reopens it (the cause is gone)', async () => {
    const { service } = await boot();
    const queue = service.queueOf('n1');
    // Stands for a failed fdatasync (the queue's own tests show how one gets here): the queue
    // stays 'open' but refuses every append until it is closed and reopened.
    (queue as unknown as { fail(err: unknown): void }).fail(
      Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' }),
    );
    expect(service.node('n1').open).toBe(false);
    await service.enqueue('n1', buf('kept v=1'));
    expect(service.node('n1').open).toBe(true);
    expect(service.queueOf('n1').isFailed()).toBe(false);
    await sink.waitForLines(1);
    expect(sink.lines()).toEqual(['kept v=1']);
  });
});

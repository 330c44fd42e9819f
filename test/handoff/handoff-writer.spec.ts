import { Test, type TestingModule } from '@nestjs/testing';
import {
  HandoffService,
  HandoffWriter,
  HintedHandoffModule,
  PermanentWriteError,
  UnknownNodeError,
} from '../../src';
import { makeTempDir, removeDir } from '../support/temp-dir';
import { TestSink } from '../support/test-sink';
import { fastSettings } from '../support/fast-settings';

describe('HandoffWriter', () => {
  let dataDir: string;
  let sink: TestSink;
  let ref: TestingModule;
  let writer: HandoffWriter;
  let handoff: HandoffService;

  beforeEach(async () => {
    dataDir = await makeTempDir('hh-library-writer-');
    sink = new TestSink();
    await sink.start();
    ref = await Test.createTestingModule({
      imports: [HintedHandoffModule.forRoot(fastSettings(dataDir, [{ id: 'n1', url: sink.url }]))],
    }).compile();
    await ref.init();
    writer = ref.get(HandoffWriter);
    handoff = ref.get(HandoffService);
  });

  afterEach(async () => {
    await ref.close();
    await sink.stop();
    await removeDir(dataDir);
  });

  it('delivers live when the node answers, queueing nothing', async () => {
    await expect(writer.write('n1', Buffer.from('live v=1'))).resolves.toBe('delivered');
    expect(sink.lines()).toEqual(['live v=1']);
    expect(handoff.backlog('n1').entries).toBe(0);
  });

  it('hands off when the node is down, and the write arrives once it is back', async () => {
    await sink.stop();
    await expect(writer.write('n1', Buffer.from('late v=1'))).resolves.toBe('handed-off');
    expect(handoff.backlog('n1').entries).toBe(1);
    await sink.start();
    await sink.waitForLines(1);
    expect(sink.lines()).toEqual(['late v=1']);
  });

  it('hands off on a transient answer (503)', async () => {
    sink.mode = { kind: 'status', status: 503 };
    await expect(writer.write('n1', Buffer.from('busy v=1'))).resolves.toBe('handed-off');
    expect(handoff.backlog('n1').entries).toBe(1);
  });

  it('puts a write behind the backlog without a live attempt, so it never overtakes', async () => {
    handoff.pause('n1');
    await handoff.enqueue('n1', Buffer.from('older v=1'));
    const requests = sink.requests;
    await expect(writer.write('n1', Buffer.from('newer v=1'))).resolves.toBe('handed-off');
    expect(sink.requests).toBe(requests);
    handoff.resume('n1');
    await sink.waitForLines(2);
    expect(sink.lines()).toEqual(['older v=1', 'newer v=1']);
  });

  it('throws the PermanentWriteError of a node that refuses the data, queueing nothing', async () => {
    sink.mode = { kind: 'status', status: 400, body: '{"error":"bad line"}' };
    await expect(writer.write('n1', Buffer.from('bad'))).rejects.toBeInstanceOf(
      PermanentWriteError,
    );
    expect(handoff.backlog('n1').entries).toBe(0);
  });

  it('writes live to a node added at run time by URL', async () => {
    const other = new TestSink();
    await other.start();
    try {
      await handoff.addNode('n2', other.url);
      await expect(writer.write('n2', Buffer.from('added v=1'))).resolves.toBe('delivered');
      expect(other.lines()).toEqual(['added v=1']);
    } finally {
      await other.stop();
    }
  });

  it('rejects a node it does not know', async () => {
    await expect(writer.write('nope', Buffer.from('x'))).rejects.toBeInstanceOf(UnknownNodeError);
  });
});

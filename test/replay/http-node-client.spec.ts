import { HttpNodeClient, joinLines } from '../../src/modules/replay/http-node-client';
import {
  NodeTimeoutError,
  NodeUnreachableError,
  PermanentWriteError,
  TransientWriteError,
  UnknownNodeError,
} from '../../src/modules/replay/errors';
import { classifyError } from '../../src/modules/replay/error-classification';
import { TestSink } from '../support/test-sink';

const b = (s: string) => Buffer.from(s);

describe('HttpNodeClient', () => {
  let sink: TestSink;
  let client: HttpNodeClient;

  beforeEach(async () => {
    sink = new TestSink();
    await sink.start();
  });

  afterEach(async () => {
    await client?.close();
    await sink.stop();
  });

  const make = (format: 'lines' | 'raw', timeoutMs = 5000) =>
    (client = new HttpNodeClient([{ id: 'n1', url: sink.url }], { timeoutMs, format }));

  it('joins a batch newline-delimited into one request in lines format', async () => {
    make('lines');
    await client.send('n1', [b('cpu v=1'), b('cpu v=2\n'), b('cpu v=3')]);
    expect(sink.requests).toBe(1);
    expect(sink.accepted[0].toString()).toBe('cpu v=1\ncpu v=2\ncpu v=3');
  });

  it('sends one request per entry, back to back, in raw format', async () => {
    make('raw');
    await client.send('n1', [b('a'), b('b'), b('c')]);
    expect(sink.accepted.map(String)).toEqual(['a', 'b', 'c']);
  });

  it('reports how many entries went before a raw request failed', async () => {
    make('raw');
    sink.refuse.add('bad');
    const err = await client.send('n1', [b('a'), b('b'), b('bad'), b('d')]).catch((e) => e);
    expect(err).toBeInstanceOf(PermanentWriteError);
    expect(err.delivered).toBe(2);
    expect(sink.accepted.map(String)).toEqual(['a', 'b']);
  });

  it.each([503, 500, 429, 408])('classifies HTTP %i as transient', async (status) => {
    make('lines');
    sink.mode = { kind: 'status', status, body: 'busy' };
    const err = await client.send('n1', [b('x')]).catch((e) => e);
    expect(err).toBeInstanceOf(TransientWriteError);
    expect(err).not.toBeInstanceOf(PermanentWriteError);
    expect(err.status).toBe(status);
    expect(classifyError(err)).toBe('transient');
  });

  it('classifies HTTP 400 as permanent with the status and an excerpt of the answer', async () => {
    make('lines');
    sink.mode = {
      kind: 'status',
      status: 400,
      body: '{"error":"partial write: field type conflict"}',
    };
    const err = await client.send('n1', [b('x')]).catch((e) => e);
    expect(err).toBeInstanceOf(PermanentWriteError);
    expect(err.status).toBe(400);
    expect(err.response).toContain('field type conflict');
    expect(classifyError(err)).toBe('permanent');
  });

  it('classifies a closed port as a network error', async () => {
    make('lines');
    await sink.stop();
    const err = await client.send('n1', [b('x')]).catch((e) => e);
    expect(err).toBeInstanceOf(NodeUnreachableError);
    expect(err.socketCode).toBe('ECONNREFUSED');
    expect(classifyError(err)).toBe('network');
  });

  it('classifies a connection reset as a network error', async () => {
    make('lines');
    sink.mode = { kind: 'reset' };
    const err = await client.send('n1', [b('x')]).catch((e) => e);
    expect(err).toBeInstanceOf(NodeUnreachableError);
    expect(classifyError(err)).toBe('network');
  });

  it('gives up on a node hanging past the timeout with a timeout error', async () => {
    make('lines', 100);
    sink.mode = { kind: 'hang' };
    const err = await client.send('n1', [b('x')]).catch((e) => e);
    expect(err).toBeInstanceOf(NodeTimeoutError);
    expect(err).toBeInstanceOf(TransientWriteError);
    expect(classifyError(err)).toBe('timeout');
  });

  it('keeps the connection alive across requests', async () => {
    make('raw');
    for (let i = 0; i < 5; i++) await client.send('n1', [b(`e${i}`)]);
    expect(sink.requests).toBe(5);
    expect(sink.connections).toBe(1);
  });

  it('refuses an unknown node id with a clear error', async () => {
    make('lines');
    const err = await client.send('nope', [b('x')]).catch((e) => e);
    expect(err).toBeInstanceOf(UnknownNodeError);
    expect(err.code).toBe('ERR_UNKNOWN_NODE');
    expect(err.message).toContain('nope');
  });

  it('accepts its nodes as a map of id to URL and hides credentials in urlOf', async () => {
    client = new HttpNodeClient(new Map([['n2', 'http://u:secret@127.0.0.1:1/write']]), {
      timeoutMs: 1000,
      format: 'lines',
    });
    expect(client.hasNode('n2')).toBe(true);
    expect(client.urlOf('n2')).toBe('http://127.0.0.1:1/write');
  });
});

describe('joinLines', () => {
  it('puts exactly one newline between entries', () => {
    expect(joinLines([b('a'), b('b\n'), b('c')]).toString()).toBe('a\nb\nc');
    expect(joinLines([b('only')]).toString()).toBe('only');
  });
});

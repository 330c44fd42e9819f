import { BadEnvelopeError } from '../../src/modules/relay/errors';
import {
  decodeRelayEntry,
  decodeStatementEnvelope,
  describeRelayEntry,
  encodeStatementEnvelope,
} from '../../src/modules/relay/statement-envelope';
import { encodeEnvelope } from '../../src/modules/relay/write-envelope';

describe('statement envelope', () => {
  it('round-trips a statement with and without db, rp and params', () => {
    for (const statement of [
      { q: 'CREATE DATABASE "télé"', db: '', rp: '', params: '' },
      { q: 'DROP MEASUREMENT m; DELETE FROM n', db: 'd', rp: 'week', params: '{"x":1}' },
    ]) {
      const bytes = encodeStatementEnvelope(statement);
      expect(decodeStatementEnvelope(bytes)).toEqual(statement);
      expect(decodeRelayEntry(bytes)).toEqual({ kind: 'statement', ...statement });
    }
  });

  it('tells writes from statements, and refuses what is neither', () => {
    const write = encodeEnvelope({
      db: 'd',
      rp: '',
      precision: 's',
      encoding: 'identity',
      body: Buffer.from('m v=1 1'),
    });
    const entry = decodeRelayEntry(write);
    expect(entry.kind).toBe('write');
    expect(describeRelayEntry(entry)).toBe('write of 7 bytes to db "d"');
    const statement = decodeRelayEntry(
      encodeStatementEnvelope({ q: 'CREATE DATABASE x', db: '', rp: '', params: '' }),
    );
    expect(describeRelayEntry(statement)).toBe('statement "CREATE DATABASE x"');
    expect(() => decodeRelayEntry(Buffer.from([9, 0, 0]))).toThrow(BadEnvelopeError);
    const cut = encodeStatementEnvelope({ q: 'DROP DATABASE x', db: 'abc', rp: '', params: '' });
    expect(() => decodeRelayEntry(cut.subarray(0, 4))).toThrow(/truncated/);
    expect(() => decodeRelayEntry(cut.subarray(0, 10))).toThrow(/empty query|truncated/);
  });
});

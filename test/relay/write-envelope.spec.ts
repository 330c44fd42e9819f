import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { BadEnvelopeError } from '../../src/modules/relay/errors';
import {
  decodeEnvelope,
  encodeEnvelope,
  ENVELOPE_VERSION,
  type WriteEnvelope,
} from '../../src/modules/relay/write-envelope';
import { PRECISIONS } from '../../src/modules/relay/write-target';

describe('write envelope', () => {
  const sample: WriteEnvelope = {
    db: 'telegraf',
    rp: 'autogen',
    precision: 'ms',
    encoding: 'identity',
    body: Buffer.from('cpu,host=a value=1 1700000000000\n'),
  };

  it('round-trips db, rp, precision, encoding and body', () => {
    expect(decodeEnvelope(encodeEnvelope(sample))).toEqual(sample);
  });

  it('keeps a gzip body byte for byte', () => {
    const body = gzipSync(Buffer.from('mem value=2\n'));
    const decoded = decodeEnvelope(encodeEnvelope({ ...sample, encoding: 'gzip', body }));
    expect(decoded.encoding).toBe('gzip');
    expect(decoded.body.equals(body)).toBe(true);
  });

  it('keeps an absent rp and precision absent', () => {
    const decoded = decodeEnvelope(encodeEnvelope({ ...sample, rp: '', precision: '' }));
    expect(decoded.rp).toBe('');
    expect(decoded.precision).toBe('');
  });

  it('round-trips any names, precision and body (property)', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1, maxLength: 80 }),
        fc.string({ maxLength: 80 }),
        fc.constantFrom('' as const, ...PRECISIONS),
        fc.constantFrom('identity' as const, 'gzip' as const),
        fc.uint8Array({ maxLength: 300 }),
        (db, rp, precision, encoding, body) => {
          const envelope = { db, rp, precision, encoding, body: Buffer.from(body) };
          expect(decodeEnvelope(encodeEnvelope(envelope))).toEqual(envelope);
        },
      ),
    );
  });

  it('starts with the version byte', () => {
    expect(encodeEnvelope(sample)[0]).toBe(ENVELOPE_VERSION);
  });

  describe('a bad envelope is a BadEnvelopeError with code ERR_BAD_ENVELOPE', () => {
    const good = encodeEnvelope(sample);
    const cases: [string, Buffer][] = [
      ['empty', Buffer.alloc(0)],
      ['shorter than the header', good.subarray(0, 4)],
      ['an unknown version', Buffer.concat([Buffer.from([9]), good.subarray(1)])],
      [
        'an unknown encoding',
        Buffer.concat([good.subarray(0, 1), Buffer.from([7]), good.subarray(2)]),
      ],
      [
        'an unknown precision',
        Buffer.concat([good.subarray(0, 2), Buffer.from([99]), good.subarray(3)]),
      ],
      ['truncated in the db name', good.subarray(0, 8)],
      ['truncated in the rp', good.subarray(0, 3 + 2 + 8 + 2 + 3)],
      ['an empty db name', Buffer.from([1, 0, 0, 0, 0, 0, 0])],
      ['a line-protocol body with no envelope', Buffer.from('cpu value=1\n')],
    ];
    it.each(cases)('rejects %s', (_name, bytes) => {
      expect(() => decodeEnvelope(bytes)).toThrow(BadEnvelopeError);
      try {
        decodeEnvelope(bytes);
      } catch (err) {
        expect((err as BadEnvelopeError).code).toBe('ERR_BAD_ENVELOPE');
      }
    });
  });

  it('refuses to encode a write without a database', () => {
    expect(() => encodeEnvelope({ ...sample, db: '' })).toThrow(BadEnvelopeError);
  });
});

import { decodeDeadLetter, encodeDeadLetter } from '../../src/modules/replay/dead-letter-envelope';

describe('dead letter envelope', () => {
  it('round-trips a binary payload with the node answer', () => {
    const payload = Buffer.from([0, 1, 2, 0x0a, 255]);
    const record = encodeDeadLetter(payload, { appendedAt: 5, at: 9, status: 400, error: 'no' });
    const back = decodeDeadLetter(record);
    expect(back).toEqual({ appendedAt: 5, at: 9, status: 400, error: 'no', payload });
  });

  it('keeps only the first 1024 characters of a long answer', () => {
    const record = encodeDeadLetter(Buffer.from('x'), {
      appendedAt: 0,
      at: 0,
      error: 'e'.repeat(5000),
    });
    expect(decodeDeadLetter(record).error).toHaveLength(1024);
  });

  it('refuses a record whose header overruns it', () => {
    const bad = Buffer.alloc(8);
    bad.writeUInt32BE(100, 0);
    expect(() => decodeDeadLetter(bad)).toThrow('overruns');
  });

  it('refuses a record whose header is not a dead-letter header', () => {
    const withHeader = (json: string) => {
      const header = Buffer.from(json);
      const prefix = Buffer.alloc(4);
      prefix.writeUInt32BE(header.length, 0);
      return Buffer.concat([prefix, header, Buffer.from('payload')]);
    };
    expect(() => decodeDeadLetter(withHeader('{not json'))).toThrow();
    expect(() => decodeDeadLetter(withHeader('null'))).toThrow('not a dead-letter header');
    expect(() => decodeDeadLetter(withHeader('{"appendedAt":1,"error":"e"}'))).toThrow(
      'not a dead-letter header',
    );
    expect(() =>
      decodeDeadLetter(withHeader('{"appendedAt":1,"at":2,"status":"400","error":"e"}')),
    ).toThrow('not a dead-letter header');
  });
});

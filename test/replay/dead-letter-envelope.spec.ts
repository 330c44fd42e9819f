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
});

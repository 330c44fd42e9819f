import { splitLines } from '../../src/modules/relay/split-lines';

const text = (bufs: Buffer[] | null) => bufs?.map((b) => b.toString());

describe('splitLines', () => {
  it('keeps a body that fits as one piece', () => {
    expect(text(splitLines(Buffer.from('a v=1\nb v=2\n'), 100))).toEqual(['a v=1\nb v=2\n']);
  });

  it('cuts only at line ends, each piece within the limit, the pieces joining to the body', () => {
    const body = Buffer.from(
      Array.from({ length: 50 }, (_, i) => `m,i=${i} v=${i} ${i}`).join('\n') + '\n',
    );
    const pieces = splitLines(body, 64)!;
    expect(pieces.length).toBeGreaterThan(1);
    for (const p of pieces) {
      expect(p.length).toBeLessThanOrEqual(64);
      expect(p[p.length - 1]).toBe(0x0a);
    }
    expect(Buffer.concat(pieces).equals(body)).toBe(true);
  });

  it('keeps a last line without a newline', () => {
    const pieces = splitLines(Buffer.from('aaaa\nbbbb\ncccc'), 6)!;
    expect(text(pieces)).toEqual(['aaaa\n', 'bbbb\n', 'cccc']);
  });

  it('answers null when one line alone is larger than the limit', () => {
    expect(splitLines(Buffer.from('short\n' + 'x'.repeat(100) + '\n'), 50)).toBeNull();
  });
});

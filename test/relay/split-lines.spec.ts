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

describe('splitLines on line protocol with newlines inside string fields', () => {
  /** Points whose string fields hold newlines, quotes and backslashes (all escaped as InfluxDB wants). */
  function points(count: number): string[] {
    return Array.from({ length: count }, (_, i) => {
      const s = `line1 ${i}\nline2 \\"quoted\\" \\\\ back\n${'x'.repeat(i % 7)}`;
      const tag = i % 3 === 0 ? `,t=a\\ b\\,c` : '';
      const key = i % 5 === 0 ? 'we\\"ird' : 'k';
      return `m${tag} ${key}="${s}",n=${i}i ${1_700_000_000_000_000_000 + i}\n`;
    });
  }

  it('cuts only between points, so every piece parses alone', () => {
    for (const max of [120, 150, 197, 333, 1000]) {
      const list = points(120);
      const body = Buffer.from(list.join(''));
      const boundaries = new Set<number>();
      let at = 0;
      for (const p of list) boundaries.add((at += Buffer.byteLength(p)));
      const pieces = splitLines(body, max);
      expect(pieces).not.toBeNull();
      let end = 0;
      for (const piece of pieces!) {
        expect(piece.length).toBeLessThanOrEqual(max);
        end += piece.length;
        expect(boundaries.has(end)).toBe(true);
      }
      expect(Buffer.concat(pieces!).equals(body)).toBe(true);
    }
  });

  it('answers null when one point (newlines and all) is larger than the limit', () => {
    const body = Buffer.from('a v=1 1\nm s="' + 'y\n'.repeat(40) + '" 2\nb v=1 3\n');
    expect(splitLines(body, 50)).toBeNull();
  });

  it('treats comment lines and an unterminated last point as their own pieces', () => {
    const pieces = splitLines(Buffer.from('# c "x\nm s="a\nb" 1\nm s="open'), 12)!;
    expect(text(pieces)).toEqual(['# c "x\n', 'm s="a\nb" 1\n', 'm s="open']);
  });
});

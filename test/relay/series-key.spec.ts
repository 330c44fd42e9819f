import { canonicalKey, seriesHash, targetSeed } from '../../src/modules/relay/series-key';

const seed = targetSeed('db', 'rp');
const hashOf = (line: string, s = seed) => {
  const b = Buffer.from(line);
  return seriesHash(b, 0, b.length, s);
};

describe('series key of a line-protocol point', () => {
  it('is the same for every point of one series, whatever the fields and timestamp', () => {
    expect(hashOf('cpu,host=a,region=eu v=1 1')).toBe(
      hashOf('cpu,host=a,region=eu w=2i,x="y z" 2'),
    );
  });

  it('does not depend on the order the tags are written in', () => {
    const sorted = hashOf('cpu,a=1,b=2,c=3 v=1 1');
    expect(hashOf('cpu,c=3,a=1,b=2 v=1 1')).toBe(sorted);
    expect(hashOf('cpu,b=2,c=3,a=1 v=1 1')).toBe(sorted);
    // Keys compared as keys: `a` sorts before `a1` although `a=` > `a1` byte for byte.
    expect(hashOf('cpu,a1=x,a=y v=1 1')).toBe(hashOf('cpu,a=y,a1=x v=1 1'));
  });

  it('tells series apart by measurement, tag key, tag value, database and retention policy', () => {
    const base = hashOf('cpu,host=a v=1 1');
    expect(hashOf('mem,host=a v=1 1')).not.toBe(base);
    expect(hashOf('cpu,host=b v=1 1')).not.toBe(base);
    expect(hashOf('cpu,hostx=a v=1 1')).not.toBe(base);
    expect(hashOf('cpu v=1 1')).not.toBe(base);
    expect(hashOf('cpu,host=a v=1 1', targetSeed('db', 'other'))).not.toBe(base);
    expect(hashOf('cpu,host=a v=1 1', targetSeed('db2', 'rp'))).not.toBe(base);
  });

  it('respects escapes: an escaped comma, space or equals sign is part of the name', () => {
    // `a\,b=1` is one tag whose key is "a,b", not two tags.
    expect(canonicalKey(Buffer.from('cpu,a\\,b=1')).toString()).toBe('cpu,a\\,b=1');
    expect(hashOf('cpu,a\\,b=1 v=1 1')).not.toBe(hashOf('cpu,a=1,b=1 v=1 1'));
    // An escaped space does not end the key.
    expect(hashOf('my\\ cpu,host=a\\ b v=1 1')).not.toBe(hashOf('my\\ cpu,host=a v=1 1'));
    expect(hashOf('my\\ cpu,host=a\\ b v=1 1')).toBe(hashOf('my\\ cpu,host=a\\ b w=2 5'));
    // Escaped and sorted on the slow path alike.
    expect(hashOf('cpu,z=1,host=a\\ b v=1 1')).toBe(hashOf('cpu,host=a\\ b,z=1 v=1 1'));
  });

  it('normalises two spellings of one tag value', () => {
    // `=` inside a tag value may be written escaped or not.
    expect(hashOf('cpu,k=a\\=b v=1 1')).toBe(hashOf('cpu,k=a=b v=1 1'));
    // A backslash before an ordinary byte is kept as written.
    expect(hashOf('cpu,k=a\\x v=1 1')).not.toBe(hashOf('cpu,k=ax v=1 1'));
  });

  it('skips blank and comment lines, and leading blanks', () => {
    expect(hashOf('')).toBe(-1);
    expect(hashOf('   ')).toBe(-1);
    expect(hashOf('# cpu,host=a v=1 1')).toBe(-1);
    expect(hashOf('  cpu,host=a v=1 1')).toBe(hashOf('cpu,host=a v=1 1'));
  });

  it('spreads 1 000 series over 8 lanes within 25 % of even', () => {
    const lanes = new Array<number>(8).fill(0);
    for (let i = 0; i < 1000; i++) lanes[hashOf(`cpu,host=h${i},region=eu v=1 1`) % 8]++;
    for (const n of lanes) {
      expect(n).toBeGreaterThan(125 * 0.75);
      expect(n).toBeLessThan(125 * 1.25);
    }
  });
});

import { ConfigValueError } from '../../src/config/errors';
import { checkNodes, parseNodes } from '../../src/config/parse-nodes';

describe('parseNodes', () => {
  it('reads id=url pairs in order', () => {
    expect(parseNodes('a=http://10.0.0.1:8086,b=https://influx.example.com/')).toEqual([
      { id: 'a', url: 'http://10.0.0.1:8086' },
      { id: 'b', url: 'https://influx.example.com/' },
    ]);
  });

  it('ignores spaces around entries, ids and urls', () => {
    expect(parseNodes(' a = http://h1:8086 , b=http://h2:8086 ')).toEqual([
      { id: 'a', url: 'http://h1:8086' },
      { id: 'b', url: 'http://h2:8086' },
    ]);
  });

  it('accepts every character of the id pattern and 64-character ids', () => {
    const long = 'x'.repeat(64);
    expect(parseNodes(`node_1.eu-west=http://h:1,${long}=http://h:2`).map((n) => n.id)).toEqual([
      'node_1.eu-west',
      long,
    ]);
  });

  it('keeps a URL with a query string that contains "="', () => {
    expect(parseNodes('a=http://h:8086/write?db=x')).toEqual([
      { id: 'a', url: 'http://h:8086/write?db=x' },
    ]);
  });

  it.each([
    ['', /at least one node|empty/],
    ['   ', /empty/],
    ['a=http://h:1,', /entry 2 is empty/],
    ['http://h:1', /entry "http:\/\/h:1" has no "="/],
    ['a/b=http://h:1', /node id "a\/b" is not valid/],
    ['..=http://h:1', /node id "\.\." is not valid/],
    ['.=http://h:1', /node id "\." is not valid/],
    ['my node=http://h:1', /node id "my node" is not valid/],
    [`${'x'.repeat(65)}=http://h:1`, /is not valid/],
    ['=http://h:1', /node id "" is not valid/],
    ['a=http://h:1,b=http://h:2,a=http://h:3', /node id "a" appears more than once/],
    ['Node=http://h:1,node=http://h:2', /node id "node" appears more than once/],
    ['a=ftp://h:1', /node "a" has URL "ftp:\/\/h:1", expected an absolute http/],
    ['a=localhost:8086', /node "a" has URL "localhost:8086"/],
    ['a=/write', /node "a" has URL "\/write"/],
    ['a=', /node "a" has URL ""/],
    ['a=http://', /node "a" has URL "http:\/\/"/],
  ])('refuses %j and names the bad piece', (text, why) => {
    expect(() => parseNodes(text)).toThrow(ConfigValueError);
    expect(() => parseNodes(text)).toThrow(why);
  });
});

describe('checkNodes', () => {
  it('applies the same rules to nodes given as objects', () => {
    expect(checkNodes([{ id: 'a', url: 'http://h:1' }])).toEqual([{ id: 'a', url: 'http://h:1' }]);
    expect(() => checkNodes([])).toThrow(/at least one node/);
    expect(() => checkNodes([{ id: '../x', url: 'http://h:1' }])).toThrow(/not valid/);
    expect(() => checkNodes([{ id: 'a' }])).toThrow(/node "a" has URL ""/);
    expect(() => checkNodes([null])).toThrow(/not valid/);
  });
});

import { everyLineTimestamped } from '../../src/modules/relay/line-timestamps';

const timed = (text: string) => everyLineTimestamped(Buffer.from(text));

describe('everyLineTimestamped', () => {
  it.each([
    'cpu,host=a v=1 1700000000000000000',
    'cpu v=1 1\ncpu v=2 2\n',
    'cpu v=1 -5',
    'cpu v=1 1\r\ncpu v=2 2\r\n',
    'm f="a b" 123',
    'm f="x 12\ny" 123',
    '# a comment\n\ncpu v=1 1\n',
    '',
  ])('reads %j as timestamped on every line', (text) => {
    expect(timed(text)).toBe(true);
  });

  it.each([
    'cpu v=1',
    'cpu v=12',
    'cpu v=12i',
    'cpu v=1 1\ncpu v=2',
    'm f="a 12"',
    // A string field may hold a newline; the point's last line still ends where the point does.
    'm f="x 12\ny"',
    'cpu v=1 1 ',
    'm,t=a\\ 1 f=1',
    'x\\ 12',
    ' 12',
    'cpu v=1 12x',
  ])('reads %j as having a line without a timestamp', (text) => {
    expect(timed(text)).toBe(false);
  });
});

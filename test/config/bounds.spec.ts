import { bounded, positive } from '../../src/config/bounds';
import { ConfigValueError } from '../../src/config/errors';
import { parseTimerDuration } from '../../src/config/parse-durations';
import { parseBatchSize, parseSegmentSize } from '../../src/config/parse-sizes';

describe('bounded: parse, then check bounds', () => {
  const number = (text: string) => Number(text);

  it('passes values inside the bounds, each bound inclusive or not as named', () => {
    const parse = bounded(number, { above: 0, atMost: 10 }, 'must be in (0, 10]');
    expect(parse('10')).toBe(10);
    expect(parse('0.5')).toBe(0.5);
    expect(bounded(number, { atLeast: 3 }, 'at least 3')('3')).toBe(3);
  });

  it.each([
    ['0', { above: 0 }],
    ['11', { atMost: 10 }],
    ['2', { atLeast: 3 }],
  ])('refuses %s outside %j with the problem, not the value', (text, bounds) => {
    const parse = bounded(number, bounds, 'the problem');
    expect(() => parse(text)).toThrow(ConfigValueError);
    expect(() => parse(text)).toThrow(`Invalid value "${text}": the problem`);
    try {
      parse(text);
    } catch (err) {
      expect((err as ConfigValueError).detail).toBe('the problem');
    }
  });

  it('lets the parser refuse first, with its own message', () => {
    const parse = bounded(
      () => {
        throw new ConfigValueError('Invalid thing "x": bad', 'bad');
      },
      { above: 0 },
      'never said',
    );
    expect(() => parse('x')).toThrow('Invalid thing "x": bad');
  });

  it('positive() refuses 0 and keeps what it wraps', () => {
    expect(() => positive(number)('0')).toThrow('must be greater than 0');
    expect(positive(number)('1')).toBe(1);
  });

  it('is what the bounded HH_* parsers use', () => {
    expect(() => parseBatchSize('0')).toThrow('must be greater than 0 and at most 268435456 bytes');
    expect(parseBatchSize('256MiB')).toBe(256 * 1024 * 1024);
    expect(() => parseSegmentSize('1023')).toThrow('must be at least 1024 bytes');
    expect(parseSegmentSize('1KiB')).toBe(1024);
    expect(() => parseTimerDuration('25d')).toThrow('at most 2147483647 ms');
    expect(parseTimerDuration('24d')).toBe(24 * 86_400_000);
  });
});

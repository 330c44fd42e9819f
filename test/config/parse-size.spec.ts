import { ConfigValueError } from '../../src/config/errors';
import { parseSize } from '../../src/config/parse-sizes';

describe('parseSize', () => {
  it.each([
    ['0', 0],
    ['1048576', 1048576],
    ['10GiB', 10 * 1024 ** 3],
    ['512MB', 512 * 1000 ** 2],
    ['1.5KiB', 1536],
    ['1.1KB', 1100],
    ['.5KiB', 512],
    ['7B', 7],
    ['2TB', 2 * 1000 ** 4],
    ['1TiB', 1024 ** 4],
    ['64K', 64 * 1024],
    ['3M', 3 * 1024 ** 2],
    ['1G', 1024 ** 3],
    ['10gib', 10 * 1024 ** 3],
    ['512mb', 512 * 1000 ** 2],
    ['  20 MiB ', 20 * 1024 ** 2],
  ])('reads %j as %d bytes', (text, bytes) => {
    expect(parseSize(text)).toBe(bytes);
  });

  it.each([
    ['', /empty/],
    ['   ', /empty/],
    ['-1', /negative/],
    ['-5GiB', /negative/],
    ['10XB', /unknown unit "XB"/],
    ['10 bytes', /unknown unit "bytes"/],
    ['1.5B', /whole number of bytes/],
    ['0.1', /whole number of bytes/],
    ['abc', /expected/],
    ['GiB', /expected/],
    ['1e6', /expected/],
    ['Infinity', /expected/],
    ['NaN', /expected/],
    ['10GiB5', /expected/],
    ['1,5KiB', /expected/],
    ['99999999999TiB', /too large/],
  ])('refuses %j', (text, why) => {
    expect(() => parseSize(text)).toThrow(ConfigValueError);
    expect(() => parseSize(text)).toThrow(why);
  });

  it('says what is expected when it refuses', () => {
    expect(() => parseSize('lots')).toThrow(
      /expected a non-negative whole number of bytes.*KiB.*e\.g\. 10GiB/,
    );
  });

  it('refuses a value that is not a string', () => {
    expect(() => parseSize(42 as unknown as string)).toThrow(ConfigValueError);
  });
});

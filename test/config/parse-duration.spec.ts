import { ConfigValueError } from '../../src/config/errors';
import { parseDuration } from '../../src/config/parse-durations';

describe('parseDuration', () => {
  it.each([
    ['0', 0],
    ['250', 250],
    ['10ms', 10],
    ['10s', 10_000],
    ['5m', 300_000],
    ['1h', 3_600_000],
    ['7d', 7 * 86_400_000],
    ['1h30m', 5_400_000],
    ['1m5s', 65_000],
    ['1s500ms', 1500],
    ['1.5s', 1500],
    [' 100ms ', 100],
  ])('reads %j as %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each([
    ['', /empty/],
    ['-1s', /negative/],
    ['-5', /negative/],
    ['10x', /expected/],
    ['1h30', /expected/],
    ['10 s', /expected/],
    ['1S', /expected/],
    ['1M', /expected/],
    ['1w', /expected/],
    ['abc', /expected/],
    ['0.5ms', /whole number of milliseconds/],
    ['1e3', /expected/],
    ['99999999999999d', /too long/],
  ])('refuses %j', (text, why) => {
    expect(() => parseDuration(text)).toThrow(ConfigValueError);
    expect(() => parseDuration(text)).toThrow(why);
  });

  it('says which units it understands when it refuses', () => {
    expect(() => parseDuration('soon')).toThrow(/units ms, s, m, h, d.*e\.g\. 10ms/);
  });
});

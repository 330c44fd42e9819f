import { JsonLogger } from '../../src/modules/relay/relay-logger';

describe('JsonLogger', () => {
  let out: string[];
  let err: string[];

  beforeEach(() => {
    out = [];
    err = [];
    jest
      .spyOn(process.stdout, 'write')
      .mockImplementation((chunk) => (out.push(String(chunk)), true));
    jest
      .spyOn(process.stderr, 'write')
      .mockImplementation((chunk) => (err.push(String(chunk)), true));
  });

  afterEach(() => jest.restoreAllMocks());

  it('writes one JSON object per line with time, level, context and the event fields', () => {
    new JsonLogger().log({ msg: 'relay listening', port: 9096 }, 'Main');
    expect(out).toHaveLength(1);
    expect(out[0].endsWith('\n')).toBe(true);
    expect(out[0].trimEnd()).not.toContain('\n');
    expect(JSON.parse(out[0])).toEqual({
      time: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      level: 'log',
      context: 'Main',
      msg: 'relay listening',
      port: 9096,
    });
  });

  it('turns a text message into msg, and sends warnings and errors to stderr', () => {
    const logger = new JsonLogger();
    logger.warn('node b: replay failed\nsecond line', 'HandoffService');
    logger.error({ msg: 'hand-off not stored', node: 'b' }, 'Error: boom\n  at x', 'WriteFanout');
    expect(out).toHaveLength(0);
    expect(err.map((line) => JSON.parse(line))).toEqual([
      expect.objectContaining({ level: 'warn', msg: 'node b: replay failed\nsecond line' }),
      expect.objectContaining({
        level: 'error',
        node: 'b',
        stack: 'Error: boom\n  at x',
        context: 'WriteFanout',
      }),
    ]);
  });

  it('drops debug and verbose lines by default', () => {
    const logger = new JsonLogger();
    logger.debug('noise');
    logger.verbose('more noise');
    expect(out).toHaveLength(0);
  });
});

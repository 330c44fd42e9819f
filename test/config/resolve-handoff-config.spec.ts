import { ConfigModule } from '@nestjs/config';
import { Test } from '@nestjs/testing';
import { ConfigValidationError } from '../../src/config/errors';
import { handoffConfig, resolveHandoffConfig } from '../../src/config/handoff.config';
import { validateHandoffEnv } from '../../src/config/handoff-env';

function resolveError(...args: Parameters<typeof resolveHandoffConfig>): ConfigValidationError {
  try {
    resolveHandoffConfig(...args);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigValidationError);
    return err as ConfigValidationError;
  }
  throw new Error('expected the configuration to be refused');
}

describe('resolveHandoffConfig', () => {
  it('with no options and no variables gives the defaults', () => {
    expect(resolveHandoffConfig({}, {})).toEqual(validateHandoffEnv({}));
  });

  it('takes unset options from the environment', () => {
    const config = resolveHandoffConfig({}, { HH_PORT: '1234', HH_FSYNC: 'always' });
    expect(config.port).toBe(1234);
    expect(config.fsync).toBe('always');
  });

  it('lets options win over variables', () => {
    const config = resolveHandoffConfig(
      { port: 4321, fsync: 'never', nodes: [{ id: 'x', url: 'http://h:1' }] },
      { HH_PORT: '1234', HH_FSYNC: 'always', HH_NODES: 'a=http://a:1' },
    );
    expect(config).toMatchObject({
      port: 4321,
      fsync: 'never',
      nodes: [{ id: 'x', url: 'http://h:1' }],
    });
  });

  it('takes replayAdaptive as a boolean option or as HH_REPLAY_ADAPTIVE text, and nothing else', () => {
    expect(resolveHandoffConfig({ replayAdaptive: false }, {}).replayAdaptive).toBe(false);
    expect(resolveHandoffConfig({}, { HH_REPLAY_ADAPTIVE: 'false' }).replayAdaptive).toBe(false);
    expect(resolveHandoffConfig({}, {}).replayAdaptive).toBe(true);
    const err = resolveError({ replayAdaptive: 1 as unknown as boolean }, {});
    expect(err.message).toMatch(/replayAdaptive/);
  });

  it('does not read a variable an option overrides, so its bad value does not matter', () => {
    expect(resolveHandoffConfig({ maxSize: 1024 ** 3 }, { HH_MAX_SIZE: 'nonsense' }).maxSize).toBe(
      1024 ** 3,
    );
  });

  it('treats an undefined option as not given', () => {
    expect(resolveHandoffConfig({ port: undefined }, { HH_PORT: '1234' }).port).toBe(1234);
  });

  it('accepts sizes and durations written as text in options', () => {
    const config = resolveHandoffConfig({ maxSize: '2GiB', maxAgeMs: '1d' } as never, {});
    expect(config.maxSize).toBe(2 * 1024 ** 3);
    expect(config.maxAgeMs).toBe(86_400_000);
  });

  it('ignores keys that are not settings', () => {
    const config = resolveHandoffConfig({ isGlobal: true, client: {} } as never, {});
    expect(config).toEqual(validateHandoffEnv({}));
  });

  it('checks options with the same rules as variables', () => {
    const err = resolveError(
      {
        port: 70000,
        maxSize: -1,
        retryConcurrency: 1.5,
        fsync: 'sometimes' as never,
        nodes: [{ id: '../etc', url: 'http://h:1' }],
        dataDir: 42 as never,
        healthDiskThreshold: Number.NaN,
      },
      {},
    );
    expect(err.problems.map((p) => p.name).sort()).toEqual(
      [
        'options.dataDir',
        'options.fsync',
        'options.healthDiskThreshold',
        'options.maxSize',
        'options.nodes',
        'options.port',
        'options.retryConcurrency',
      ].sort(),
    );
    expect(err.message).toMatch(/options\.port=70000: expected a whole number from 0 to 65535/);
    expect(err.message).toMatch(/options\.nodes=.*node id "\.\.\/etc" is not valid/);
  });

  it('reports bad options and bad variables in one error', () => {
    const err = resolveError({ port: -1 }, { HH_FSYNC: 'maybe' });
    expect(err.problems.map((p) => p.name)).toEqual(['HH_FSYNC', 'options.port']);
  });

  it('cross-checks an option against a variable', () => {
    const err = resolveError({ maxSegmentSize: 2048 }, { HH_MAX_SIZE: '1KiB' });
    expect(err.message).toMatch(/options\.maxSegmentSize=2048: must not exceed HH_MAX_SIZE/);
  });

  it('never shows node URL credentials of a refused nodes option', () => {
    const err = resolveError({ nodes: [{ id: 'a', url: 'ftp://user:s3cret@host' }] }, {});
    expect(err.problems.map((p) => p.name)).toEqual(['options.nodes']);
    expect(err.message).not.toContain('s3cret');
    expect(JSON.stringify(err.problems)).not.toContain('s3cret');
  });

  it('never prints an auth token given as an option', () => {
    const err = resolveError({ authToken: '  ', port: -1 }, {});
    expect(err.message).toMatch(/options\.authToken=<hidden>/);
    const ok = resolveError({ authToken: 'top-secret', port: -1 }, {});
    expect(ok.message).not.toContain('top-secret');
  });

  it('reads process.env when no environment is passed', () => {
    const saved = process.env.HH_PORT;
    process.env.HH_PORT = '5555';
    try {
      expect(resolveHandoffConfig().port).toBe(5555);
    } finally {
      if (saved === undefined) delete process.env.HH_PORT;
      else process.env.HH_PORT = saved;
    }
  });
});

describe('handoffConfig', () => {
  const saved = { ...process.env };
  afterEach(() => {
    for (const key of Object.keys(process.env)) {
      if (key.startsWith('HH_') && !(key in saved)) delete process.env[key];
    }
  });

  it('is the "handoff" namespace read from process.env', () => {
    process.env.HH_PORT = '7777';
    expect(handoffConfig.KEY).toBe('CONFIGURATION(handoff)');
    expect(handoffConfig()).toMatchObject({ port: 7777 });
  });

  it('throws the validation error when a variable is bad', () => {
    process.env.HH_FSYNC = 'sometimes';
    expect(() => handoffConfig()).toThrow(ConfigValidationError);
  });

  it('is injectable through ConfigModule.forFeature and asProvider()', async () => {
    process.env.HH_PORT = '7778';
    const moduleRef = await Test.createTestingModule({
      imports: [ConfigModule.forFeature(handoffConfig)],
      providers: [{ provide: 'RESOLVED', ...handoffConfig.asProvider() }],
    }).compile();
    try {
      expect(moduleRef.get(handoffConfig.KEY)).toMatchObject({ port: 7778 });
      expect(moduleRef.get('RESOLVED')).toMatchObject({ port: 7778 });
    } finally {
      await moduleRef.close();
    }
  });
});

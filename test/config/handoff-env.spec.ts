import type { ConfigModuleOptions } from '@nestjs/config';
import { DEFAULTS } from '../../src/config/defaults';
import { ConfigValidationError } from '../../src/config/errors';
import type { HandoffConfig } from '../../src/config/handoff-config.interface';
import { validateHandoffEnv } from '../../src/config/handoff-env';

const GiB = 1024 ** 3;
const MiB = 1024 ** 2;

/** The error `validateHandoffEnv(env)` throws; fails the test if it does not throw one. */
function configError(env: Record<string, unknown>): ConfigValidationError {
  try {
    validateHandoffEnv(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigValidationError);
    return err as ConfigValidationError;
  }
  throw new Error(`expected ${JSON.stringify(env)} to be refused`);
}

describe('validateHandoffEnv', () => {
  it('turns an empty environment into the complete default configuration', () => {
    expect(validateHandoffEnv({})).toEqual({
      dataDir: './data/hh',
      nodes: [{ id: 'local', url: 'http://127.0.0.1:8086' }],
      maxSize: 10 * GiB,
      maxSegmentSize: 10 * MiB,
      maxAgeMs: 7 * 24 * 3_600_000,
      retryRateLimit: 0,
      retryIntervalMs: 10,
      retryMaxIntervalMs: 10_000,
      purgeCron: '0 * * * *',
      fsync: 'interval',
      fsyncIntervalMs: 100,
      queueCrc32: 'auto',
      retryConcurrency: 20,
      replayBatchBytes: 4 * MiB,
      replayLanes: 8,
      replayAdaptive: true,
      port: 9096,
      host: '0.0.0.0',
      authToken: undefined,
      adminToken: undefined,
      maxBodySize: 25_000_000,
      writeTimeoutMs: 10_000,
      writeConsistency: 'any',
      maxConsistency: 'all',
      healthDiskThreshold: 0.9,
      healthMaxBacklogAgeMs: 3_600_000,
      shutdownTimeoutMs: 20_000,
      headerTimeoutMs: 10_000,
      bodyTimeoutMs: 30_000,
      keepAliveTimeoutMs: 15_000,
      maxConnections: 512,
      store: 'disk',
      natsUrl: undefined,
      natsToken: undefined,
      natsUser: undefined,
      natsPassword: undefined,
      natsCreds: undefined,
      jetstreamReplicas: 1,
      leaseTtlMs: 10_000,
      relayId: undefined,
    } satisfies HandoffConfig);
  });

  it('takes its defaults from DEFAULTS', () => {
    const config = validateHandoffEnv({});
    expect(config.maxSize).toBe(DEFAULTS.maxSize);
    expect(config.port).toBe(DEFAULTS.port);
    expect(config.fsync).toBe(DEFAULTS.fsync);
  });

  it('ignores variables that are not its own', () => {
    expect(validateHandoffEnv({ PATH: '/usr/bin', HOME: 42, PORT: 'x' })).toEqual(
      validateHandoffEnv({}),
    );
  });

  it('fits the validate option of @nestjs/config', () => {
    const options: ConfigModuleOptions = { validate: validateHandoffEnv };
    expect(options.validate?.({ HH_PORT: '1234' })).toMatchObject({ port: 1234 });
  });

  // Every variable: values it accepts (with what they become) and values it refuses.
  const variables: [string, keyof HandoffConfig, [string, unknown][], string[]][] = [
    [
      'HH_DATA_DIR',
      'dataDir',
      [
        ['/var/lib/hh', '/var/lib/hh'],
        ['data', 'data'],
      ],
      ['', '  '],
    ],
    [
      'HH_NODES',
      'nodes',
      [
        [
          'a=http://h1:8086,b=https://h2',
          [
            { id: 'a', url: 'http://h1:8086' },
            { id: 'b', url: 'https://h2' },
          ],
        ],
      ],
      ['', 'a=http://h,a=http://i', '../x=http://h', 'a=ftp://h', 'a'],
    ],
    [
      'HH_MAX_SIZE',
      'maxSize',
      [
        ['1GiB', GiB],
        ['512MB', 512e6],
        ['10MiB', 10 * MiB],
      ],
      ['-1', '10XB', 'big'],
    ],
    [
      'HH_MAX_SEGMENT_SIZE',
      'maxSegmentSize',
      [
        ['1MiB', MiB],
        ['4096', 4096],
      ],
      ['0', '-1MiB', 'x'],
    ],
    [
      'HH_MAX_AGE',
      'maxAgeMs',
      [
        ['1d', 86_400_000],
        ['90m', 5_400_000],
      ],
      ['0', '-1d', '7 days'],
    ],
    [
      'HH_RETRY_RATE_LIMIT',
      'retryRateLimit',
      [
        ['1MiB', MiB],
        ['1MiB/s', MiB],
        ['1000', 1000],
        ['0', 0],
      ],
      ['-1', 'fast', '1MiB/h'],
    ],
    [
      'HH_RETRY_INTERVAL',
      'retryIntervalMs',
      [
        ['50ms', 50],
        ['1s', 1000],
      ],
      // Past 2^31-1 ms (24.8 days) Node fires a timer after 1 ms: a hot loop, not a long wait.
      ['0', 'soon', '-1s', '30d'],
    ],
    [
      'HH_RETRY_MAX_INTERVAL',
      'retryMaxIntervalMs',
      [
        ['1m', 60_000],
        ['30000', 30_000],
        ['24d', 24 * 86_400_000],
      ],
      ['0', '1y', '30d', '2147483648'],
    ],
    [
      'HH_PURGE_CRON',
      'purgeCron',
      [
        ['*/5 * * * *', '*/5 * * * *'],
        ['0 0 * * * *', '0 0 * * * *'],
        ['@hourly', '@hourly'],
      ],
      ['', 'hourly', '61 * * * *', '* * *'],
    ],
    [
      'HH_FSYNC',
      'fsync',
      [
        ['always', 'always'],
        ['interval', 'interval'],
        ['never', 'never'],
      ],
      ['sometimes', 'ALWAYS', 'true', ''],
    ],
    [
      'HH_QUEUE_CRC32',
      'queueCrc32',
      [
        ['auto', 'auto'],
        ['zlib', 'zlib'],
      ],
      ['crc32c', 'ZLIB', ''],
    ],
    [
      'HH_FSYNC_INTERVAL',
      'fsyncIntervalMs',
      [
        ['1s', 1000],
        ['5ms', 5],
      ],
      ['0', 'often', '30d'],
    ],
    [
      'HH_RETRY_CONCURRENCY',
      'retryConcurrency',
      [
        ['1', 1],
        ['64', 64],
      ],
      ['0', '-2', '1.5', 'true', '1e2'],
    ],
    [
      'HH_REPLAY_LANES',
      'replayLanes',
      [
        ['1', 1],
        ['8', 8],
        ['64', 64],
      ],
      ['0', '65', '-1', '2.5', 'many'],
    ],
    [
      'HH_REPLAY_ADAPTIVE',
      'replayAdaptive',
      [
        ['true', true],
        ['false', false],
      ],
      ['yes', '1', 'TRUE', ''],
    ],
    [
      'HH_REPLAY_BATCH_BYTES',
      'replayBatchBytes',
      [
        ['4MiB', 4 * MiB],
        ['65536', 65536],
        ['256MiB', 256 * MiB],
      ],
      // A batch is read whole into memory (twice, with the read-ahead): 100GiB would read a
      // whole backlog at once and crash the process on every start.
      ['0', 'max', '257MiB', '100GiB'],
    ],
    [
      'HH_PORT',
      'port',
      [
        ['0', 0],
        ['8080', 8080],
        ['65535', 65535],
      ],
      ['65536', '-1', '80a', '0x50', ''],
    ],
    [
      'HH_HOST',
      'host',
      [
        ['127.0.0.1', '127.0.0.1'],
        ['::', '::'],
      ],
      ['', '  '],
    ],
    ['HH_AUTH_TOKEN', 'authToken', [['s3cret-token', 's3cret-token']], ['', '   ']],
    ['HH_ADMIN_TOKEN', 'adminToken', [['0p3rator', '0p3rator']], ['', '   ']],
    [
      'HH_MAX_BODY_SIZE',
      'maxBodySize',
      [
        ['50MB', 50e6],
        ['1048576', 1048576],
      ],
      ['0', '-5MB', '1.5B'],
    ],
    [
      'HH_WRITE_TIMEOUT',
      'writeTimeoutMs',
      [
        ['30s', 30_000],
        ['1500', 1500],
      ],
      ['0', '30 s', '30d'],
    ],
    [
      'HH_WRITE_CONSISTENCY',
      'writeConsistency',
      [
        ['any', 'any'],
        ['one', 'one'],
        ['quorum', 'quorum'],
        ['all', 'all'],
      ],
      ['two', 'ALL', ''],
    ],
    [
      'HH_MAX_CONSISTENCY',
      'maxConsistency',
      [
        ['any', 'any'],
        ['all', 'all'],
      ],
      ['most', ''],
    ],
    [
      'HH_HEALTH_DISK_THRESHOLD',
      'healthDiskThreshold',
      [
        ['0.5', 0.5],
        ['1', 1],
        ['.95', 0.95],
      ],
      ['0', '1.01', '-0.5', '90%', 'NaN'],
    ],
    [
      'HH_HEALTH_MAX_BACKLOG_AGE',
      'healthMaxBacklogAgeMs',
      [
        ['30m', 1_800_000],
        ['2h', 7_200_000],
      ],
      ['0', 'never'],
    ],
    ...(
      [
        ['HH_SHUTDOWN_TIMEOUT', 'shutdownTimeoutMs'],
        ['HH_HEADER_TIMEOUT', 'headerTimeoutMs'],
        ['HH_BODY_TIMEOUT', 'bodyTimeoutMs'],
        ['HH_KEEPALIVE_TIMEOUT', 'keepAliveTimeoutMs'],
      ] as const
    ).map(([name, key]): [string, keyof HandoffConfig, [string, unknown][], string[]] => [
      name,
      key,
      [
        ['500ms', 500],
        ['1m', 60_000],
      ],
      ['0', 'soon', '30d'],
    ]),
    [
      'HH_MAX_CONNECTIONS',
      'maxConnections',
      [
        ['1', 1],
        ['10000', 10_000],
      ],
      ['0', '-1', '1.5', 'many'],
    ],
    ['HH_STORE', 'store', [['disk', 'disk']], ['jetstream2', 'nats', 'DISK', '']],
    [
      'HH_NATS_URL',
      'natsUrl',
      [
        ['nats://127.0.0.1:4222', 'nats://127.0.0.1:4222'],
        [' n1:4222, tls://n2:4222 ', 'n1:4222,tls://n2:4222'],
      ],
      ['', ' , ', 'http://n1:4222', 'nats://'],
    ],
    ['HH_NATS_TOKEN', 'natsToken', [['s3cret', 's3cret']], ['', '  ']],
    ['HH_NATS_CREDS', 'natsCreds', [['/etc/hh/relay.creds', '/etc/hh/relay.creds']], ['']],
    [
      'HH_JETSTREAM_REPLICAS',
      'jetstreamReplicas',
      [
        ['1', 1],
        ['3', 3],
        ['5', 5],
      ],
      ['0', '2', '4', '7', '3.0', 'three'],
    ],
    [
      'HH_LEASE_TTL',
      'leaseTtlMs',
      [
        ['1s', 1000],
        ['30s', 30_000],
        ['1h', 3_600_000],
      ],
      ['999ms', '0', '2h', 'soon'],
    ],
    [
      'HH_RELAY_ID',
      'relayId',
      [
        ['relay-1', 'relay-1'],
        ['host.example-42', 'host.example-42'],
      ],
      ['', 'relay 1', 'x'.repeat(129)],
    ],
  ];

  describe.each(variables)('%s', (name, key, good, bad) => {
    it.each(good)(`accepts %j`, (text, value) => {
      expect(validateHandoffEnv({ [name]: text })[key]).toEqual(value);
    });

    it.each(bad)(`refuses %j, naming the variable and what it expects`, (text) => {
      const err = configError({ [name]: text });
      expect(err.code).toBe('ERR_CONFIG_INVALID');
      expect(err.problems).toHaveLength(1);
      expect(err.problems[0].name).toBe(name);
      const line = err.message.split('\n').find((l) => l.includes(`${name}=`));
      expect(line).toMatch(/expected|must/);
    });
  });

  it('covers every setting with a variable', () => {
    // HH_NATS_USER and HH_NATS_PASSWORD only go together: test/config/store-env.spec.ts.
    const covered = new Set([
      ...variables.map(([, key]) => key),
      'natsUser' as const,
      'natsPassword' as const,
    ]);
    expect([...covered].sort()).toEqual(Object.keys(validateHandoffEnv({})).sort());
  });

  describe('one message for every bad variable', () => {
    const env = {
      HH_NODES: 'a=http://h,a=http://i',
      HH_MAX_SIZE: '-5GiB',
      HH_FSYNC: 'sometimes',
      HH_PORT: '70000',
      HH_PURGE_CRON: 'every hour',
      HH_HEALTH_DISK_THRESHOLD: '1.5',
      HH_WRITE_CONSISTENCY: 'most',
    };

    it('lists each one with its value and what is expected, one per line', () => {
      const err = configError(env);
      const lines = err.message.split('\n');
      expect(lines).toHaveLength(1 + Object.keys(env).length);
      expect(lines[0]).toMatch(/7 problems/);
      for (const [name, value] of Object.entries(env)) {
        const line = lines.find((l) => l.trimStart().startsWith(`${name}=`));
        expect(line).toBeDefined();
        expect(line).toContain(JSON.stringify(value));
      }
      expect(err.message).toMatch(/HH_NODES=.*node id "a" appears more than once/);
      expect(err.message).toMatch(/HH_MAX_SIZE=.*negative sizes are not allowed/);
      expect(err.message).toMatch(/HH_FSYNC=.*expected one of always, interval, never/);
      expect(err.message).toMatch(/HH_PORT=.*expected a whole number from 0 to 65535/);
      expect(err.message).toMatch(/HH_PURGE_CRON=.*expected a cron expression/);
      expect(err.message).toMatch(/HH_HEALTH_DISK_THRESHOLD=.*greater than 0 and at most 1/);
      expect(err.message).toMatch(/HH_WRITE_CONSISTENCY=.*expected one of any, one, quorum, all/);
    });

    it('keeps the problems as data too', () => {
      expect(configError(env).problems.map((p) => p.name)).toEqual([
        'HH_NODES',
        'HH_MAX_SIZE',
        'HH_PURGE_CRON',
        'HH_FSYNC',
        'HH_PORT',
        'HH_WRITE_CONSISTENCY',
        'HH_HEALTH_DISK_THRESHOLD',
      ]);
    });
  });

  describe('no implicit conversion', () => {
    it.each([
      ['HH_RETRY_CONCURRENCY', 'true'],
      ['HH_RETRY_CONCURRENCY', 'false'],
      ['HH_PORT', ' '],
      ['HH_PORT', '0x1F90'],
      ['HH_PORT', '9096.0'],
      ['HH_MAX_SIZE', '1e3'],
      ['HH_HEALTH_DISK_THRESHOLD', 'false'],
      ['HH_FSYNC', 'false'],
    ])('refuses %s=%j instead of coercing it', (name, text) => {
      expect(configError({ [name]: text }).problems[0].name).toBe(name);
    });

    it('refuses values that are not strings rather than reinterpreting them', () => {
      const err = configError({ HH_PORT: 9096, HH_FSYNC: true, HH_NODES: ['a=http://h'] });
      expect(err.problems.map((p) => p.name).sort()).toEqual(['HH_FSYNC', 'HH_NODES', 'HH_PORT']);
      expect(err.message).toMatch(/HH_PORT=.*expected a string/);
    });
  });

  describe('HH_AUTH_TOKEN', () => {
    it('is unset unless given', () => {
      expect(validateHandoffEnv({}).authToken).toBeUndefined();
    });

    it('never appears in a message, even when it is the bad value', () => {
      const token = 'sup3r-secret\u0000token';
      const err = configError({ HH_AUTH_TOKEN: token, HH_PORT: 'x' });
      expect(err.problems.map((p) => p.name)).toEqual(['HH_PORT', 'HH_AUTH_TOKEN']);
      expect(err.message).not.toContain('sup3r');
      expect(err.message).toMatch(/HH_AUTH_TOKEN=<hidden>: expected a non-empty token/);
      expect(JSON.stringify(err.problems)).not.toContain('sup3r');
    });

    it('is not printed when it is valid and another variable is bad', () => {
      const err = configError({ HH_AUTH_TOKEN: 'sup3r-secret', HH_PORT: 'x' });
      expect(err.message).not.toContain('sup3r');
    });
  });

  describe('HH_ADMIN_TOKEN', () => {
    it('is unset unless given, and never printed', () => {
      expect(validateHandoffEnv({}).adminToken).toBeUndefined();
      const err = configError({ HH_ADMIN_TOKEN: 'adm1n-secret\u0000', HH_PORT: 'x' });
      expect(err.problems.map((p) => p.name)).toEqual(['HH_PORT', 'HH_ADMIN_TOKEN']);
      expect(err.message).not.toContain('adm1n');
      expect(err.message).toMatch(/HH_ADMIN_TOKEN=<hidden>: expected a non-empty token/);
    });
  });

  describe('node URL credentials', () => {
    it('never appear in a message about HH_NODES, whichever entry is wrong', () => {
      for (const nodes of [
        'a=http://user:s3cret@host:99999',
        'a=ftp://user:s3cret@host',
        'a=http://user:s3cret@host,b',
        // Long enough that the quoted value is cut inside the credentials.
        `${Array.from({ length: 8 }, (_, i) => `n${i}=http://10.0.0.${i}:8086`).join(',')},z=http://user:s3cret@host:99999`,
      ]) {
        const err = configError({ HH_NODES: nodes });
        expect(err.problems.map((p) => p.name)).toEqual(['HH_NODES']);
        expect(err.message).not.toMatch(/s3c|user:/);
        expect(JSON.stringify(err.problems)).not.toMatch(/s3c|user:/);
      }
    });

    it('are not printed when HH_NODES is valid and another variable is bad', () => {
      const err = configError({ HH_NODES: 'a=http://user:s3cret@host', HH_PORT: 'x' });
      expect(err.message).not.toContain('s3cret');
    });
  });

  describe('cross-checks', () => {
    it('refuses a segment too small to hold an entry with its framing and seal', () => {
      const err = configError({ HH_MAX_SEGMENT_SIZE: '80' });
      expect(err.problems.map((p) => p.name)).toEqual(['HH_MAX_SEGMENT_SIZE']);
      expect(err.message).toMatch(/HH_MAX_SEGMENT_SIZE="80": must be at least 1024 bytes/);
      expect(validateHandoffEnv({ HH_MAX_SEGMENT_SIZE: '1KiB' }).maxSegmentSize).toBe(1024);
    });

    it('refuses a segment larger than the whole queue', () => {
      const err = configError({ HH_MAX_SIZE: '1MiB', HH_MAX_SEGMENT_SIZE: '2MiB' });
      expect(err.message).toMatch(
        /HH_MAX_SEGMENT_SIZE="2MiB": must not exceed HH_MAX_SIZE \(1048576 bytes\)/,
      );
    });

    it('compares with the default maximum when only the segment size is set', () => {
      expect(configError({ HH_MAX_SEGMENT_SIZE: '11GiB' }).problems[0].name).toBe(
        'HH_MAX_SEGMENT_SIZE',
      );
    });

    it('accepts a segment as large as the queue', () => {
      const config = validateHandoffEnv({ HH_MAX_SIZE: '1MiB', HH_MAX_SEGMENT_SIZE: '1MiB' });
      expect(config.maxSegmentSize).toBe(config.maxSize);
    });

    it('refuses a retry interval longer than the maximum interval', () => {
      const err = configError({ HH_RETRY_INTERVAL: '1m', HH_RETRY_MAX_INTERVAL: '10s' });
      expect(err.message).toMatch(
        /HH_RETRY_INTERVAL="1m": must not exceed HH_RETRY_MAX_INTERVAL \(10000 ms\)/,
      );
    });

    it('does not compare with a variable that is already reported as bad', () => {
      const err = configError({ HH_MAX_SIZE: 'huge', HH_MAX_SEGMENT_SIZE: '20GiB' });
      expect(err.problems.map((p) => p.name)).toEqual(['HH_MAX_SIZE']);
    });

    it('reports cross-check problems together with the others', () => {
      const err = configError({ HH_RETRY_INTERVAL: '1m', HH_FSYNC: 'x' });
      expect(err.problems.map((p) => p.name)).toEqual(['HH_FSYNC', 'HH_RETRY_INTERVAL']);
    });
  });

  it('does not quote more than a bounded excerpt of a huge value', () => {
    const err = configError({ HH_DATA_DIR: '\u0000' + 'a'.repeat(10_000) });
    expect(err.message.length).toBeLessThan(1000);
  });
});

describe('validateHandoffEnv defaults', () => {
  it('gives each caller its own copy, so changing one config leaves the next alone', () => {
    const first = validateHandoffEnv({});
    first.nodes.push({ id: 'extra', url: 'http://h:1' });
    first.nodes[0].url = 'http://changed:1';
    expect(validateHandoffEnv({}).nodes).toEqual([{ id: 'local', url: 'http://127.0.0.1:8086' }]);
  });
});

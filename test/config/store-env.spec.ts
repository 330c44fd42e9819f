/**
 * The store settings together: HH_STORE=jetstream needs HH_NATS_URL, NATS takes one way to
 * authenticate, a user needs a password, and HH_MAX_SIZE's default follows the store.
 */
import { DEFAULTS } from '../../src/config/defaults';
import { ConfigValidationError } from '../../src/config/errors';
import { validateHandoffEnv } from '../../src/config/handoff-env';
import { resolveHandoffConfig } from '../../src/config/resolve-handoff-config';

const GiB = 1024 ** 3;
const URL = 'nats://127.0.0.1:4222';

function refused(run: () => unknown): ConfigValidationError {
  try {
    run();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigValidationError);
    return err as ConfigValidationError;
  }
  throw new Error('expected the configuration to be refused');
}

describe('HH_STORE=jetstream', () => {
  it('takes the NATS settings as given', () => {
    const config = validateHandoffEnv({
      HH_STORE: 'jetstream',
      HH_NATS_URL: 'nats://n1:4222,nats://n2:4222',
      HH_NATS_USER: 'relay',
      HH_NATS_PASSWORD: 'pw',
      HH_JETSTREAM_REPLICAS: '3',
      HH_LEASE_TTL: '15s',
      HH_RELAY_ID: 'relay-1',
    });
    expect(config).toMatchObject({
      store: 'jetstream',
      natsUrl: 'nats://n1:4222,nats://n2:4222',
      natsUser: 'relay',
      natsPassword: 'pw',
      jetstreamReplicas: 3,
      leaseTtlMs: 15_000,
      relayId: 'relay-1',
    });
  });

  it('needs HH_NATS_URL, and says so naming both variables', () => {
    const err = refused(() => validateHandoffEnv({ HH_STORE: 'jetstream' }));
    expect(err.problems.map((p) => p.name)).toEqual(['HH_NATS_URL']);
    expect(err.message).toContain('HH_NATS_URL (unset): required with HH_STORE=jetstream');
  });

  it('a module option store: jetstream needs a server list too (option or variable)', () => {
    const err = refused(() => resolveHandoffConfig({ store: 'jetstream' }, {}));
    expect(err.message).toContain('HH_NATS_URL (unset): required with options.store=jetstream');
    expect(resolveHandoffConfig({ store: 'jetstream' }, { HH_NATS_URL: URL }).natsUrl).toBe(URL);
  });

  it('the disk store needs no NATS setting', () => {
    expect(validateHandoffEnv({}).store).toBe('disk');
  });

  it('defaults HH_MAX_SIZE to 1 GiB per node (JetStream reserves it per replica)', () => {
    expect(validateHandoffEnv({ HH_STORE: 'jetstream', HH_NATS_URL: URL }).maxSize).toBe(
      DEFAULTS.jetstreamMaxSize,
    );
    expect(DEFAULTS.jetstreamMaxSize).toBe(GiB);
    expect(validateHandoffEnv({}).maxSize).toBe(10 * GiB);
    expect(resolveHandoffConfig({ store: 'jetstream', natsUrl: URL }, {}).maxSize).toBe(GiB);
  });

  it('keeps an HH_MAX_SIZE that is given, from the environment or an option', () => {
    const env = { HH_STORE: 'jetstream', HH_NATS_URL: URL, HH_MAX_SIZE: '5GiB' };
    expect(validateHandoffEnv(env).maxSize).toBe(5 * GiB);
    expect(resolveHandoffConfig({ maxSize: 2 * GiB }, env).maxSize).toBe(2 * GiB);
    // The store chosen by an option over an environment that says jetstream: disk's default.
    expect(resolveHandoffConfig({ store: 'disk' }, { HH_STORE: 'jetstream' }).maxSize).toBe(
      10 * GiB,
    );
  });

  it('refuses two ways to authenticate, without printing the secret', () => {
    const err = refused(() =>
      validateHandoffEnv({
        HH_STORE: 'jetstream',
        HH_NATS_URL: URL,
        HH_NATS_TOKEN: 'tok-SECRET',
        HH_NATS_CREDS: '/etc/relay.creds',
      }),
    );
    expect(err.problems).toHaveLength(1);
    expect(err.message).toContain('one way to authenticate');
    expect(err.message).toContain('HH_NATS_TOKEN and HH_NATS_CREDS are set');
    expect(err.message).not.toContain('tok-SECRET');
  });

  it('refuses a user without a password and a password without a user', () => {
    const noPassword = refused(() => validateHandoffEnv({ HH_NATS_USER: 'relay' }));
    expect(noPassword.message).toContain('HH_NATS_PASSWORD (unset): required with HH_NATS_USER');
    const noUser = refused(() => validateHandoffEnv({ HH_NATS_PASSWORD: 'pw-SECRET' }));
    expect(noUser.message).toContain('HH_NATS_USER (unset): required with HH_NATS_PASSWORD');
    expect(noUser.message).not.toContain('pw-SECRET');
  });

  it('never prints user info of a server URL it refuses', () => {
    const err = refused(() => validateHandoffEnv({ HH_NATS_URL: 'http://u:pw-SECRET@n1:4222' }));
    expect(err.problems.map((p) => p.name)).toEqual(['HH_NATS_URL']);
    expect(err.message).toContain('not nats:// or tls://');
    expect(err.message).not.toContain('pw-SECRET');
  });
});

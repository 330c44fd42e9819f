/**
 * Connection settings (server lists, one way to authenticate) and node ids as NATS names; the
 * credentials are checked against real nats-servers that require them.
 */
import { rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  JetStreamConfigError,
  JetStreamQueue,
  NatsLink,
  NatsUnavailableError,
  natsConnectionOptions,
  natsServers,
  natsToken,
  nodeStreamNames,
} from '../../src/modules/jetstream';
import { freePorts } from '../support/free-ports';
import { startNatsServer } from '../support/nats-server';

jest.setTimeout(30_000);

describe('NATS settings', () => {
  it('takes one URL, a comma-separated list or an array, with or without nats://', () => {
    expect(natsServers('nats://a:4222')).toEqual(['nats://a:4222']);
    expect(natsServers(' nats://a:1, b:2 ,,')).toEqual(['nats://a:1', 'b:2']);
    expect(natsServers(['tls://c:3'])).toEqual(['tls://c:3']);
    expect(() => natsServers(' , ')).toThrow(JetStreamConfigError);
    expect(() => natsServers('http://a:1')).toThrow(/not nats:\/\//);
  });

  it('refuses two ways to authenticate, and a user without a password', () => {
    expect(() => natsConnectionOptions({ servers: 'a', token: 't', user: 'u', pass: 'p' })).toThrow(
      /one of a token/,
    );
    expect(() => natsConnectionOptions({ servers: 'a', user: 'u' })).toThrow(/needs a password/);
    expect(() => natsConnectionOptions({ servers: 'a', pass: 'p' })).toThrow(/needs a password/);
    expect(() =>
      natsConnectionOptions({ servers: 'a', credsFile: join(tmpdir(), 'no-such.creds') }),
    ).toThrow(/creds file .* cannot be read/);
    const creds = join(tmpdir(), `hh-${process.pid}.creds`);
    writeFileSync(creds, 'not really creds');
    try {
      expect(natsConnectionOptions({ servers: 'a', credsFile: creds }).authenticator).toBeDefined();
    } finally {
      rmSync(creds, { force: true });
    }
  });

  it('maps node ids one-to-one onto NATS names, and refuses ids that are not node ids', () => {
    expect(natsToken('node-a')).toBe('node-a');
    expect(natsToken('a.b')).toBe('a_2Eb');
    expect(natsToken('a_2Eb')).toBe('a_5F2Eb');
    expect(nodeStreamNames('db.1')).toEqual({
      stream: 'HH_db_2E1',
      subject: 'hh.db_2E1',
      deadLetterStream: 'HHDL_db_2E1',
      deadLetterSubject: 'hh-dl.db_2E1',
      leaseKey: 'db_2E1',
    });
    for (const bad of ['', '..', 'a b', 'a*', 'a>', 'x'.repeat(65), 'a/b']) {
      expect(() => natsToken(bad)).toThrow(JetStreamConfigError);
    }
  });

  it('rejects at once, with NatsUnavailableError, when no server answers', async () => {
    const [port] = await freePorts(1);
    const started = Date.now();
    await expect(
      NatsLink.connect({ servers: `nats://127.0.0.1:${port}`, connectTimeoutMs: 1000 }),
    ).rejects.toBeInstanceOf(NatsUnavailableError);
    expect(Date.now() - started).toBeLessThan(3000);
  });
});

describe('NATS credentials against real servers', () => {
  it('connects with the token a server requires, and is refused without it', async () => {
    const server = await startNatsServer({ extraConfig: 'authorization { token: "s3cret" }\n' });
    try {
      await expect(NatsLink.connect({ servers: server.url })).rejects.toBeInstanceOf(
        NatsUnavailableError,
      );
      const link = await NatsLink.connect({ servers: server.url, token: 's3cret' });
      const q = new JetStreamQueue(link, 'a', { maxSize: 1024 * 1024 });
      await q.open();
      await q.append(Buffer.from('x'));
      expect(q.backlog().entries).toBe(1);
      await q.close();
      await link.close();
    } finally {
      await server.kill();
    }
  });

  it('connects with a user and password, and is refused with a wrong password', async () => {
    const server = await startNatsServer({
      extraConfig: 'authorization { user: relay, password: "pw-1" }\n',
    });
    try {
      await expect(
        NatsLink.connect({ servers: server.url, user: 'relay', pass: 'wrong' }),
      ).rejects.toBeInstanceOf(NatsUnavailableError);
      const link = await NatsLink.connect({ servers: server.url, user: 'relay', pass: 'pw-1' });
      expect(link.isConnected()).toBe(true);
      await link.close();
      expect(link.state()).toBe('closed');
    } finally {
      await server.kill();
    }
  });

  it('fails over between the servers of the list', async () => {
    const [port] = await freePorts(1);
    const server = await startNatsServer();
    try {
      const link = await NatsLink.connect({
        servers: [`nats://127.0.0.1:${port}`, server.url],
        connectTimeoutMs: 1000,
      });
      expect(`nats://${link.server()}`).toBe(server.url);
      await link.close();
    } finally {
      await server.kill();
    }
  });
});

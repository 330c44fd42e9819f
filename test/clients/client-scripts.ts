/**
 * Each client's script, written once and run twice per phase: against the relay and against
 * the reference InfluxDB. A phase returns what the client read (to compare the answers too).
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { InfluxDB as InfluxV2, Point } from '@influxdata/influxdb-client';
import { InfluxDB as NodeInflux } from 'influx';
import { httpRequest, runProgram, type Target } from './support/cluster';

export type Phase = 'up' | 'down' | 'back';

export interface ClientScript {
  name: string;
  /** The databases the script touches: compared across nodes at the end. */
  databases: string[];
  run(target: Target, phase: Phase, base: number): Promise<string>;
}

const INFLUX = '/usr/bin/influx';
const PYTHON = '/usr/bin/python3';
const PYTHON_SCRIPT = path.join(__dirname, 'fixtures/python_client.py');

async function influxCli(target: Target, args: string[]): Promise<string> {
  const res = await runProgram(INFLUX, [
    '-host',
    target.host,
    '-port',
    String(target.port),
    ...args,
  ]);
  // The CLI exits 0 even on some errors: its stderr and an "ERR:" line both mean failure.
  if (res.code !== 0 || /ERR:/.test(res.stdout + res.stderr)) {
    throw new Error(
      `influx ${args.join(' ')} against ${target.name} failed (${res.code}): ${res.stdout}${res.stderr}`,
    );
  }
  return res.stdout;
}

/** Timestamps of `base` seconds in each CLI precision's unit. */
const PRECISION_SCALE: Record<string, bigint> = {
  ns: 1_000_000_000n,
  u: 1_000_000n,
  ms: 1_000n,
  s: 1n,
};

export const influxCliScript: ClientScript = {
  name: 'influx CLI 1.6',
  databases: ['clidb', 'importdb', 'clidb2'],
  async run(t, phase, base) {
    const reads: string[] = [];
    if (phase === 'up') {
      await influxCli(t, ['-execute', 'CREATE DATABASE clidb']);
      for (const [precision, scale] of Object.entries(PRECISION_SCALE)) {
        const at = BigInt(base) * scale;
        await influxCli(t, [
          '-database',
          'clidb',
          '-precision',
          precision,
          '-execute',
          `INSERT cli,prec=${precision} v=1,s="a b" ${at}`,
        ]);
      }
      for (const [precision, seconds] of [
        ['m', 60],
        ['h', 3600],
      ] as const) {
        await influxCli(t, [
          '-database',
          'clidb',
          '-precision',
          precision,
          '-execute',
          `INSERT cli,prec=${precision} v=2 ${Math.floor(base / seconds)}`,
        ]);
      }
      await influxCli(t, ['-database', 'clidb', '-execute', `INSERT gone v=1 ${base}000000000`]);
      const file = path.join(await fs.mkdtemp(path.join(os.tmpdir(), 'hh-import-')), 'import.txt');
      const dml = Array.from(
        { length: 40 },
        (_, i) => `imp,host=h${i % 4} v=${i},t="x ${i}" ${base + i}`,
      );
      await fs.writeFile(
        file,
        [
          '# DDL',
          'CREATE DATABASE importdb',
          'CREATE RETENTION POLICY twodays ON importdb DURATION 2d REPLICATION 1',
          '# DML',
          '# CONTEXT-DATABASE: importdb',
          '# CONTEXT-RETENTION-POLICY: twodays',
          ...dml,
          '',
        ].join('\n'),
      );
      reads.push(await influxCli(t, ['-import', '-path', file, '-precision', 's']).then(lastLine));
      await fs.rm(path.dirname(file), { recursive: true, force: true });
    } else if (phase === 'down') {
      await influxCli(t, ['-execute', 'CREATE DATABASE clidb2']);
      await influxCli(t, [
        '-execute',
        'CREATE RETENTION POLICY r2 ON clidb2 DURATION 3d REPLICATION 1 DEFAULT',
      ]);
      await influxCli(t, [
        '-database',
        'clidb2',
        '-precision',
        's',
        '-execute',
        `INSERT c2 v=3 ${base}`,
      ]);
      await influxCli(t, ['-database', 'clidb', '-execute', 'DROP MEASUREMENT gone']);
      await influxCli(t, ['-database', 'clidb', '-execute', `DELETE FROM cli WHERE prec = 'h'`]);
      await influxCli(t, [
        '-database',
        'clidb',
        '-precision',
        's',
        '-execute',
        `INSERT cli,prec=s v=9 ${base + 5}`,
      ]);
    } else {
      await influxCli(t, [
        '-database',
        'clidb',
        '-precision',
        'ms',
        '-execute',
        `INSERT cli,prec=ms v=10 ${base + 7}000`,
      ]);
      reads.push(
        await influxCli(t, [
          '-database',
          'clidb',
          '-format',
          'json',
          '-execute',
          'SELECT * FROM cli',
        ]),
      );
      reads.push(await influxCli(t, ['-format', 'json', '-execute', 'SHOW DATABASES']));
    }
    return reads.join('\n');
  },
};

/** The import's summary line, without the log time it starts with. */
function lastLine(text: string): string {
  return (text.trim().split('\n').pop() ?? '').replace(/^\S+ \S+ /, '');
}

export const pythonScript: ClientScript = {
  name: 'python-influxdb 5.3',
  databases: ['pydb', 'pydb2'],
  async run(t, phase, base) {
    const res = await runProgram(PYTHON, [
      PYTHON_SCRIPT,
      t.host,
      String(t.port),
      phase,
      String(base),
    ]);
    if (res.code !== 0) throw new Error(`python ${phase} against ${t.name} failed: ${res.stderr}`);
    return res.stdout;
  },
};

export const nodeInfluxScript: ClientScript = {
  name: 'node-influx 5.12',
  databases: ['nodedb', 'nodedb2'],
  async run(t, phase, base) {
    const influx = new NodeInflux({ host: t.host, port: t.port, database: 'nodedb' });
    const points = (m: string, n: number, offset: number) =>
      Array.from({ length: n }, (_, i) => ({
        measurement: m,
        tags: { host: `h${i % 2}` },
        fields: { v: i * 1.5, s: `node ${i}` },
        timestamp: base + offset + i,
      }));
    if (phase === 'up') {
      await influx.createDatabase('nodedb');
      await influx.createRetentionPolicy('month', {
        duration: '30d',
        replication: 1,
        database: 'nodedb',
      });
      await influx.writePoints(points('cpu', 50, 0), { precision: 's' });
      await influx.writePoints(points('mem', 20, 0), { precision: 's', retentionPolicy: 'month' });
      await influx.writePoints(points('tmp', 3, 0), { precision: 's' });
      return JSON.stringify(
        await influx.getDatabaseNames().then((d) => d.filter((x) => x.startsWith('node')).sort()),
      );
    }
    if (phase === 'down') {
      await influx.writePoints(points('cpu', 30, 100), { precision: 's' });
      await influx.dropMeasurement('tmp');
      await influx.createDatabase('nodedb2');
      await influx.writePoints(points('disk', 10, 0), { precision: 's', database: 'nodedb2' });
      return '';
    }
    await influx.writeMeasurement('cpu', points('cpu', 10, 200), { precision: 's' });
    const rows = await influx.query(`SELECT count(v) FROM cpu; SELECT * FROM "month"."mem"`);
    return JSON.stringify(rows);
  },
};

/**
 * @influxdata/influxdb-client's v2 write API through the relay's `/api/v2/write`. The reference
 * InfluxDB (1.6.7) has no v2 API, so there the very lines the client builds are written with
 * 1.x `/write` (same db/rp and precision): the data a single InfluxDB 1.8 would hold.
 */
export const v2ClientScript: ClientScript = {
  name: '@influxdata/influxdb-client 1.35',
  databases: ['v2db'],
  async run(t, phase, base) {
    const lines = (offset: number, n: number) =>
      Array.from({ length: n }, (_, i) =>
        new Point('v2m')
          .tag('host', `h${i % 3}`)
          .floatField('v', i + 0.25)
          .stringField('s', `v2 "${i}"\nsecond line`)
          .intField('n', i)
          .timestamp(String((base + offset + i) * 1000)),
      );
    if (phase === 'up') {
      const res = await httpRequest(`${t.url}/query?q=CREATE+DATABASE+v2db`, 'POST');
      if (res.status !== 200) throw new Error(`CREATE DATABASE v2db: ${res.status} ${res.body}`);
    }
    const batch = lines(phase === 'up' ? 0 : phase === 'down' ? 100 : 200, 25);
    if (t.name === 'ref') {
      const body = batch.map((p) => p.toLineProtocol()).join('\n');
      const res = await httpRequest(
        `${t.url}/write?db=v2db&rp=autogen&precision=ms`,
        'POST',
        {},
        body,
      );
      if (res.status !== 204) throw new Error(`ref write: ${res.status} ${res.body}`);
      return '';
    }
    const api = new InfluxV2({ url: t.url, token: 'anyuser:anypass' }).getWriteApi(
      '',
      'v2db/autogen',
      'ms',
      {
        maxRetries: 0,
      },
    );
    api.writePoints(batch);
    await api.close();
    return '';
  },
};

/**
 * What Telegraf's InfluxDB output does, byte for byte where it matters: `CREATE DATABASE` at
 * start (b is down then), gzip writes with `consistency=any`, and on "database not found" a
 * `CREATE DATABASE` and the same write again.
 */
export const telegrafScript: ClientScript = {
  name: 'Telegraf-shaped HTTP',
  databases: ['telegraf', 'telegraf_late'],
  async run(t, phase, base) {
    const headers = {
      'User-Agent': 'Telegraf/1.28.5 Go/1.21',
      'Content-Type': 'text/plain; charset=utf-8',
      'Content-Encoding': 'gzip',
    };
    const create = async (db: string) => {
      const res = await httpRequest(
        `${t.url}/query?q=${encodeURIComponent(`CREATE DATABASE "${db}"`)}`,
        'POST',
        {
          'User-Agent': headers['User-Agent'],
        },
      );
      if (res.status !== 200) throw new Error(`CREATE DATABASE ${db}: ${res.status} ${res.body}`);
    };
    const write = (db: string, offset: number) =>
      httpRequest(
        `${t.url}/write?db=${db}&consistency=any`,
        'POST',
        headers,
        gzipSync(
          Array.from(
            { length: 30 },
            (_, i) =>
              `system,host=t${i % 2} load1=${i / 10},uptime=${i}i ${BigInt(base + offset + i) * 1_000_000_000n}\n`,
          ).join(''),
        ),
      );
    const log: string[] = [];
    if (phase === 'down') {
      await create('telegraf');
      for (const offset of [0, 30]) {
        const res = await write('telegraf', offset);
        if (res.status !== 204) throw new Error(`write: ${res.status} ${res.body}`);
      }
      const missing = await write('telegraf_late', 0);
      log.push(`${missing.status} ${missing.body.trim()}`);
      if (missing.status === 404 && /database not found/.test(missing.body)) {
        await create('telegraf_late');
        const retried = await write('telegraf_late', 0);
        log.push(String(retried.status));
      }
    } else if (phase === 'back') {
      for (const db of ['telegraf', 'telegraf_late']) {
        const res = await write(db, 100);
        if (res.status !== 204) throw new Error(`write ${db}: ${res.status} ${res.body}`);
      }
    }
    return log.join('\n');
  },
};

/** 3 000 points whose string fields hold newlines, written while b is down (small segments). */
export const largeBodyScript: ClientScript = {
  name: 'large body with newlines in string fields',
  databases: ['bigdb'],
  async run(t, phase, base) {
    if (phase === 'up') {
      const res = await httpRequest(`${t.url}/query?q=CREATE+DATABASE+bigdb`, 'POST');
      if (res.status !== 200) throw new Error(`CREATE DATABASE bigdb: ${res.status}`);
      return '';
    }
    if (phase !== 'down') return '';
    const body = Array.from(
      { length: 3000 },
      (_, i) =>
        `big,k=${i % 10} s="line1 ${i}\\nline2 \\"q\\" ${'x'.repeat(i % 50)}\nline3",i=${i}i ${BigInt(base) * 1_000_000_000n + BigInt(i)}\n`,
    ).join('');
    const res = await httpRequest(`${t.url}/write?db=bigdb`, 'POST', {}, body);
    if (res.status !== 204) throw new Error(`big write: ${res.status} ${res.body}`);
    return String(Buffer.byteLength(body) > 64 * 1024);
  },
};

export const SCRIPTS: ClientScript[] = [
  influxCliScript,
  pythonScript,
  nodeInfluxScript,
  v2ClientScript,
  telegrafScript,
  largeBodyScript,
];

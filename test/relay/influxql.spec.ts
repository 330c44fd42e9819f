import { changesState, queryChangesState, splitStatements } from '../../src/modules/relay/influxql';

describe('InfluxQL statement routing', () => {
  it('splits on ; outside strings, identifiers, regexes and comments', () => {
    expect(splitStatements('CREATE DATABASE a; CREATE DATABASE "b;c";')).toEqual([
      'CREATE DATABASE a',
      'CREATE DATABASE "b;c"',
    ]);
    expect(splitStatements("SELECT * FROM m WHERE t = 'x;y' ; SHOW DATABASES")).toEqual([
      "SELECT * FROM m WHERE t = 'x;y'",
      'SHOW DATABASES',
    ]);
    expect(splitStatements('SELECT * FROM /a;b/ WHERE h =~ /x\\/;/; DROP MEASUREMENT m')).toEqual([
      'SELECT * FROM /a;b/ WHERE h =~ /x\\/;/',
      'DROP MEASUREMENT m',
    ]);
    expect(splitStatements("SELECT 'it\\'s;' FROM m; SHOW USERS")).toEqual([
      "SELECT 'it\\'s;' FROM m",
      'SHOW USERS',
    ]);
    expect(splitStatements('SELECT a/b FROM m; DROP SERIES FROM m')).toEqual([
      'SELECT a/b FROM m',
      'DROP SERIES FROM m',
    ]);
    expect(splitStatements('-- a comment; still\nSHOW DATABASES; /* x; y */ ;')).toEqual([
      '-- a comment; still\nSHOW DATABASES',
    ]);
    expect(splitStatements(' ; ;')).toEqual([]);
  });

  it.each([
    'CREATE DATABASE "telegraf"',
    'create retention policy "week" on "db" duration 7d replication 1',
    'DROP MEASUREMENT cpu',
    "DELETE FROM cpu WHERE time < '2020-01-01'",
    'ALTER RETENTION POLICY autogen ON db DURATION 1h',
    'GRANT ALL TO bob',
    'REVOKE READ ON db FROM bob',
    "SET PASSWORD FOR bob = 'x'",
    'KILL QUERY 12',
    'SELECT mean(v) INTO "db"."autogen"."down" FROM m GROUP BY time(1h)',
    'select * into m2 from m',
  ])('%s changes state', (statement) => {
    expect(changesState(statement)).toBe(true);
  });

  it.each([
    'SELECT * FROM m',
    'SELECT "into" FROM m',
    "SELECT * FROM m WHERE t = 'INTO'",
    'SHOW DATABASES',
    'SHOW RETENTION POLICIES ON db',
    'EXPLAIN SELECT * FROM m',
    'SELECT * FROM "CREATE"',
    'NONSENSE',
  ])('%s reads', (statement) => {
    expect(changesState(statement)).toBe(false);
  });

  it('counts a mixed query as changing', () => {
    expect(queryChangesState('SHOW DATABASES; CREATE DATABASE x')).toBe(true);
    expect(queryChangesState('SHOW DATABASES; SELECT * FROM "a;DROP DATABASE x"')).toBe(false);
  });
});

import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { openFilesLimit, openFilesWarning } from '../../src/bootstrap/open-files-limit';

describe('the open-files limit check', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'hh-limits-file-'));
  });
  afterAll(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  async function limitsFile(openFiles: string): Promise<string> {
    const file = path.join(dir, `limits-${openFiles}`);
    await fs.writeFile(
      file,
      'Limit                     Soft Limit           Hard Limit           Units     \n' +
        'Max processes             63704                63704                processes \n' +
        `Max open files            ${openFiles}                4096                 files     \n`,
    );
    return file;
  }

  it('reads the soft limit from a /proc limits file', async () => {
    expect(openFilesLimit(await limitsFile('120'))).toBe(120);
    expect(openFilesLimit(await limitsFile('unlimited'))).toBeUndefined();
    expect(openFilesLimit(path.join(dir, 'absent'))).toBeUndefined();
  });

  it("reads this process' own limit on Linux", () => {
    if (process.platform !== 'linux') return;
    expect(openFilesLimit()).toBeGreaterThan(0);
  });

  it('warns when the connection cap leaves too few descriptors, naming both ways out', () => {
    const warning = openFilesWarning(512, 2, 120);
    expect(warning).toBe(
      'HH_MAX_CONNECTIONS (512) leaves too few of the 120 open files allowed (ulimit -n) for the ' +
        'queues and node connections (about 96): raise ulimit -n to 608 or lower ' +
        'HH_MAX_CONNECTIONS to 24',
    );
  });

  it('is silent when the cap fits the limit, or the limit is unknown', () => {
    expect(openFilesWarning(512, 2, 1024)).toBeUndefined();
    expect(openFilesWarning(24, 2, 120)).toBeUndefined();
    expect(openFilesWarning(512, 2, undefined)).toBeUndefined();
  });
});

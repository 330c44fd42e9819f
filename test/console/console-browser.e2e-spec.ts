/// <reference lib="dom" />
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Page } from 'puppeteer-core';
import { ensureBuilt, spawnRelay, type RelayProcess } from '../support/relay-process';
import { startInfluxd, type InfluxNode } from '../support/influxd';
import { launchBrowser, type TestBrowser } from './browser';

const TOKEN = 'console-e2e-admin-token';
/**
 * The README's picture: written to docs/ only when asked (UPDATE_SCREENSHOT=1), so a test run
 * does not change the work tree; otherwise to the temp dir, which still proves it is taken.
 */
const SCREENSHOT = process.env.UPDATE_SCREENSHOT
  ? path.resolve(__dirname, '../../docs/console.png')
  : path.join(os.tmpdir(), 'hh-console-e2e.png');
const WAIT = { timeout: 20_000, polling: 100 };

/** A client that keeps writing to the relay in the background, as Telegraf would. */
class BackgroundWriter {
  private stopped = false;
  private done: Promise<void> = Promise.resolve();
  private n = 0;
  private readonly base = Date.now();

  constructor(private readonly url: string) {}

  start(): void {
    this.stopped = false;
    this.done = (async () => {
      while (!this.stopped) {
        const lines = Array.from({ length: 5 }, () => {
          this.n += 1;
          return `cpu,host=h${this.n % 3} value=${this.n} ${this.base + this.n}`;
        });
        const res = await fetch(`${this.url}/write?db=telemetry&precision=ms`, {
          method: 'POST',
          body: lines.join('\n'),
        });
        if (res.status !== 204)
          throw new Error(`relay answered ${res.status}: ${await res.text()}`);
        await new Promise((r) => setTimeout(r, 120));
      }
    })();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.done;
  }
}

/** What a cell of node `id`'s row in the table says. */
const cell = (page: Page, id: string, field: string) =>
  page.$eval(`tr[data-node="${id}"] [data-field="${field}"]`, (e) => e.textContent ?? '');
const num = (text: string) => Number(text.replace(/,/g, ''));

/** What a cell must show: exactly this text, or a number above this one. */
type CellTest = { is: string } | { above: number };

/**
 * Waits until node `id`'s row shows `field` passing `test`. The check is data, not code: the
 * page's CSP (rightly) forbids eval, so no predicate can be built from text in the page.
 */
function waitForCell(page: Page, id: string, field: string, test: CellTest) {
  return page.waitForFunction(
    (sel: string, t: CellTest) => {
      const text = document.querySelector(sel)?.textContent;
      if (text == null) return false;
      return 'is' in t ? text === t.is : Number(text.replace(/,/g, '')) > t.above;
    },
    WAIT,
    `tr[data-node="${id}"] [data-field="${field}"]`,
    test,
  );
}

describe('the console in a real browser, against the relay and two real influxd', () => {
  let a: InfluxNode;
  let b: InfluxNode;
  let dataDir: string;
  let relay: RelayProcess;
  let chromium: TestBrowser;
  let operator: Page;
  let writer: BackgroundWriter;
  const requestedUrls: string[] = [];

  beforeAll(async () => {
    [a, b, chromium] = await Promise.all([
      startInfluxd(),
      startInfluxd(),
      launchBrowser(),
      ensureBuilt(),
    ]).then(([x, y, c]) => [x, y, c] as const);
    for (const node of [a, b]) await node.createDatabase('telemetry');
    // `audit` exists on a only: b refuses its writes (404 database not found) on replay.
    await a.createDatabase('audit');
    await b.stop();
    dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'hh-console-'));
    relay = await spawnRelay({
      HH_NODES: `a=${a.url},b=${b.url}`,
      HH_DATA_DIR: path.join(dataDir, 'hh'),
      HH_ADMIN_TOKEN: TOKEN,
      HH_RETRY_INTERVAL: '50ms',
      HH_RETRY_MAX_INTERVAL: '500ms',
      HH_WRITE_TIMEOUT: '2s',
    });
    writer = new BackgroundWriter(relay.url);
    writer.start();
    operator = await chromium.browser.newPage();
    operator.on('request', (r) => requestedUrls.push(r.url()));
    await operator.setViewport({ width: 1280, height: 860 });
  }, 90_000);

  afterAll(async () => {
    await writer?.stop().catch(() => undefined);
    await chromium?.close();
    await relay?.kill();
    await Promise.all([a?.cleanup(), b?.cleanup()]);
    if (dataDir) await fs.rm(dataDir, { recursive: true, force: true });
  });

  const nodeState = async (id: string) =>
    ((await (await fetch(`${relay.url}/hh/nodes/${id}`)).json()) as { state: string }).state;
  const backlog = async (id: string) =>
    (
      (await (await fetch(`${relay.url}/hh/nodes/${id}`)).json()) as {
        backlog: { entries: number };
      }
    ).backlog.entries;

  it('shows both nodes, and the stopped node’s backlog grows in the table and the chart', async () => {
    await operator.goto(`${relay.url}/hh/ui`);
    await waitForCell(operator, 'a', 'state', { is: 'up' });
    await waitForCell(operator, 'b', 'state', { is: 'backing-off' });
    await waitForCell(operator, 'b', 'entries', { above: 0 });
    const first = num(await cell(operator, 'b', 'entries'));
    await waitForCell(operator, 'b', 'entries', { above: first });
    expect(num(await cell(operator, 'a', 'entries'))).toBe(0);
    expect(await cell(operator, 'b', 'error')).toMatch(/ECONNREFUSED|connect/);
    // The relay's own health: the data directory's disk and the fullest queue.
    expect(await operator.$eval('#disk-health', (e) => e.textContent)).toMatch(
      /disk of .*hh: .*% used, .* free of /,
    );
    expect(await operator.$eval('#queue-health', (e) => e.textContent)).toMatch(
      /fullest queue: b \d+\.\d+% of HH_MAX_SIZE 10\.0 GiB/,
    );

    // The chart is fed the same samples: its last backlog value grows with the table.
    const chart = '.card[data-node="b"] [data-chart="backlog"]';
    await operator.waitForFunction(
      (sel: string) => Number(document.querySelector<HTMLElement>(sel)?.dataset.points) >= 3,
      WAIT,
      chart,
    );
    const lastOf = () => operator.$eval(chart, (e) => Number((e as HTMLElement).dataset.last));
    const before = await lastOf();
    await operator.waitForFunction(
      (sel: string, v: number) =>
        Number(document.querySelector<HTMLElement>(sel)?.dataset.last) > v,
      WAIT,
      chart,
      before,
    );
    expect(await operator.$$eval(`${chart} canvas`, (c) => c.length)).toBe(1);
  });

  it('lets a page without the token look but not act', async () => {
    const context = await chromium.browser.createBrowserContext();
    try {
      const viewer = await context.newPage();
      await viewer.goto(`${relay.url}/hh/ui`);
      await waitForCell(viewer, 'b', 'entries', { above: 0 });
      await viewer.waitForSelector('.card[data-node="b"] button[data-action="pause"]');
      const disabled = await viewer.$$eval('button[data-action]', (bs) =>
        bs.map((b) => (b as HTMLButtonElement).disabled),
      );
      expect(disabled.length).toBeGreaterThanOrEqual(10);
      expect(disabled.every(Boolean)).toBe(true);
      expect(await viewer.$eval('#access-state', (e) => e.textContent)).toMatch(/read-only/);
      // Even a request forged from the page is refused by the relay.
      const forged = await viewer.evaluate(async () => {
        const res = await fetch('/hh/ui/api/nodes/b/purge?confirm=true', { method: 'POST' });
        return { status: res.status, body: await res.json() };
      });
      expect(forged.status).toBe(401);
      expect(forged.body.error).toMatch(/admin token/);
      expect(await backlog('b')).toBeGreaterThan(0);
    } finally {
      await context.close();
    }
  });

  it('acts once given the token, which stays out of every URL', async () => {
    await operator.type('#token-input', TOKEN);
    await operator.click('#token-save');
    await operator.waitForFunction(
      () => document.querySelector('#access-state')?.textContent === 'actions enabled',
      WAIT,
    );
    await operator.waitForFunction(
      () =>
        !(
          document.querySelector(
            '.card[data-node="b"] button[data-action="pause"]',
          ) as HTMLButtonElement
        ).disabled,
      WAIT,
    );
    expect(await operator.evaluate(() => sessionStorage.getItem('hh-console-token'))).toBe(TOKEN);

    await operator.click('.card[data-node="b"] button[data-action="pause"]');
    await waitForCell(operator, 'b', 'state', { is: 'paused' });
    expect(await nodeState('b')).toBe('paused');
    await operator.click('.card[data-node="b"] button[data-action="resume"]');
    await waitForCell(operator, 'b', 'state', { is: 'backing-off' });
    expect(await nodeState('b')).toBe('backing-off');
    // The picture for the README: a growing backlog, its charts, the actions enabled.
    await operator.waitForFunction(
      (sel: string) => Number(document.querySelector<HTMLElement>(sel)?.dataset.points) >= 12,
      WAIT,
      '.card[data-node="b"] [data-chart="backlog"]',
    );
    await fs.mkdir(path.dirname(SCREENSHOT), { recursive: true });
    await operator.screenshot({ path: SCREENSHOT, fullPage: true });
    expect((await fs.stat(SCREENSHOT)).size).toBeGreaterThan(20_000);
    expect(requestedUrls.length).toBeGreaterThan(5);
    expect(requestedUrls.filter((u) => u.includes(TOKEN))).toEqual([]);
  });

  it('lists a write the node refuses as a dead letter, and requeue empties the list', async () => {
    const audit = await fetch(`${relay.url}/write?db=audit&precision=ms`, {
      method: 'POST',
      body: `login,user=ops ok=1i ${Date.now()}`,
    });
    expect(audit.status).toBe(204);
    await b.start();
    // Replay now, not at the next back-off step.
    await operator.click('.card[data-node="b"] button[data-action="replay"]');
    await operator.waitForFunction(
      () => /replayed .* to b|b: /.test(document.querySelector('#toast')?.textContent ?? ''),
      WAIT,
    );
    const letters = '.card[data-node="b"] .dead';
    await waitForCell(operator, 'b', 'dead', { is: '1' });
    await operator.waitForFunction(
      (sel: string) => /database not found/.test(document.querySelector(sel)?.textContent ?? ''),
      WAIT,
      `${letters} td.err`,
    );
    expect(await operator.$$eval(`${letters} tr[data-letter]`, (r) => r.length)).toBe(1);
    await waitForCell(operator, 'b', 'entries', { is: '0' });

    await b.createDatabase('audit');
    await operator.click(`${letters} button[data-action="requeue"]`);
    await waitForCell(operator, 'b', 'dead', { is: '0' });
    await operator.waitForFunction(
      (sel: string) => document.querySelector<HTMLElement>(sel)?.hidden,
      WAIT,
      letters,
    );
    const deadline = Date.now() + 20_000;
    while ((await b.count('audit', 'login', 'ok')) !== 1 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(await b.count('audit', 'login', 'ok')).toBe(1);
  });

  it('purges only after a confirmation naming the node and what is dropped', async () => {
    await b.stop();
    await waitForCell(operator, 'b', 'entries', { above: 9 });
    await writer.stop();
    const queued = await backlog('b');
    await waitForCell(operator, 'b', 'entries', { is: queued.toLocaleString('en-US') });
    await operator.click('.card[data-node="b"] button[data-action="purge"]');
    await operator.waitForSelector('#purge-dialog[open]');
    const text = await operator.$eval('#purge-text', (e) => e.textContent ?? '');
    expect(text).toMatch(/Purge node "b"\?/);
    expect(text).toContain(`${queued.toLocaleString('en-US')} entries`);

    await operator.click('#purge-cancel');
    await operator.waitForSelector('#purge-dialog:not([open])');
    await new Promise((r) => setTimeout(r, 500));
    expect(await backlog('b')).toBe(queued);

    await operator.click('.card[data-node="b"] button[data-action="purge"]');
    await operator.waitForSelector('#purge-dialog[open]');
    await operator.click('#purge-confirm');
    await waitForCell(operator, 'b', 'entries', { is: '0' });
    expect(await backlog('b')).toBe(0);
    expect(await operator.$eval('#toast', (e) => e.textContent)).toMatch(
      new RegExp(`purged ${queued.toLocaleString('en-US')} entries`),
    );
  });

  it('shows nothing until given a token when reads need HH_AUTH_TOKEN', async () => {
    const guarded = await spawnRelay({
      HH_NODES: `a=${a.url},b=${b.url}`,
      HH_DATA_DIR: path.join(dataDir, 'guarded'),
      HH_AUTH_TOKEN: 'reader-token',
    });
    const context = await chromium.browser.createBrowserContext();
    try {
      const page = await context.newPage();
      await page.goto(`${guarded.url}/hh/ui`);
      await page.waitForFunction(
        () => /needs a token/.test(document.querySelector('#status-line')?.textContent ?? ''),
        WAIT,
      );
      expect(await page.$$('tr[data-node]')).toHaveLength(0);
      await page.type('#token-input', 'reader-token');
      await page.click('#token-save');
      await waitForCell(page, 'a', 'state', { is: 'up' });
      // HH_AUTH_TOKEN is also the admin token when HH_ADMIN_TOKEN is not set.
      await page.waitForFunction(
        () => document.querySelector('#access-state')?.textContent === 'actions enabled',
        WAIT,
      );
    } finally {
      await context.close();
      await guarded.kill();
    }
  });
});

// Host lifecycle in the dashboard, in Debian's chromium against a real collector child process.
// The lifecycle API (states, ephemeral, retired hosts, events) is served from the test through
// page.route() as the contract says it answers, on top of the real collector for everything
// else (sign-in, metrics, series), so the real dashboard code meets the contract: counts per
// state, the state filter, retired hosts hidden by default and brought back by "show retired"
// (kept in the URL), the ephemeral badge, events listed as text, and a young host opening on its
// life at the finest step. The last tests use the real collector's own answer: with host
// lifecycle (this branch) its states and events are shown; an older collector's answer (no state,
// no events route) makes the dashboard derive states and hide the events section.
import { join } from 'node:path';
import type { Page, Route } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { launchBrowser, signIn, watchedPage, type TestBrowser } from '../helpers/browser.js';
import { startCollectorProc, tempDir, type Proc } from '../helpers/proc.js';
import { hasTool } from '../helpers/tools.js';

const ADMIN = 'rt_admin_dashboard_hosts_token_0123456789';
const dir = tempDir('ringtail-dash-hosts-');
let proc: Proc | undefined;
let url = '';
let browser: TestBrowser;
let page: Page;
let problems: string[] = [];
const fired: string[] = [];

const MIN = 60_000;
const XSS_HOST = '<img src=x onerror="window.__pwned()">';
const now = Date.now();
const YOUNG_BORN = now - 20 * MIN;

type State = 'up' | 'stale' | 'down' | 'retired';
const host = (name: string, state: State, ephemeral: boolean, first_seen: number, last_seen: number) => ({ host: name, state, ephemeral, first_seen, last_seen });
const HOSTS = [
  host('web-1', 'up', false, now - 10 * 86_400_000, now - 5_000),
  host('web-2', 'up', true, now - 3 * 86_400_000, now - 8_000),
  host('young-1', 'up', true, YOUNG_BORN, now - 2_000),
  host(XSS_HOST, 'up', false, now - 5 * 86_400_000, now - 1_000),
  host('db-1', 'stale', false, now - 30 * 86_400_000, now - 70_000),
  host('cache-1', 'down', false, now - 30 * 86_400_000, now - 20 * MIN),
  host('spot-a', 'retired', true, now - 4 * 86_400_000, now - 4 * 86_400_000 + 2 * 3_600_000),
  host('spot-b', 'retired', true, now - 2 * 86_400_000, now - 2 * 86_400_000 + 2 * 3_600_000),
];
const EVENTS: Record<string, Array<{ ts: number; host: string; from: string | null; to: string }>> = {
  'cache-1': [
    { ts: now - 15 * MIN, host: 'cache-1', from: 'stale', to: 'down' },
    { ts: now - 19 * MIN, host: 'cache-1', from: 'up', to: 'stale' },
    { ts: now - 30 * 86_400_000, host: 'cache-1', from: null, to: 'up' },
  ],
  'young-1': [{ ts: YOUNG_BORN, host: 'young-1', from: null, to: 'up' }],
  // a host name with markup, and values this page does not know, all stay text
  [XSS_HOST]: [
    { ts: now - MIN, host: XSS_HOST, from: '<script>window.__pwned()</script>', to: 'up' },
    { ts: now - 2 * MIN, host: XSS_HOST, from: null, to: '<b onmouseover="window.__pwned()">x</b>' },
  ],
};

/** What the page asked the intercepted API. */
const asked: string[] = [];

async function serveContract(p: Page) {
  await p.route(
    (u) => u.pathname === '/api/v1/hosts',
    (route: Route) => {
      const u = new URL(route.request().url());
      asked.push(u.pathname + u.search);
      const all = u.searchParams.get('include_retired') === 'true';
      return route.fulfill({ json: { items: HOSTS.filter((x) => all || x.state !== 'retired') } });
    },
  );
  await p.route(
    (u) => /^\/api\/v1\/hosts\/[^/]+\/events$/.test(u.pathname),
    (route: Route) => {
      const u = new URL(route.request().url());
      asked.push(u.pathname);
      const name = decodeURIComponent(u.pathname.split('/')[4]!);
      const items = EVENTS[name];
      if (!HOSTS.some((x) => x.host === name)) return route.fulfill({ status: 404, json: { error: 'RINGTAIL_ERR_NOT_FOUND', message: `unknown host '${name}'` } });
      return route.fulfill({ json: { items: items ?? [] } });
    },
  );
}

async function post(path: string, body: unknown) {
  const res = await fetch(url + path, { method: 'POST', headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  expect(res.status, `${path}: ${await res.clone().text()}`).toBe(200);
}

/** Samples every 10 s from `from` to now: the finest archive's rows. */
async function postYoungMetrics(name: string, from: number) {
  const samples = [];
  for (let ts = from; ts <= Date.now() - 1000; ts += 10_000) {
    samples.push({ name: 'cpu.user', type: 'GAUGE', ts, value: 20 + ((ts / 10_000) % 7) });
    samples.push({ name: 'memory.used', type: 'GAUGE', ts, value: 1e9 + (ts % 1e6) });
  }
  await post('/api/v1/metrics/ingest', { version: 1, agent_id: 'agt_' + name, host: name, interval_ms: 10_000, samples });
}

async function ingestLine(name: string, message: string) {
  const wire = [{ offset: 0, ts: Date.now(), severity: 6, message, program: 'app' }];
  await post('/api/v1/ingest', { version: 1, agent_id: 'agt_logs_' + name, host: name, segments: [{ stream: name, source: `/var/log/${name}.log`, start: 0, end: Buffer.byteLength(message) + 1, lines: wire }] });
}

const rowsShown = (p: Page) => p.$$eval('#hosts tbody tr', (rows) => rows.map((r) => (r as HTMLElement).dataset.host!).sort());
const countsShown = (p: Page) =>
  p.$$eval('#state-counts button', (bs) => Object.fromEntries(bs.map((b) => [(b as HTMLElement).dataset.state!, (b as HTMLElement).dataset.count!])));
const hashParams = (p: Page) => new URLSearchParams(new URL(p.url()).hash.replace(/^#[^?]*\??/, ''));

async function noMarkupRan(p: Page, scope: string) {
  expect(fired).toEqual([]);
  expect(await p.locator(`${scope} :is(img, script, b, svg, iframe)`).count()).toBe(0);
}

describe.skipIf(!hasTool('chromium'))('dashboard host lifecycle in chromium', () => {
  beforeAll(async () => {
    const c = await startCollectorProc(join(dir.path, 'data'), ADMIN, ['--no-syslog-enabled']);
    proc = c.proc;
    url = c.url;
    await postYoungMetrics('young-1', YOUNG_BORN);
    browser = await launchBrowser();
    ({ page, problems } = await watchedPage(browser, fired));
    await page.exposeBinding('__pwned', () => void fired.push('binding'));
    await signIn(page, url, ADMIN);
    await serveContract(page);
  });

  beforeEach(async () => {
    problems.length = 0;
    asked.length = 0;
    await page.setViewportSize({ width: 1280, height: 860 });
  });

  afterAll(async () => {
    await browser?.close();
    await proc?.kill('SIGKILL');
    dir.cleanup();
  });

  it('shows each host\'s state with counts per state, the ephemeral badge, and leaves retired hosts out by default', async () => {
    await page.goto(url + '/#/hosts');
    await page.waitForSelector('#hosts[data-ready]');
    await expect.poll(() => rowsShown(page)).toEqual(HOSTS.filter((x) => x.state !== 'retired').map((x) => x.host).sort());
    // retired hosts are not even asked for
    expect(asked.filter((a) => a.startsWith('/api/v1/hosts?') || a === '/api/v1/hosts')).not.toHaveLength(0);
    expect(asked.filter((a) => a.includes('include_retired'))).toEqual([]);
    expect(await countsShown(page)).toEqual({ up: '4', stale: '1', down: '1', retired: '' });
    expect(await page.textContent('#state-counts button[data-state="retired"]')).toContain('hidden');
    const states = await page.$$eval('#hosts tbody tr', (rows) => Object.fromEntries(rows.map((r) => [(r as HTMLElement).dataset.host, r.querySelector('td .badge')!.textContent])));
    expect(states).toEqual(Object.fromEntries(HOSTS.filter((x) => x.state !== 'retired').map((x) => [x.host, x.state])));
    const ephemeral = await page.$$eval('#hosts tbody tr', (rows) => rows.filter((r) => r.querySelector('th .badge.ephemeral')).map((r) => (r as HTMLElement).dataset.host).sort());
    expect(ephemeral).toEqual(['web-2', 'young-1']);
    expect(await page.textContent('#hosts tr[data-host="web-2"] .badge.ephemeral')).toBe('ephemeral');
    // the host name with markup is a text node and a safe link
    const xss = page.locator('#hosts tbody tr th a').filter({ hasText: 'onerror' });
    expect(await xss.textContent()).toBe(XSS_HOST);
    expect(await xss.getAttribute('href')).toBe('#/host/' + encodeURIComponent(XSS_HOST));
    await noMarkupRan(page, '#hosts');
    expect(problems).toEqual([]);
  });

  it('filters by state from the counts and the select, and keeps the filter in the URL', async () => {
    await page.goto(url + '/#/hosts');
    await page.waitForSelector('#hosts[data-ready]');
    await page.click('#state-counts button[data-state="down"]');
    await expect.poll(() => rowsShown(page)).toEqual(['cache-1']);
    expect(hashParams(page).get('status')).toBe('down');
    expect(await page.getAttribute('#state-counts button[data-state="down"]', 'aria-pressed')).toBe('true');
    expect(await page.inputValue('#status-filter')).toBe('down');
    // pressed again: every state
    await page.click('#state-counts button[data-state="down"]');
    await expect.poll(() => rowsShown(page)).toHaveLength(6);
    expect(hashParams(page).get('status')).toBeNull();
    await page.selectOption('#status-filter', 'stale');
    await expect.poll(() => rowsShown(page)).toEqual(['db-1']);
    // the filter and the counts combine with the name filter
    await page.selectOption('#status-filter', '');
    await page.fill('#host-filter', 'web');
    await expect.poll(() => rowsShown(page)).toEqual(['web-1', 'web-2']);
    expect(await countsShown(page)).toEqual({ up: '2', stale: '0', down: '0', retired: '' });
    // a shared link opens the same view
    await page.goto(url + '/#/hosts?status=up&q=y');
    await expect.poll(() => rowsShown(page)).toEqual(['young-1']);
    expect(problems).toEqual([]);
  });

  it('"show retired" asks for retired hosts and shows them, in the URL; a retired filter shows them too', async () => {
    await page.goto(url + '/#/hosts');
    await page.waitForSelector('#hosts[data-ready]');
    await expect.poll(() => rowsShown(page)).toHaveLength(6);
    await page.check('#show-retired');
    await expect.poll(() => rowsShown(page)).toEqual(HOSTS.map((x) => x.host).sort());
    expect(asked).toContain('/api/v1/hosts?include_retired=true');
    expect(hashParams(page).get('retired')).toBe('1');
    expect(await countsShown(page)).toEqual({ up: '4', stale: '1', down: '1', retired: '2' });
    expect(await page.textContent('#hosts tr[data-host="spot-a"] td .badge')).toBe('retired');
    expect(await page.locator('#hosts tr[data-host="spot-a"] .badge.ephemeral').count()).toBe(1);
    // a reload (or a shared link) keeps it
    await page.reload();
    await page.waitForSelector('#hosts[data-ready]');
    await expect.poll(() => rowsShown(page)).toHaveLength(8);
    expect(await page.isChecked('#show-retired')).toBe(true);
    // off again: hidden, out of the URL
    await page.uncheck('#show-retired');
    await expect.poll(() => rowsShown(page)).toHaveLength(6);
    expect(hashParams(page).get('retired')).toBeNull();
    // the retired count, pressed while hidden, shows the retired hosts only
    await page.click('#state-counts button[data-state="retired"]');
    await expect.poll(() => rowsShown(page)).toEqual(['spot-a', 'spot-b']);
    expect(hashParams(page).get('status')).toBe('retired');
    expect(hashParams(page).get('retired')).toBe('1');
    expect(await page.isChecked('#show-retired')).toBe(true);
    expect(problems).toEqual([]);
  });

  it('opens a young host on its life so far at the finest step, not on a day of empty charts', async () => {
    const series: URL[] = [];
    const onRequest = (r: { url(): string }) => void (r.url().includes('/api/v1/series') && series.push(new URL(r.url())));
    page.on('request', onRequest);
    const before = Date.now();
    try {
      await page.goto(url + '/#/host/young-1');
      await page.waitForSelector('#charts[data-ready]');
    } finally {
      page.off('request', onRequest);
    }
    const after = Date.now();
    // the range control says so
    expect(await page.getAttribute('.range-picker', 'data-key')).toBe('life');
    expect(await page.getAttribute('.range-picker button[data-range="life"]', 'aria-pressed')).toBe('true');
    expect(await page.getAttribute('.range-picker button[data-range="1d"]', 'aria-pressed')).toBe('false');
    expect(Number(await page.getAttribute('.range-picker', 'data-start'))).toBe(YOUNG_BORN);
    // and every chart asked for first_seen → now at the finest (10 s) rows
    const avg = series.filter((u) => u.searchParams.get('cf') === 'AVERAGE');
    expect(avg.map((u) => u.searchParams.get('metric')).sort()).toEqual(['cpu.user', 'memory.used']);
    for (const u of avg) {
      expect(Number(u.searchParams.get('start'))).toBe(YOUNG_BORN);
      expect(Number(u.searchParams.get('end'))).toBeGreaterThanOrEqual(before - 1000);
      expect(Number(u.searchParams.get('end'))).toBeLessThanOrEqual(after);
      expect(Number(u.searchParams.get('resolution'))).toBeLessThanOrEqual(10_000);
    }
    const cards = await page.$$eval('#charts figure', (fs) => fs.map((f) => ({ step: Number((f as HTMLElement).dataset.step), points: Number((f as HTMLElement).dataset.points) })));
    expect(cards).toHaveLength(2);
    for (const c of cards) {
      expect(c.step).toBe(10_000);
      // 20 minutes of 10 s rows: about 120 known points, not a day's worth of empty rows
      expect(c.points).toBeGreaterThan(100);
    }
    // its events, and its badges
    await page.waitForSelector('#host-events[data-ready="shown"]');
    expect(await page.$$eval('#host-events-list li', (lis) => lis.map((li) => li.textContent))).toHaveLength(1);
    expect(await page.textContent('#host-events-list li')).toMatch(/— → up$/);
    expect(await page.textContent('#host-status .badge.ephemeral')).toBe('ephemeral');
    expect(await page.textContent('#host-status .badge[data-state]')).toBe('up');
    // a range asked for still wins, and 'life' stays one click away
    await page.click('.range-picker button[data-range="1h"]');
    await page.waitForURL(/range=1h/);
    await page.waitForSelector('.range-picker[data-key="1h"]');
    expect(await page.locator('.range-picker button[data-range="life"]').count()).toBe(1);
    expect(problems).toEqual([]);
  });

  it('lists a host\'s lifecycle events newest first, as text, and opens an old host on the default day', async () => {
    await page.goto(url + '/#/host/cache-1');
    await page.waitForSelector('#host-events[data-ready="shown"]');
    const texts = await page.$$eval('#host-events-list li', (lis) => lis.map((li) => li.textContent!.replace(/^\S+ \S+ /, '')));
    expect(texts).toEqual(['stale → down', 'up → stale', '— → up']);
    expect(await page.textContent('#host-status .badge[data-state]')).toBe('down');
    await page.waitForSelector('.range-picker[data-key="1d"]');
    // a 2-hour instance retired days ago (absent from the default list): found, and opened on
    // its life, ending shortly after its last report rather than on an empty day
    const spot = HOSTS.find((x) => x.host === 'spot-a')!;
    await page.goto(url + '/#/host/spot-a');
    await page.waitForSelector('.range-picker[data-key="life"]');
    expect(await page.textContent('#host-status .badge[data-state]')).toBe('retired');
    expect(asked).toContain('/api/v1/hosts?include_retired=true');
    expect(Number(await page.getAttribute('.range-picker', 'data-start'))).toBe(spot.first_seen);
    expect(Number(await page.getAttribute('.range-picker', 'data-end'))).toBe(spot.last_seen + 5 * MIN);
    expect(problems).toEqual([]);
  });

  it('keeps a host name and event values carrying markup as text on the host page', async () => {
    await page.goto(url + '/#/host/' + encodeURIComponent(XSS_HOST));
    await page.waitForSelector('#host-events[data-ready="shown"]');
    expect(await page.textContent('h1')).toBe(`Hosts / ${XSS_HOST}`);
    const texts = await page.$$eval('#host-events-list li', (lis) => lis.map((li) => li.textContent!.replace(/^\S+ \S+ /, '')));
    expect(texts).toEqual(['<script>window.__pwned()</script> → up', '— → <b onmouseover="window.__pwned()">x</b>']);
    await page.hover('#host-events-list li >> nth=1');
    await noMarkupRan(page, 'h1');
    await noMarkupRan(page, '#host-events');
    expect(problems).toEqual([]);
  });

  it('fits a phone and keeps the state colours in both themes', async () => {
    await page.goto(url + '/#/hosts?retired=1');
    await page.waitForSelector('#hosts[data-ready]');
    await expect.poll(() => rowsShown(page)).toHaveLength(8);
    const colour = (theme: string) =>
      page.evaluate((t) => {
        document.documentElement.dataset.theme = t;
        const c = (sel: string) => getComputedStyle(document.querySelector(sel)!).color;
        return [c('#hosts tr[data-host="spot-a"] td .badge.retired'), c('#hosts tr[data-host="web-2"] .badge.ephemeral'), c('#hosts tr[data-host="cache-1"] td .badge.down')];
      }, theme);
    const dark = await colour('dark');
    const light = await colour('light');
    expect(new Set(dark).size).toBe(3);
    expect(new Set(light).size).toBe(3);
    expect(dark).not.toEqual(light);
    await page.setViewportSize({ width: 390, height: 800 });
    for (const [view, ready] of [['#/hosts?retired=1', '#hosts[data-ready]'], ['#/host/' + encodeURIComponent(XSS_HOST), '#host-events[data-ready]'], ['#/host/young-1', '#charts[data-ready]']] as const) {
      await page.goto(url + '/' + view);
      await page.waitForSelector(ready);
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      expect(overflow, view).toBeLessThanOrEqual(0);
    }
    expect(problems).toEqual([]);
  });

  describe('against the real collector\'s own answer', () => {
    beforeAll(async () => {
      await page.unrouteAll({ behavior: 'wait' });
      await ingestLine('real-fresh', 'hello from a fresh host');
      await postYoungMetrics('real-fresh', Date.now() - 3 * MIN);
    });

    it('derives states from the last-seen age, counts them, and still filters and toggles retired', async () => {
      const hosts = (await (await fetch(url + '/api/v1/hosts', { headers: { authorization: `Bearer ${ADMIN}` } })).json()) as { items: Array<Record<string, unknown>> };
      const canned = hosts.items.find((x) => x.host === 'real-fresh');
      // the dashboard is degrading for a reason: the collector answers no state today
      expect(canned).toBeDefined();
      const lifecycle = 'state' in canned!;
      await page.goto(url + '/#/hosts');
      await page.waitForSelector('#hosts[data-ready]');
      await page.waitForSelector('#hosts tr[data-host="real-fresh"]');
      await page.waitForSelector('#hosts tr[data-host="young-1"]'); // a metric-only host, from the metrics API
      expect(await page.textContent('#hosts tr[data-host="real-fresh"] td .badge')).toBe('up');
      if (!lifecycle) {
        expect(await page.getAttribute('#hosts tr[data-host="real-fresh"] td .badge', 'title')).toBe('from the last-seen age');
        expect(await page.locator('#hosts .badge.ephemeral').count()).toBe(0);
      }
      expect((await countsShown(page)).up).toBe(String((await rowsShown(page)).length));
      await page.check('#show-retired');
      await expect.poll(() => hashParams(page).get('retired')).toBe('1');
      await page.waitForSelector('#hosts tr[data-host="real-fresh"]');
      await page.click('#state-counts button[data-state="down"]');
      await expect.poll(() => rowsShown(page)).toEqual([]);
      expect(problems).toEqual([]);
    });

    it('lists the real collector\'s events of a fresh host (or hides the section when a collector has no events route), and opens it on its life', async () => {
      await page.goto(url + '/#/host/real-fresh');
      await page.waitForSelector('#charts[data-ready]');
      await page.waitForSelector('#host-events[data-ready]', { state: 'attached' });
      const events = await (await fetch(url + '/api/v1/hosts/real-fresh/events', { headers: { authorization: `Bearer ${ADMIN}` } })).status;
      if (events === 404) {
        expect(await page.getAttribute('#host-events', 'data-ready')).toBe('absent');
        expect(await page.isHidden('#host-events')).toBe(true);
      } else {
        // a collector with host lifecycle: its own events answer is listed (first heard: — → up)
        expect(events).toBe(200);
        await page.waitForSelector('#host-events[data-ready="shown"]');
        expect(await page.$$eval('#host-events-list li', (lis) => lis.map((li) => li.textContent!.replace(/^\S+ \S+ /, '')))).toEqual(['— → up']);
      }
      // first_seen is when the collector first heard it (seconds ago): a 5-minute life
      expect(await page.getAttribute('.range-picker', 'data-key')).toBe('life');
      const start = Number(await page.getAttribute('.range-picker', 'data-start'));
      const end = Number(await page.getAttribute('.range-picker', 'data-end'));
      expect(end - start).toBe(5 * MIN);
      const f = await page.$$eval('#charts figure', (fs) => fs.map((x) => ({ step: Number((x as HTMLElement).dataset.step), points: Number((x as HTMLElement).dataset.points) })));
      expect(f.length).toBeGreaterThan(0);
      for (const c of f) {
        expect(c.step).toBe(10_000);
        expect(c.points).toBeGreaterThan(10);
      }
      expect(problems).toEqual([]);
    });
  });
});

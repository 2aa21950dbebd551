// The logs search box and structured fields in Debian's chromium against a real collector
// child process: fields shown as key=value chips (bounded, expandable, in the list and in live
// tail), a chip click ANDing `field.KEY:VALUE` onto the search and the URL, a refused query's
// reason under the box with the previous results kept, the level filter in the URL, the syntax
// help, and field keys and values carrying XSS payloads rendered as text.
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { launchBrowser, signIn, watchedPage, type TestBrowser } from '../helpers/browser.js';
import { createToken, startCollectorProc, tempDir, type Proc } from '../helpers/proc.js';
import { hasTool } from '../helpers/tools.js';

const ADMIN = 'rt_admin_dashboard_search_e2e_0123456789';
const dir = tempDir('ringtail-dash-search-');
const data = join(dir.path, 'data');
const procs: Proc[] = [];
let url = '';
let viewer = '';
let browser: TestBrowser;
let page: Page;
let problems: string[] = [];
const fired: string[] = [];
const offsets = new Map<string, number>();

type Line = { message: string; severity?: number; ts?: number; fields?: Record<string, string> };

async function ingest(host: string, lines: Line[], stream = host) {
  const start = offsets.get(stream) ?? 0;
  let offset = start;
  const wire = lines.map((l) => {
    const w = { offset, ts: l.ts ?? Date.now(), severity: l.severity ?? 6, message: l.message, program: 'app', ...(l.fields ? { fields: l.fields } : {}) };
    offset += Buffer.byteLength(l.message) + 1;
    return w;
  });
  offsets.set(stream, offset);
  const res = await fetch(url + '/api/v1/ingest', {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ version: 1, agent_id: 'agt_search_' + stream, host, segments: [{ stream, source: `/var/log/${host}.log`, start, end: offset, lines: wire }] }),
  });
  expect(res.status).toBe(200);
}

/** What the collector itself answers for a query (the test's reference, not the page's). */
async function collectorAnswer(params: Record<string, string>): Promise<{ status: number; messages: string[] }> {
  const res = await fetch(url + '/api/v1/logs?' + new URLSearchParams({ ...params, limit: '1000' }), { headers: { authorization: `Bearer ${ADMIN}` } });
  const body = (await res.json()) as { items?: Array<{ message: string }> };
  return { status: res.status, messages: (body.items ?? []).map((i) => i.message) };
}

const hashParams = () => new URLSearchParams(new URL(page.url()).hash.split('?')[1] ?? '');
const shownMessages = () => page.$$eval('#log-list > li.log-line .msg', (els) => els.map((e) => e.textContent ?? ''));

const IMG = '<img src=x onerror="window.__xss=\'field\';alert(1)">';
const MANY = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`k${String(i).padStart(2, '0')}`, `v${i}`]));

describe.skipIf(!hasTool('chromium'))('dashboard search and fields in chromium', () => {
  beforeAll(async () => {
    viewer = await createToken(['--data', data], 'viewer', ['--name', 'search viewer']);
    const c = await startCollectorProc(data, ADMIN, ['--no-syslog-enabled']);
    procs.push(c.proc);
    url = c.url;
    const now = Date.now();
    await ingest('fields-host', [
      { message: 'login ok alice', ts: now - 50_000, fields: { user_id: '42', path: '/api/v1/users' } },
      { message: 'login ok bob', ts: now - 40_000, fields: { user_id: '7', path: '/api/v1/users' } },
      { message: 'disk slow', ts: now - 30_000, severity: 4, fields: { note: 'disk slow "now"' } },
      { message: 'many fields', ts: now - 20_000, severity: 3, fields: MANY },
      { message: 'plain line', ts: now - 10_000, severity: 2 },
    ]);
    await ingest('xss-fields', [{ message: 'xss in fields', ts: now - 5_000, fields: { [IMG]: 'key payload', img: IMG } }]);
    browser = await launchBrowser();
    ({ page, problems } = await watchedPage(browser, fired));
  });

  beforeEach(async () => {
    problems.length = 0;
    await page.setViewportSize({ width: 1280, height: 860 });
  });

  afterAll(async () => {
    await browser?.close();
    for (const p of procs) await p.kill('SIGKILL');
    dir.cleanup();
  });

  it('shows fields as key=value chips, at most 12 then "+N more"', async () => {
    await signIn(page, url, viewer);
    await page.goto(url + '/#/logs?host=fields-host');
    await page.waitForSelector('#log-list[data-ready]');
    const chipsOf = (msg: string) =>
      page.$$eval(`#log-list > li.log-line:has(.msg:text-is("${msg}")) .fields .chip`, (els) => els.map((e) => e.textContent));
    expect(await chipsOf('login ok alice')).toEqual(['user_id=42', 'path=/api/v1/users']);
    expect(await chipsOf('disk slow')).toEqual(['note=disk slow "now"']);
    expect(await page.locator('#log-list > li.log-line:has(.msg:text-is("plain line")) .fields').count()).toBe(0);
    const many = await chipsOf('many fields');
    expect(many).toEqual([...Object.entries(MANY).slice(0, 12).map(([k, v]) => `${k}=${v}`), '+8 more']);
    await page.click('#log-list li.log-line:has(.msg:text-is("many fields")) .chip.more');
    expect(await chipsOf('many fields')).toEqual(Object.entries(MANY).map(([k, v]) => `${k}=${v}`));
    // expanding fields is not a click on the line: no context opened
    expect(await page.locator('#log-list li.context').count()).toBe(0);
    expect(problems).toEqual([]);
  });

  it('adds field.KEY:VALUE to the search on a chip click, in the box and the URL', async () => {
    await signIn(page, url, viewer);
    await page.goto(url + '/#/logs?host=fields-host&q=login');
    await page.waitForSelector('#log-list[data-ready]');
    expect((await shownMessages()).sort()).toEqual(['login ok alice', 'login ok bob']);
    const asked: string[] = [];
    const onRequest = (r: { url(): string }) => void (r.url().includes('/api/v1/logs?') && asked.push(new URL(r.url()).searchParams.get('q') ?? ''));
    page.on('request', onRequest);
    try {
      await page.click('#log-list li.log-line:has(.msg:has-text("ok alice")) .chip:has-text("user_id=42")');
      const want = 'login field.user_id:42';
      await expect.poll(() => asked).toContain(want);
      expect(await page.inputValue('#log-q')).toBe(want);
      // Whatever this collector makes of the query, the page follows it: accepted, the view and
      // the URL change to its results; refused (a collector before the query language), the
      // reason shows under the box and the results on screen stay.
      const ref = await collectorAnswer({ host: 'fields-host', q: want });
      if (ref.status === 200) {
        await expect.poll(() => hashParams().get('q')).toBe(want);
        await page.waitForSelector('#log-list[data-ready]');
        await expect.poll(async () => (await shownMessages()).sort()).toEqual(ref.messages.sort());
        expect(ref.messages).toEqual(['login ok alice']);
        // a second chip ANDs a second clause
        await page.click('#log-list li.log-line .chip:has-text("path=/api/v1/users")');
        const both = 'login field.user_id:42 field.path:/api/v1/users';
        await expect.poll(() => hashParams().get('q')).toBe(both);
        await page.waitForSelector('#log-list[data-ready]');
        expect(await shownMessages()).toEqual(['login ok alice']);
        // onto a query with a top-level OR, the clause goes after the OR in parentheses
        await page.goto(url + '/#/logs?host=fields-host&q=' + encodeURIComponent('alice OR bob'));
        await page.waitForSelector('#log-list[data-ready]');
        await page.click('#log-list li.log-line:has(.msg:has-text("ok bob")) .chip:has-text("user_id=7")');
        await expect.poll(() => hashParams().get('q')).toBe('(alice OR bob) field.user_id:7');
        await page.waitForSelector('#log-list[data-ready]');
        expect(await shownMessages()).toEqual(['login ok bob']);
      } else {
        expect(ref.status).toBe(400);
        await expect.poll(() => page.textContent('#log-q-error')).not.toBe('');
        expect(hashParams().get('q')).toBe('login');
        expect((await shownMessages()).sort()).toEqual(['login ok alice', 'login ok bob']);
      }
      // a value that is not one plain term is quoted, with its quotes escaped
      await page.goto(url + '/#/logs?host=fields-host');
      await page.waitForSelector('#log-list[data-ready]');
      await page.click('#log-list li.log-line:has(.msg:text-is("disk slow")) .chip');
      await expect.poll(() => page.inputValue('#log-q')).toBe('field.note:"disk slow \\"now\\""');
      await expect.poll(() => asked).toContain('field.note:"disk slow \\"now\\""');
    } finally {
      page.off('request', onRequest);
    }
    expect(fired).toEqual([]);
    expect(problems).toEqual([]);
  });

  it('shows a refused query\'s reason under the box, keeps the results, opens no dialog', async () => {
    await signIn(page, url, viewer);
    await page.goto(url + '/#/logs?host=fields-host');
    await page.waitForSelector('#log-list[data-ready]');
    const before = await shownMessages();
    expect(before).toHaveLength(5);
    const hashBefore = new URL(page.url()).hash;
    const bad = 'login "abc';
    const ref = await fetch(url + '/api/v1/logs?' + new URLSearchParams({ host: 'fields-host', q: bad }), { headers: { authorization: `Bearer ${ADMIN}` } });
    expect(ref.status).toBe(400);
    const refBody = (await ref.json()) as { message: string; position?: number };
    const reason = refBody.message;
    await page.fill('#log-q', bad);
    await page.press('#log-q', 'Enter');
    await page.waitForSelector('#log-q-error .query-error-msg');
    expect(await page.textContent('#log-q-error .query-error-msg')).toBe(reason);
    expect(await page.getAttribute('#log-q-error', 'role')).toBe('alert');
    expect(await page.getAttribute('#log-q', 'aria-describedby')).toContain('log-q-error');
    expect(await page.getAttribute('#log-q', 'aria-invalid')).toBe('true');
    expect(await page.inputValue('#log-q')).toBe(bad);
    // with a position (the query language's parser gives one), the offending character is marked
    if (typeof refBody.position === 'number') {
      expect(await page.textContent('#log-q-error .query-caret')).toBe(bad);
      expect(await page.textContent('#log-q-error .query-caret mark')).toBe(bad[refBody.position]);
    } else {
      expect(await page.locator('#log-q-error .query-caret').count()).toBe(0);
    }
    expect(new URL(page.url()).hash).toBe(hashBefore);
    expect(await shownMessages()).toEqual(before);
    // a corrected query clears the reason and shows its results
    await page.fill('#log-q', 'login');
    await page.press('#log-q', 'Enter');
    await expect.poll(() => hashParams().get('q')).toBe('login');
    await page.waitForSelector('#log-list[data-ready]');
    expect((await shownMessages()).sort()).toEqual(['login ok alice', 'login ok bob']);
    expect(await page.textContent('#log-q-error')).toBe('');
    expect(await page.getAttribute('#log-q', 'aria-invalid')).toBeNull();
    // a refused query arriving in the URL (a bookmark) says why too, once
    const asked: string[] = [];
    const onRequest = (r: { url(): string }) => void (r.url().includes('/api/v1/logs?') && asked.push(r.url()));
    page.on('request', onRequest);
    try {
      await page.goto(url + '/#/logs?host=fields-host&q=' + encodeURIComponent(bad));
      await page.waitForSelector('#log-q-error .query-error-msg');
      expect(await page.textContent('#log-q-error .query-error-msg')).toBe(reason);
      expect(await page.inputValue('#log-q')).toBe(bad);
    } finally {
      page.off('request', onRequest);
    }
    expect(asked.filter((u) => !u.includes('/histogram'))).toHaveLength(1);
    // with live tail on, the tail (refused too) stops instead of polling every second
    asked.length = 0;
    page.on('request', onRequest);
    try {
      await page.goto(url + '/#/logs?host=fields-host&live=1&q=' + encodeURIComponent(bad));
      await page.waitForSelector('#live-state:text-is("live tail stopped: the search was refused")');
      const n = asked.length;
      // absence over time can only be watched for a while: the tail would poll within 1 s
      await page.waitForTimeout(1_500);
      expect(asked.length).toBe(n);
    } finally {
      page.off('request', onRequest);
    }
    expect(fired).toEqual([]);
    // the refused requests are the only console noise (failed loads), nothing else
    expect(problems).toEqual([]);
  });

  it('offers level >= X, kept in the URL as severity=N', async () => {
    await signIn(page, url, viewer);
    await page.goto(url + '/#/logs?host=fields-host');
    await page.waitForSelector('#log-list[data-ready]');
    const labels = await page.$$eval('#log-level option', (els) => els.map((e) => e.textContent));
    expect(labels).toEqual(['any', '≥ emerg', '≥ alert', '≥ crit', '≥ err', '≥ warning', '≥ notice', '≥ info', '≥ debug']);
    await page.selectOption('#log-level', { label: '≥ err' });
    await expect.poll(() => hashParams().get('severity')).toBe('3');
    await page.waitForSelector('#log-list[data-ready]');
    await expect.poll(async () => (await shownMessages()).sort()).toEqual(['many fields', 'plain line']);
    // reloaded from the URL, the control shows it
    await page.reload();
    await page.waitForSelector('#log-list[data-ready]');
    expect(await page.$eval('#log-level', (e) => (e as HTMLSelectElement).value)).toBe('3');
    expect(problems).toEqual([]);
  });

  it('narrows to a line\'s host or program on a click on it, without opening its context', async () => {
    await signIn(page, url, viewer);
    await page.goto(url + '/#/logs');
    await page.waitForSelector('#log-list[data-ready]');
    expect(new Set(await page.$$eval('#log-list > li.log-line .host', (els) => els.map((e) => e.textContent))).size).toBeGreaterThan(1);
    await page.click('#log-list > li.log-line button.quick.host:text-is("xss-fields")');
    await expect.poll(() => hashParams().get('host')).toBe('xss-fields');
    await page.waitForSelector('#log-list[data-ready]');
    expect(await shownMessages()).toEqual(['xss in fields']);
    expect(await page.inputValue('#log-host')).toBe('xss-fields');
    await page.click('#log-list > li.log-line button.quick.prog');
    await expect.poll(() => hashParams().get('program')).toBe('app');
    expect(hashParams().get('host')).toBe('xss-fields');
    expect(await page.locator('#log-list li.context').count()).toBe(0);
    expect(problems).toEqual([]);
  });

  it('has a "?" next to the box that opens and closes the syntax help', async () => {
    await signIn(page, url, viewer);
    await page.goto(url + '/#/logs');
    await page.waitForSelector('#log-list[data-ready]');
    expect(await page.isVisible('#query-help')).toBe(false);
    await page.click('#query-help-toggle');
    expect(await page.getAttribute('#query-help-toggle', 'aria-expanded')).toBe('true');
    const text = await page.textContent('#query-help');
    for (const s of ['"connection reset"', 'OR', 'NOT', 'time*', 'host:web-*', 'level:>=warning', 'field.user_id:42', 'docs/query-language.md']) expect(text).toContain(s);
    await page.keyboard.press('Escape');
    expect(await page.isVisible('#query-help')).toBe(false);
    expect(await page.getAttribute('#query-help-toggle', 'aria-expanded')).toBe('false');
    await page.click('#query-help-toggle');
    await page.click('h1');
    expect(await page.isVisible('#query-help')).toBe(false);
    expect(problems).toEqual([]);
  });

  it('renders XSS in field keys and values as text, also after clicking the chip', async () => {
    await signIn(page, url, viewer);
    await page.goto(url + '/#/logs?host=xss-fields');
    await page.waitForSelector('#log-list[data-ready]');
    const chips = await page.$$eval('#log-list .fields .chip', (els) => els.map((e) => [e.tagName, e.textContent]));
    // the key cannot be written as a field name: shown, not offered as a filter
    expect(chips).toEqual([['SPAN', `${IMG}=key payload`], ['BUTTON', `img=${IMG}`]]);
    await page.click('#log-list .fields button.chip');
    await expect.poll(() => page.inputValue('#log-q')).toBe(`field.img:"${IMG.replace(/"/g, '\\"')}"`);
    // accepted or refused, the page shows the query only as text
    await page.waitForFunction(() => document.querySelector('#log-q-error')?.textContent !== '' || location.hash.includes('field.img'));
    expect(await page.locator('#main :is(img, script, svg, iframe)').count()).toBe(0);
    expect(await page.evaluate(() => (window as unknown as { __xss?: string }).__xss)).toBeUndefined();
    expect(fired).toEqual([]);
    expect(problems).toEqual([]);
  });

  it('shows chips in live tail', async () => {
    await signIn(page, url, viewer);
    await page.goto(url + '/#/logs?host=live-fields&live=1');
    await page.waitForSelector('#live-state:text-matches("live")');
    await ingest('live-fields', [{ message: 'tailed with fields', fields: { request_id: 'r-1', [IMG]: IMG } }]);
    await page.waitForSelector('#log-list > li.log-line:has(.msg:text-is("tailed with fields")) .fields', { timeout: 5_000 });
    const chips = await page.$$eval('#log-list > li.log-line .fields .chip', (els) => els.map((e) => e.textContent));
    expect(chips).toEqual(['request_id=r-1', `${IMG}=${IMG}`]);
    expect(await page.locator('#main :is(img, script)').count()).toBe(0);
    expect(fired).toEqual([]);
    expect(problems).toEqual([]);
  });

  it('keeps the phone layout within the screen and chips readable in both themes', async () => {
    const ua = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36';
    await ingest('fields-host', [{ message: 'a long field', fields: { user_agent: ua, token: 'x'.repeat(400) } }], 'fields-host-2');
    await signIn(page, url, viewer);
    await page.setViewportSize({ width: 390, height: 800 });
    await page.goto(url + '/#/logs?host=fields-host');
    await page.waitForSelector('#log-list[data-ready]');
    await page.waitForSelector('#log-list li.log-line:has(.msg:text-is("a long field")) .fields');
    await page.click('#log-list li.log-line:has(.msg:text-is("many fields")) .chip.more');
    await page.click('#query-help-toggle');
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    // the search box takes the whole width, a refused query's reason below it
    const box = await page.locator('#log-q').boundingBox();
    expect(box!.width).toBeGreaterThan(300);
    const colours = async () => page.$eval('#log-list .chip .v', (e) => [getComputedStyle(e).color, getComputedStyle(e.closest('.chip')!).backgroundColor]);
    const first = await colours();
    await page.click('#theme');
    await expect.poll(colours).not.toEqual(first);
    await page.click('#theme');
    expect(problems).toEqual([]);
  });
});

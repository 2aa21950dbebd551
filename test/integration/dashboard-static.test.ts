// The dashboard's static files: served from a fixed list (no path reaches the file system),
// right content types, CSP without inline scripts, nosniff; everything else is a 404.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testCollector, type TestCollector } from '../helpers/collector.js';

let c: TestCollector;
beforeAll(async () => {
  c = await testCollector();
});
afterAll(async () => c.close());

const get = (url: string) => c.app.inject({ method: 'GET', url });

describe('dashboard static files', () => {
  it.each([
    ['/', 'text/html'],
    ['/index.html', 'text/html'],
    ['/style.css', 'text/css'],
    ['/js/main.js', 'text/javascript'],
    ['/js/highlight.js', 'text/javascript'],
    ['/vendor/chart.umd.js', 'text/javascript'],
    ['/favicon.svg', 'image/svg+xml'],
  ])('serves %s as %s with CSP and nosniff, without a token', async (url, type) => {
    const res = await get(url);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain(type);
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    const csp = String(res.headers['content-security-policy']);
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).not.toContain('unsafe-eval');
  });

  it.each([
    '/js/../../package.json',
    '/..%2f..%2fpackage.json',
    '/js/%2e%2e/%2e%2e/package.json',
    '/js/',
    '/js',
    '/js/main.js.map',
    '/vendor/chart.umd.js/../../../package.json',
    '/dashboard/public/index.html',
  ])('answers %s with a 401/404, never a file outside the list', async (url) => {
    const res = await get(url);
    expect([401, 404]).toContain(res.statusCode);
    expect(res.body).not.toContain('"dependencies"');
  });

  it('the page loads scripts only from files, never inline', async () => {
    const html = (await get('/')).body;
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(html).not.toMatch(/\son\w+=/);
    expect(html).not.toMatch(/style=/);
  });
});

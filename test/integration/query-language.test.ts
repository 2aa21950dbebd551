// The search language end to end on a real store: each search of the table is answered by
// GET /api/v1/logs (every page, through the cursors), by the histogram and by the live tail's
// matcher, and compared with a brute-force reference computed here over the same generated
// lines: the lines' words as the index sees them (letters and digits, lower case, accents
// folded) matched as sequences, substring and regular-expression checks, and the lines' own
// host, program, source, severity and fields.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IngestBatch, WireLine } from '../../shared/wire.js';
import { WIRE_VERSION } from '../../shared/wire.js';
import { testCollector, type TestCollector } from '../helpers/collector.js';
import { rng } from '../helpers/rng.js';

const H = 3_600_000;
const T0 = 1_800_000_000_000 - (1_800_000_000_000 % H) + 123_456;
const NOW = T0 + 80 * H;

interface Gen {
  id: number;
  ts: number;
  host: string;
  program: string | undefined;
  source: string;
  severity: number;
  message: string;
  fields?: Record<string, string>;
}

const HOSTS = ['web-1', 'web-2', 'web-10', 'db-1', 'api-eu'];
const PROGRAMS = ['nginx', 'sshd', 'app', undefined];
const SOURCES = ['/var/log/app.log', '/var/log/nginx/access.log', '/var/log/auth.log'];
const NAMES = ['alice', 'bob', 'carol', 'dave'];

function message(r: () => number): string {
  const pick = <T,>(a: T[]) => a[Math.floor(r() * a.length)]!;
  const n = Math.floor(r() * 60);
  switch (Math.floor(r() * 16)) {
    case 0:
      return `GET /api/v1/users/${n} 200 from 10.0.${n % 3}.${n % 5}`;
    case 1:
      return `POST /api/v1/orders 500 from 192.168.1.${n}`;
    case 2:
      return `login ok for ${pick(NAMES)}@example.com`;
    case 3:
      return `login failed for O'Brien from 10.0.0.1`;
    case 4:
      return `connect failed: ERR_CONN_RESET after ${n} ms`;
    case 5:
      return `job bar-marker-${n % 3}-${n % 4} done id=${n}`;
    case 6:
      return `cache miss key=user:${n % 7} ttl=30s`;
    case 7:
      return `disk full on /var/log`;
    case 8:
      return pick(['Connection TIMEOUT talking to db-1', 'connection timeout (second attempt)', 'timeouts are rising']);
    case 9:
      return pick(['café ouvert', 'Café fermé', 'ユーザー ログイン 成功']);
    case 10:
      return `deadlock detected; retrying ${n}`;
    case 11:
      return `GET /api/v2/users 404 from 10.0.0.12`;
    case 12:
      return `upstream 10.0.0.1:8080 reset; errno=${n % 4}`;
    case 13:
      return `status=${pick(['200', '404', '500'])} path=/health dur=${n}ms`;
    case 14:
      return `the quick brown fox ${pick(['jumps', 'sleeps'])}`;
    default:
      return `quick the fox brown id=${n}`;
  }
}

const lines: Gen[] = [];
let c: TestCollector;

beforeAll(async () => {
  c = await testCollector(() => NOW);
  const r = rng(13);
  let nextId = 1;
  for (let b = 0; b < 60; b++) {
    const host = HOSTS[Math.floor(r() * HOSTS.length)]!;
    const source = SOURCES[Math.floor(r() * SOURCES.length)]!;
    const wire: WireLine[] = [];
    let offset = 0;
    for (let i = 0; i < 10; i++) {
      const g: Gen = {
        id: nextId++,
        // times out of arrival order, across three days: the time-ordered pages must sort them
        ts: T0 + Math.floor(r() * 72 * H),
        host,
        program: PROGRAMS[Math.floor(r() * PROGRAMS.length)],
        source,
        severity: Math.floor(r() * 8),
        message: message(r),
      };
      if (r() < 0.4) g.fields = { user_id: String(Math.floor(r() * 5)), 'http.path': r() < 0.5 ? '/api/v1/users' : '/health', status: r() < 0.3 ? '500' : '200' };
      lines.push(g);
      const w: WireLine = { offset, ts: g.ts, severity: g.severity, message: g.message };
      if (g.program !== undefined) w.program = g.program;
      if (g.fields) w.fields = g.fields;
      wire.push(w);
      offset += Buffer.byteLength(g.message) + 1;
    }
    const batch: IngestBatch = { version: WIRE_VERSION, agent_id: 'agt_ql', host, segments: [{ stream: `ql-${b}`, source, start: 0, end: offset, lines: wire }] };
    const res = await c.app.inject({ method: 'POST', url: '/api/v1/ingest', headers: { authorization: `Bearer ${c.token('agent')}` }, payload: batch });
    expect(res.statusCode, res.body).toBe(200);
  }
});
afterAll(async () => c.close());

// ---- the reference: written here, independently of the parser ----

/** The words of a text as the index makes them: runs of letters and digits, lower case, accents folded. */
function words(s: string): string[] {
  return (
    s
      .normalize('NFD')
      .replace(/\p{Mn}/gu, '')
      .toLowerCase()
      .match(/[\p{L}\p{N}]+/gu) ?? []
  );
}
/** The line contains the words of `text` in a row; with `prefix`, the last one only has to start so. */
function seq(l: Gen, text: string, prefix = false): boolean {
  const w = words(l.message);
  const p = words(text);
  for (let i = 0; i + p.length <= w.length; i++) {
    if (p.every((t, j) => (prefix && j === p.length - 1 ? w[i + j]!.startsWith(t) : w[i + j] === t))) return true;
  }
  return false;
}
const has = (text: string) => (l: Gen) => seq(l, text);
const pre = (text: string) => (l: Gen) => seq(l, text, true);
const sub = (text: string) => (l: Gen) => l.message.includes(text);
const re = (r: RegExp) => (l: Gen) => r.test(l.message);
const globRe = (g: string) => new RegExp('^' + g.split('*').map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*') + '$');

type Pred = (l: Gen) => boolean;
const and = (...p: Pred[]): Pred => (l) => p.every((f) => f(l));
const or = (...p: Pred[]): Pred => (l) => p.some((f) => f(l));
const not = (p: Pred): Pred => (l) => !p(l);

// [search, extra query parameters, the reference]
const CASES: Array<[string, string, Pred]> = [
  // words with punctuation are the same token sequence
  ['10.0.0.1', '', has('10 0 0 1')],
  ['10.0.0.1', '', re(/\b10\.0\.0\.1\b/)], // 10.0.0.12 is not found: its last token is 12
  ['user@example.com', '', () => false],
  ['alice@example.com', '', sub('alice@example.com')],
  ['/api/v1/users', '', sub('/api/v1/users')],
  ['/api/v2/users', '', sub('/api/v2/users')],
  ['bar-marker-1-2', '', sub('bar-marker-1-2')],
  ['id=42', '', re(/\bid=42\b/)],
  ['ERR_CONN_RESET', '', sub('ERR_CONN_RESET')],
  ["O'Brien", '', sub("O'Brien")],
  ['o brien', '', sub("O'Brien")],
  ['10.0.0.1:8080', '', sub('10.0.0.1:8080')],
  ['errno=3', '', sub('errno=3')],
  ['key=user:5', '', sub('key=user:5')],
  ['status=500', '', sub('status=500')],
  ['192.168.1.7', '', re(/192\.168\.1\.7\b/)],
  ['dur=5ms', '', re(/\bdur=5ms/)],
  // case and accents
  ['timeout', '', re(/\btimeout\b/i)],
  ['TIMEOUT', '', re(/\btimeout\b/i)],
  ['cafe', '', re(/(^|\s)caf[eé](\s|$)/i)],
  ['ログイン', '', sub('ログイン')],
  // prefixes
  ['timeo*', '', re(/\btimeo/i)],
  ['dead*', '', re(/\bdead/)],
  ['/api/v1/us*', '', re(/\/api\/v1\/us/)],
  ['10.0.*', '', has('10 0')],
  ['"quick br"*', '', re(/quick br/)],
  // phrases and order
  ['"quick brown"', '', sub('quick brown')],
  ['"brown quick"', '', () => false],
  ['quick brown', '', and(has('quick'), has('brown'))],
  ['"login failed"', '', sub('login failed')],
  ['"connection timeout"', '', re(/connection timeout/i)],
  // boolean
  ['quick AND fox', '', and(has('quick'), has('fox'))],
  ['jumps OR sleeps', '', or(has('jumps'), has('sleeps'))],
  ['fox -jumps', '', and(has('fox'), not(has('jumps')))],
  ['fox NOT jumps', '', and(has('fox'), not(has('jumps')))],
  ['login -failed', '', and(has('login'), not(has('failed')))],
  ['(alice OR bob) login', '', and(or(has('alice'), has('bob')), has('login'))],
  ['(jumps OR sleeps) -(quick brown)', '', and(or(has('jumps'), has('sleeps')), not(and(has('quick'), has('brown'))))],
  ['GET -"404" -"200"', '', and(has('get'), not(has('404')), not(has('200')))],
  ['deadlock OR disk OR ERR_CONN_RESET', '', or(has('deadlock'), has('disk'), sub('ERR_CONN_RESET'))],
  ['(login (alice OR carol)) OR (cache -"user:3")', '', or(and(has('login'), or(has('alice'), has('carol'))), and(has('cache'), not(has('user 3'))))],
  ['or', '', has('or')],
  // field terms
  ['host:web-1', '', (l) => l.host === 'web-1'],
  ['host:web-*', '', (l) => l.host.startsWith('web-')],
  ['host:web-1*', '', (l) => globRe('web-1*').test(l.host)],
  ['host:*-eu', '', (l) => l.host.endsWith('-eu')],
  ['host:web-* timeout', '', and((l) => l.host.startsWith('web-'), has('timeout'))],
  ['host:db-1 login', '', and((l) => l.host === 'db-1', has('login'))],
  ['program:nginx', '', (l) => l.program === 'nginx'],
  ['program:ngi*', '', (l) => l.program === 'nginx'],
  ['program:sshd fox', '', and((l) => l.program === 'sshd', has('fox'))],
  ['source:/var/log/auth.log', '', (l) => l.source === '/var/log/auth.log'],
  ['source:/var/log/nginx/*', '', (l) => l.source.startsWith('/var/log/nginx/')],
  ['level:>=warning', '', (l) => l.severity <= 4],
  ['level:>warning', '', (l) => l.severity <= 3],
  ['level:<=info', '', (l) => l.severity >= 6],
  ['level:error', '', (l) => l.severity === 3],
  ['severity:>=crit /api/v1/users', '', and((l) => l.severity <= 2, sub('/api/v1/users'))],
  ['level:>=4 level:<=err', '', (l) => l.severity === 3 || l.severity === 4],
  ['field.user_id:3', '', (l) => l.fields?.user_id === '3'],
  ['field.http.path:/api/v1/users', '', (l) => l.fields?.['http.path'] === '/api/v1/users'],
  ['field.http.path:/api/*', '', (l) => l.fields?.['http.path']?.startsWith('/api/') === true],
  ['field.status:500 field.user_id:1', '', (l) => l.fields?.status === '500' && l.fields?.user_id === '1'],
  ['field.status:500 GET', '', and((l) => l.fields?.status === '500', has('get'))],
  ['field.nosuch:1', '', () => false],
  ['host:web-2 program:app level:>=notice quick', '', and((l) => l.host === 'web-2' && l.program === 'app' && l.severity <= 5, has('quick'))],
  // field terms with the request's own filters
  ['timeout', 'host=web-10', and((l) => l.host === 'web-10', has('timeout'))],
  ['host:web-1', 'host=web-2', () => false],
  ['host:web-*', 'severity=3', (l) => l.host.startsWith('web-') && l.severity <= 3],
  ['quick', 'field.user_id=2', and((l) => l.fields?.user_id === '2', has('quick'))],
  ['', 'field.status=500', (l) => l.fields?.status === '500'],
  ['level:debug', 'program=sshd', (l) => l.severity === 7 && l.program === 'sshd'],
  ['login', `start=${T0 + 24 * H}&end=${T0 + 48 * H}`, and((l) => l.ts >= T0 + 24 * H && l.ts < T0 + 48 * H, has('login'))],
  ['host:web-* GET', `start=${Math.floor((T0 + 12 * H) / 1000)}&end=now`, and((l) => l.ts >= Math.floor((T0 + 12 * H) / 1000) * 1000 && l.host.startsWith('web-'), has('get'))],
];

function get(url: string) {
  return c.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${c.token('viewer')}` } });
}
const qs = (q: string, extra: string) => [q !== '' ? `q=${encodeURIComponent(q)}` : '', extra].filter(Boolean).join('&');

describe('the search language against a brute-force reference', () => {
  it('has at least 60 searches, each matching something or provably nothing', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(60);
    // the corpus is not trivial for the table: most searches find lines, few find all
    const hits = CASES.map(([, , p]) => lines.filter(p).length);
    expect(hits.filter((n) => n > 0).length).toBeGreaterThan(CASES.length * 0.8);
    expect(hits.every((n) => n < lines.length)).toBe(true);
  });

  it.each(CASES)('%s %s', async (q, extra, pred) => {
    const texty = q !== '' && !/^(\s*(host|program|source|level|severity|field\.[\w.]+):\S+)+\s*$/.test(q);
    const want = lines.filter(pred);
    // newest-arrived first for searches with words, newest first by time otherwise (ties by id)
    want.sort(texty ? (a, b) => b.id - a.id : (a, b) => b.ts - a.ts || b.id - a.id);
    const got: Array<{ message: string; host: string; ts: number; fields: Record<string, string> | null }> = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res = await get(`/api/v1/logs?${qs(q, extra)}&limit=17${cursor ? `&cursor=${cursor}` : ''}`);
      expect(res.statusCode, res.body).toBe(200);
      const page = res.json();
      got.push(...page.items);
      cursor = page.next_cursor;
      expect(++pages).toBeLessThan(100);
    } while (cursor);
    expect(got.map((i) => `${i.ts} ${i.host} ${i.message}`)).toEqual(want.map((l) => `${l.ts} ${l.host} ${l.message}`));

    // the histogram counts the same lines
    const h = await get(`/api/v1/logs/histogram?${qs(q, extra.includes('start=') ? extra : [extra, `start=${T0}&end=${NOW}`].filter(Boolean).join('&'))}&buckets=1`);
    expect(h.statusCode, h.body).toBe(200);
    expect(h.json().counts).toEqual([want.length]);

    // the live tail's matcher (q only: its other filters are checked in the client)
    if (extra === '') {
      const ids = await c.app.storage.logs.matchIds(q, 0, lines.length);
      expect(ids.size).toBe(want.length);
    }
  });
});

describe('refusals over HTTP', () => {
  it.each([
    ['logs', '/api/v1/logs?q='],
    ['histogram', '/api/v1/logs/histogram?q='],
  ])('%s: 400 with the reason and the position', async (_n, url) => {
    const res = await get(url + encodeURIComponent('error "disk full'));
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ error: 'RINGTAIL_ERR_BAD_QUERY', message: 'q: unbalanced quote at 6: the phrase that starts there has no closing "', position: 6 });
    const or = await get(url + encodeURIComponent('timeout OR host:web-1'));
    expect(or.statusCode).toBe(400);
    expect(or.json().message).toMatch(/field term at 11 inside OR or NOT/);
    expect(or.json().position).toBe(11);
  });

  it('a search of 10,000 terms or 1 MB is a quick 400', async () => {
    for (const q of [Array.from({ length: 10_000 }, (_, i) => `w${i}`).join(' ').slice(0, 16_000), 'x'.repeat(1_000_000)]) {
      const t0 = performance.now();
      const res = await c.app.inject({ method: 'GET', url: `/api/v1/logs?q=${q}`, headers: { authorization: `Bearer ${c.token('viewer')}` } });
      expect(res.statusCode).toBe(400);
      expect(performance.now() - t0).toBeLessThan(1000);
    }
    const terms = await get(`/api/v1/logs?q=${Array.from({ length: 100 }, (_, i) => `w${i}`).join('%20')}`);
    expect(terms.json()).toMatchObject({ error: 'RINGTAIL_ERR_BAD_QUERY', message: expect.stringMatching(/too many terms/) });
  });

  it('a NUL in a search separates words like any punctuation (FTS5 read it as the end of the string)', async () => {
    const res = await get(`/api/v1/logs?q=${encodeURIComponent('quick\u0000brown')}`);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().items.length).toBe(lines.filter(has('quick brown')).length);
  });

  it('field parameters are bounded and only field.* is admitted', async () => {
    expect((await get('/api/v1/logs?fieldx=1')).statusCode).toBe(400);
    expect((await get(`/api/v1/logs?field.k=${'v'.repeat(2000)}`)).statusCode).toBe(400);
  });
});

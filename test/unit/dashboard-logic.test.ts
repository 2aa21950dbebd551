// The dashboard's pure pieces, table-driven: search terms for highlighting, search text built
// from field chips, the URL's range (a young host's life), host states, MIN/MAX folding onto the AVERAGE grid, metric families and headline picks.
import { describe, expect, it } from 'vitest';
// @ts-expect-error plain browser ES modules, no type declarations
import { highlight, termsOf } from '../../dashboard/public/js/highlight.js';
// @ts-expect-error plain browser ES modules, no type declarations
import { addClause, around, errorPosition, fieldClause } from '../../dashboard/public/js/query.js';
// @ts-expect-error plain browser ES modules, no type declarations
import { familyOf, foldOnto, headlineMetrics } from '../../dashboard/public/js/metrics.js';
// @ts-expect-error plain browser ES modules, no type declarations
import { lifeRange, rangeFromParams } from '../../dashboard/public/js/ranges.js';
// @ts-expect-error plain browser ES modules, no type declarations
import { hasLifecycle, hostState, mergeHosts, stateCounts } from '../../dashboard/public/js/host-state.js';

describe('termsOf', () => {
  it.each([
    ['timeout', ['timeout']],
    ['Timeout OR refused', ['timeout', 'refused']],
    ['"connection reset" AND NOT debug', ['connection reset']],
    ['time*', ['time']],
    ['(<script> OR img)', ['script', 'img']],
    ['10.0.0.1 user@example.com /api/v1/users', ['10 0 0 1', 'user example com', 'api v1 users']],
    ["O'Brien -noise bar-marker-1-2", ['o brien', 'bar marker 1 2']],
    ['host:web-* program:nginx source:/var/log/a.log level:>=warning field.msg:"a b" x', ['x']],
    ['"say \\"hi\\" now"', ['say hi now']],
    ['NOT (a b) c', ['a', 'b', 'c']],
    ['"unbalanced', ['unbalanced']],
    ['message:timeout Host:web-1 FIELD.x:y', ['timeout']],
    ['', []],
  ])('%j → %j', (q, want) => expect(termsOf(q)).toEqual(want));
});

describe('highlight', () => {
  // a minimal document: Text nodes and elements with tag and text, enough for highlight()
  const doc = {
    createDocumentFragment: () => ({ parts: [] as Array<{ tag?: string; text: string }>, append(n: { tag?: string; text: string }) { this.parts.push(n); } }),
    createTextNode: (text: string) => ({ text }),
    createElement: (tag: string) => ({ tag, text: '', append(n: { text: string }) { this.text += n.text; } }),
  };
  const marks = (text: string, q: string) => {
    (globalThis as { document?: unknown }).document = doc;
    try {
      return (highlight(text, termsOf(q)) as { parts: Array<{ tag?: string; text: string }> }).parts.filter((p) => p.tag === 'mark').map((p) => p.text);
    } finally {
      delete (globalThis as { document?: unknown }).document;
    }
  };
  it.each([
    ['from 10.0.0.1 to 10.0.0.2', '10.0.0.1', ['10.0.0.1']],
    ['GET /api/v1/users 200', '/api/v1/users', ['api/v1/users']],
    ['timeout and time', 'time*', ['time', 'time']],
    ['mail user@example.com', 'user@example.com field.x:user', ['user@example.com']],
  ])('%j for %j marks %j', (text, q, want) => expect(marks(text, q)).toEqual(want));
});

describe('search text from clicks', () => {
  it.each([
    ['user_id', '42', 'field.user_id:42'],
    ['path', '/api/v1/users', 'field.path:/api/v1/users'],
    ['mail', 'user@example.com', 'field.mail:user@example.com'],
    ['msg', 'disk slow', 'field.msg:"disk slow"'],
    ['msg', 'say "hi"', 'field.msg:"say \\"hi\\""'],
    ['p', 'C:\\temp', 'field.p:"C:\\\\temp"'],
    ['v', '', 'field.v:""'],
    ['v', '-1', 'field.v:"-1"'],
    ['v', 'web*', 'field.v:"web*"'],
    ['v', 'OR', 'field.v:"OR"'],
    ['v', '(x)', 'field.v:"(x)"'],
    ['http.status', '200', 'field.http.status:200'],
    ['@timestamp', '2026-12-06', 'field.@timestamp:2026-12-06'],
    ['a*', 'b', 'field.a*:b'],
    ['<img src=x>', 'a', null],
    ['a b', 'a', null],
    ['a:b', 'a', null],
    ['a"b', 'a', null],
    ['f(x)', 'a', null],
  ])('%j = %j → %j', (k, v, want) => expect(fieldClause(k, v)).toBe(want));

  it.each([
    ['', 'field.a:1', 'field.a:1'],
    ['  ', 'field.a:1', 'field.a:1'],
    ['login', 'field.a:1', 'login field.a:1'],
    ['login field.a:1', 'field.a:1', 'login field.a:1'],
    ['a OR b', 'field.a:1', '(a OR b) field.a:1'],
    ['(a OR b) c', 'field.a:1', '(a OR b) c field.a:1'],
    ['"x OR y"', 'field.a:1', '"x OR y" field.a:1'],
    ['field.m:"a b"', 'field.m:"a b"', 'field.m:"a b"'],
  ])('%j + %j → %j', (q, clause, want) => expect(addClause(q, clause)).toBe(want));

  it.each([
    [{ message: 'unbalanced quote at 14', position: 14 }, 'login field.x:"abc', 14],
    [{ message: 'unbalanced quote at 6' }, 'login "abc', 6],
    [{ message: 'fts5: syntax error near "."' }, '10.0.0.1', null],
    [{ message: 'x', position: 99 }, 'short', null],
    [{ message: 'x', position: -1 }, 'short', null],
    [null, 'q', null],
  ])('position of %j in %j → %j', (body, q, want) => expect(errorPosition(body, q)).toBe(want));

  it('cuts a window around the position of a long query', () => {
    const q = 'a'.repeat(100) + '"' + 'b'.repeat(100);
    expect(around(q, 100, 5)).toEqual({ before: '…aaaaa', at: '"', after: 'bbbbb…' });
    expect(around('ab', 2)).toEqual({ before: 'ab', at: '', after: '' });
  });
});

describe('rangeFromParams', () => {
  const now = 1_700_000_000_000;
  it.each([
    ['range=1h', { start: now - 3600_000, end: now, key: '1h' }],
    ['range=1y', { start: now - 366 * 86400_000, end: now, key: '1y' }],
    ['', { start: now - 86400_000, end: now, key: '1d' }],
    ['range=bogus', { start: now - 86400_000, end: now, key: '1d' }],
    ['range=1w&from=1000&to=5000', { start: 1000, end: 5000, key: 'custom' }],
    ['from=5000&to=1000', { start: now - 86400_000, end: now, key: '1d' }],
  ])('%s', (q, want) => expect(rangeFromParams(new URLSearchParams(q), now)).toEqual(want));
});

describe('a host page opens on a young host\'s life', () => {
  const now = 1_700_000_000_000;
  const min = 60_000;
  const host = (ageMs: number, silentMs = 0) => ({ host: 'h', first_seen: now - ageMs, last_seen: now - silentMs });
  it.each([
    // a host one minute old: its life, widened to 5 min, ending now (not 1 d of empty charts)
    ['', host(1 * min), { start: now - 5 * min, end: now, key: 'life' }],
    ['', host(2 * 3600_000), { start: now - 2 * 3600_000, end: now, key: 'life' }],
    ['', host(23 * 3600_000, 10 * min), { start: now - 23 * 3600_000, end: now, key: 'life' }],
    // older than the default range: the default range
    ['', host(2 * 86400_000), { start: now - 86400_000, end: now, key: '1d' }],
    // a 2-hour instance retired three days ago: its life, not an empty day
    ['', { host: 'h', first_seen: now - 3 * 86400_000 - 2 * 3600_000, last_seen: now - 3 * 86400_000 }, { start: now - 3 * 86400_000 - 2 * 3600_000, end: now - 3 * 86400_000 + 5 * min, key: 'life' }],
    // a range asked for wins; 'life' may be asked for an old host too
    ['range=1h', host(1 * min), { start: now - 3600_000, end: now, key: '1h' }],
    ['range=life', host(3 * 86400_000), { start: now - 3 * 86400_000, end: now, key: 'life' }],
    ['from=1000&to=5000', host(1 * min), { start: 1000, end: 5000, key: 'custom' }],
    // first_seen unknown (an older collector's metric-only host): the default day
    ['', { host: 'h', last_seen: now }, { start: now - 86400_000, end: now, key: '1d' }],
    ['range=life', { host: 'h', first_seen: 0, last_seen: now }, { start: now - 86400_000, end: now, key: '1d' }],
    ['', null, { start: now - 86400_000, end: now, key: '1d' }],
  ])('%s %j', (q, h, want) => expect(rangeFromParams(new URLSearchParams(q), now, h)).toEqual(want));
  it('keeps the life at least 5 minutes long', () => {
    expect(lifeRange({ first_seen: now, last_seen: now }, now)).toEqual({ start: now - 5 * min, end: now, key: 'life' });
    expect(lifeRange({ first_seen: now + 10_000, last_seen: now }, now)).toEqual({ start: now - 5 * min, end: now, key: 'life' });
  });
});

describe('host states', () => {
  const now = 1_700_000_000_000;
  it.each([
    [{ host: 'a', state: 'retired', last_seen: now }, { state: 'retired', derived: false }],
    [{ host: 'a', state: 'down', last_seen: now }, { state: 'down', derived: false }],
    [{ host: 'a', state: 'up', last_seen: 0 }, { state: 'up', derived: false }],
    // an older collector: from the last-seen age
    [{ host: 'a', last_seen: now - 60_000 }, { state: 'up', derived: true }],
    [{ host: 'a', last_seen: now - 5 * 60_000 }, { state: 'stale', derived: true }],
    [{ host: 'a', last_seen: now - 3600_000 }, { state: 'down', derived: true }],
    // a state this dashboard does not know is not trusted
    [{ host: 'a', state: '<b>x</b>', last_seen: now }, { state: 'up', derived: true }],
  ])('%j → %j', (item, want) => expect(hostState(item, now)).toEqual(want));

  it('counts each state', () => {
    expect(stateCounts(['up', 'up', 'down', 'retired', 'stale', 'up', 'toString', undefined])).toEqual({ up: 3, stale: 1, down: 1, retired: 1 });
    expect(stateCounts([])).toEqual({ up: 0, stale: 0, down: 0, retired: 0 });
  });

  it('adds metric-only hosts for an older collector only', () => {
    const items = [{ host: 'a', first_seen: 1, last_seen: 10 }];
    const metric = [{ host: 'a', last_sample: 50, last_seen: null }, { host: 'm', last_sample: 40, last_seen: 45 }];
    expect(hasLifecycle(items)).toBe(false);
    expect(mergeHosts(items, metric, false)).toEqual([{ host: 'a', first_seen: 1, last_seen: 50 }, { host: 'm', first_seen: 45, last_seen: 45 }]);
    const withState = [{ host: 'a', state: 'up', ephemeral: true, first_seen: 1, last_seen: 60 }];
    expect(hasLifecycle(withState)).toBe(true);
    // with lifecycle, 'm' is missing from the answer because it is retired: it stays out
    expect(mergeHosts(withState, metric, true)).toEqual([{ host: 'a', state: 'up', ephemeral: true, first_seen: 1, last_seen: 60 }]);
    expect(mergeHosts(items, null, false)).toEqual(items);
  });
});

describe('foldOnto', () => {
  const grid = [10, 20, 30].map((x) => ({ x, y: 0 }));
  it('takes the least of the finer rows inside each interval, skipping unknowns', () => {
    const rows = [2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30].map((x) => ({ x, y: x === 14 ? null : 100 - x }));
    expect(foldOnto(grid, 10, rows, 2, Math.min).map((p: { y: number }) => p.y)).toEqual([90, 80, 70]);
    expect(foldOnto(grid, 10, rows, 2, Math.max).map((p: { y: number }) => p.y)).toEqual([98, 88, 78]);
  });
  it('repeats a coarser row over the intervals it covers, and leaves gaps unknown', () => {
    const rows = [{ x: 20, y: 5 }];
    expect(foldOnto(grid, 10, rows, 20, Math.min).map((p: { y: number | null }) => p.y)).toEqual([5, 5, null]);
  });
});

describe('metric families and headline picks', () => {
  it.each([
    ['cpu.user', 'cpu'],
    ['memory.used', 'memory'],
    ['df.used_pct{mount=/}', 'df (%)'],
    ['df.free_bytes{mount=/}', 'df (B)'],
    ['load.1', 'load'],
    ['net.rx_bytes{iface=eth0}', 'net (B)'],
  ])('%s → %s', (m, f) => expect(familyOf(m)).toBe(f));
  it('picks CPU, memory and the root disk', () => {
    const names = ['cpu.idle', 'cpu.system', 'cpu.user', 'df.used_pct{mount=/boot}', 'df.used_pct{mount=/}', 'memory.free', 'memory.used'];
    expect(headlineMetrics(names)).toEqual({ cpu: 'cpu.user', memory: 'memory.used', disk: 'df.used_pct{mount=/}' });
    expect(headlineMetrics(['load.1'])).toEqual({ cpu: 'load.1', memory: null, disk: null });
  });
});

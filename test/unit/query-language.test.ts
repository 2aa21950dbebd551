// The search language's parser: what each search means (as the FTS5 expression and field terms
// it becomes) and, for every refusal, the reason and the position it points at.
import { describe, expect, it } from 'vitest';
import { MAX_DEPTH, MAX_QUERY_LENGTH, MAX_TERMS, parseSearch, QueryError, toFts5 } from '../../collector/query/lang/index.js';

const fts = (q: string) => {
  const s = parseSearch(q);
  return s.text ? toFts5(s.text) : null;
};
const fields = (q: string) => parseSearch(q).fields.map(({ pos: _p, ...f }) => f);

describe('search language: meaning', () => {
  it.each([
    ['timeout', '"timeout"'],
    ['10.0.0.1', '"10.0.0.1"'],
    ['user@example.com', '"user@example.com"'],
    ['/api/v1/users', '"/api/v1/users"'],
    ['bar-marker-1-2', '"bar-marker-1-2"'],
    ['id=42', '"id=42"'],
    ['ERR_CONN_RESET', '"ERR_CONN_RESET"'],
    ["O'Brien", '"O\'Brien"'],
    ['status:500', '"status:500"'],
    ['http://example.com/x', '"http://example.com/x"'],
    ['"quick brown" fox', '("quick brown" AND "fox")'],
    ['"say ""hi"""', null],
    ['"a \\"quoted\\" word"', '"a ""quoted"" word"'],
    ['a OR b', '("a" OR "b")'],
    ['a b OR c', '(("a" AND "b") OR "c")'],
    ['a AND b', '("a" AND "b")'],
    ['a -b', '("a" NOT "b")'],
    ['a NOT b -c', '("a" NOT ("b" OR "c"))'],
    ['(a OR b) -c', '(("a" OR "b") NOT "c")'],
    // ANDed groups flatten: the same lines
    ['a (b -c)', '(("a" AND "b") NOT "c")'],
    ['timeo*', '"timeo" *'],
    ['"quick br"*', '"quick br" *'],
    ['10.0.*', '"10.0."'],
    ['/api/*', '"/api/"'],
    ['or and not', '("or" AND "and" AND "not")'],
    ['message:disk', '"disk"'],
    ['NEAR(quick fox)', '("NEAR" AND "quick" AND "fox")'],
    ['ログイン', '"ログイン"'],
    ['café', '"café"'],
    ['host:web-1', null],
    ['a\u0000b', '"a b"'],
  ])('%s → %s', (q, expected) => {
    if (q === '"say ""hi"""') {
      // two phrases glued by quotes: refused with a position rather than guessed
      expect(() => parseSearch(q)).toThrow(QueryError);
      return;
    }
    expect(fts(q)).toBe(expected);
  });

  it.each([
    ['host:web-1', [{ type: 'field', name: 'host', op: 'eq', value: 'web-1' }]],
    ['host:web-*', [{ type: 'field', name: 'host', op: 'glob', value: 'web-*' }]],
    ['host:"web 1"', [{ type: 'field', name: 'host', op: 'eq', value: 'web 1' }]],
    ['program:nginx', [{ type: 'field', name: 'program', op: 'eq', value: 'nginx' }]],
    ['source:/var/log/app.log', [{ type: 'field', name: 'source', op: 'eq', value: '/var/log/app.log' }]],
    ['level:>=warning', [{ type: 'field', name: 'level', op: 'eq', value: '>=warning', severity: { lo: 0, hi: 4 } }]],
    ['severity:error', [{ type: 'field', name: 'level', op: 'eq', value: 'error', severity: { lo: 3, hi: 3 } }]],
    ['level:<=info', [{ type: 'field', name: 'level', op: 'eq', value: '<=info', severity: { lo: 6, hi: 7 } }]],
    ['level:>4', [{ type: 'field', name: 'level', op: 'eq', value: '>4', severity: { lo: 0, hi: 3 } }]],
    ['level:<err', [{ type: 'field', name: 'level', op: 'eq', value: '<err', severity: { lo: 4, hi: 7 } }]],
    ['LEVEL:WARN', [{ type: 'field', name: 'level', op: 'eq', value: 'WARN', severity: { lo: 4, hi: 4 } }]],
    ['field.user_id:42', [{ type: 'field', name: 'field', key: 'user_id', op: 'eq', value: '42' }]],
    ['field.http.path:/api/*', [{ type: 'field', name: 'field', key: 'http.path', op: 'glob', value: '/api/*' }]],
  ])('%s is a field term', (q, expected) => {
    expect(fields(q)).toEqual(expected);
    expect(parseSearch(q).text).toBeNull();
  });

  it('field terms and words together', () => {
    const s = parseSearch('host:web-* timeout (a OR b) level:err');
    expect(s.fields.map((f) => f.name)).toEqual(['host', 'level']);
    expect(toFts5(s.text!)).toBe('("timeout" AND ("a" OR "b"))');
  });

  it('blank means no conditions', () => {
    expect(parseSearch('   ')).toEqual({ fields: [], text: null });
  });
});

describe('search language: refusals name the reason and the position', () => {
  it.each([
    ['"unterminated', 0, /unbalanced quote at 0/],
    ['error "disk full', 6, /unbalanced quote at 6/],
    ['a (b', 2, /unbalanced parenthesis at 2: '\(' without '\)'/],
    ['a ) b', 2, /unbalanced parenthesis at 2: '\)' without '\('/],
    ['()', 0, /empty parentheses at 0/],
    ['a*', 0, /prefix 'a\*' at 0 .*at least 2 characters/],
    ['"a"*', 0, /prefix 'a\*'/],
    ['x ^a*', 2, /prefix 'a\*' at 2/],
    ['foo.b*', 0, /prefix 'b\*'/],
    ['message:a*', 8, /prefix 'a\*'/],
    ['a*b', 1, /'\*' at 1 can only end a word/],
    ['*', 0, /has no letters or digits/],
    ['...', 0, /has no letters or digits/],
    ['-a', 0, /only excludes words/],
    ['NOT a', 0, /only excludes words/],
    ['a OR -b', 5, /NOT at 5 inside OR/],
    ['a -(-b)', 4, /NOT at 4 negates a NOT/],
    ['host:web-1 -b', 11, /only excludes words.*field terms/],
    ['a OR host:x', 5, /field term at 5 inside OR or NOT/],
    ['a -host:x', 3, /field term at 3 inside OR or NOT/],
    ['host:', 5, /host: needs a value at 5/],
    ['host:*', 0, /matches everything/],
    ['field.:x', 6, /needs a field name at 6/],
    ['level:loud', 6, /unknown level 'loud' at 6/],
    // reserved: the SQLite index starts its host tokens with it (collector/storage/sqlite/host-tokens.ts)
    ['a \uE000776562', 2, /character U\+E000 at 2 is reserved/],
    ['a "b \uE000c"', 5, /character U\+E000 at 5 is reserved/],
    ['level:>emerg', 6, /nothing is more serious/],
    ['level:<debug', 6, /nothing is less serious/],
    ['a OR', 2, /OR at 2 needs something/],
    ['a AND', 2, /AND at 2 needs something/],
    ['OR a', 0, /unexpected 'OR' at 0/],
    ['a -', 2, /.*/],
    ['foo"bar"', 3, /quote at 3 starts inside the word 'foo'/],
    ['"bar"foo', 5, /text at 5 follows a closing quote/],
  ])('%s → position %i', (q, pos, reason) => {
    let err: unknown;
    try {
      parseSearch(q);
    } catch (e) {
      err = e;
    }
    expect(err, q).toBeInstanceOf(QueryError);
    const e = err as QueryError;
    expect(e.code).toBe('RINGTAIL_ERR_BAD_QUERY');
    expect(e.status).toBe(400);
    expect(e.message).toMatch(reason);
    expect(e.message.startsWith('q: ')).toBe(true);
    if (q !== 'a -') expect(e.position).toBe(pos);
    expect(e.details).toEqual({ position: e.position });
  });

  it('bounds: length, terms and nesting are refused quickly', () => {
    const t0 = performance.now();
    expect(() => parseSearch('x'.repeat(1_000_000))).toThrow(/at most 4096/);
    expect(() => parseSearch('a '.repeat(10_000))).toThrow(/at most 4096/);
    expect(() => parseSearch(Array.from({ length: MAX_TERMS + 1 }, (_, i) => `w${i}`).join(' '))).toThrow(/too many terms/);
    expect(() => parseSearch('('.repeat(MAX_DEPTH + 1) + 'a' + ')'.repeat(MAX_DEPTH + 1))).toThrow(/too deeply nested/);
    expect(() => parseSearch('NOT '.repeat(500) + 'a')).toThrow(QueryError);
    expect(performance.now() - t0).toBeLessThan(500);
    // exactly at the bounds is fine
    expect(() => parseSearch(Array.from({ length: MAX_TERMS }, (_, i) => `w${i}`).join(' '))).not.toThrow();
    expect(() => parseSearch('('.repeat(MAX_DEPTH) + 'a' + ')'.repeat(MAX_DEPTH))).not.toThrow();
    expect(MAX_QUERY_LENGTH).toBe(4096);
  });
});

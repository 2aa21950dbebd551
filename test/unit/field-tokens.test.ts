// Field tokens: one [a-z0-9] token per key=value, different for different values that fit the
// cut, and a glob's prefix query matches exactly the tokens of the values that start with it.
import { describe, expect, it } from 'vitest';
import { fieldMatch, fieldToken, fieldTokens, TOKEN_VALUE_CHARS } from '../../collector/storage/sqlite/field-tokens.js';

const values = ['', 'a', 'A', 'z', 'zz', 'z4', 'Z', 'GET', 'get', '42', '/api/v1', '10.0.0.1', 'é', 'zoë', '日本', 'a b', 'x'.repeat(200), 'y'.repeat(63) + 'Q'];

describe('field tokens', () => {
  it('are one ascii-tokenizer token of [a-z0-9] each', () => {
    for (const v of values) expect(fieldToken('http.method', v)).toMatch(/^f[0-9a-f]{8}[a-z0-9]*$/);
    expect(fieldTokens({ a: '1', b: 'X Y' }).split(' ')).toHaveLength(2);
  });

  it('differ for different values that fit the cut, and for keys', () => {
    const short = values.filter((v) => v.length < TOKEN_VALUE_CHARS / 6);
    expect(new Set(short.map((v) => fieldToken('k', v))).size).toBe(short.length);
    expect(fieldToken('k', 'v')).not.toBe(fieldToken('j', 'v'));
  });

  it('a glob matches the tokens of exactly the values that start with its text before *', () => {
    for (const p of values) {
      const m = fieldMatch('k', `${p}*tail`, true);
      const exact = /^"(f[0-9a-f]{8}[a-z0-9]*)"$/.exec(m);
      const prefix = /^"(f[0-9a-f]{8}[a-z0-9]*)" \*$/.exec(m);
      expect(exact ?? prefix, m).not.toBeNull();
      for (const v of values) {
        const t = fieldToken('k', v);
        const hit = prefix ? t.startsWith(prefix[1]!) : t === exact![1];
        // a token stands for every value sharing its first characters: a hit is a candidate
        if (v.startsWith(p)) expect(hit, `${p}* on ${v}`).toBe(true);
        else if (v.length < TOKEN_VALUE_CHARS / 6) expect(hit, `${p}* on ${v}`).toBe(false);
      }
    }
  });

  it('an equality is the exact token', () => {
    expect(fieldMatch('k', 'GET', false)).toBe(`"${fieldToken('k', 'GET')}"`);
  });
});

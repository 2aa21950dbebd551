// Number-run tokens: every three neighbouring short numbers of a line (words as the query
// language finds them, whatever separates them) give one token, and a phrase's tokens are
// among its line's whenever the phrase occurs in it — the property the search relies on.
import { describe, expect, it } from 'vitest';
import { numDriver, numTokens, phraseTokens } from '../../collector/storage/sqlite/num-tokens.js';
import { parseSearch, tokensOf } from '../../collector/query/lang/index.js';
import { rng } from '../helpers/rng.js';

/** The reference: words by the query language's tokensOf, diacritics folded, runs of three. */
function reference(message: string): string[] {
  const words = tokensOf(message).map((w) => w.normalize('NFD').replace(/\p{M}/gu, ''));
  const out: string[] = [];
  for (let i = 0; i + 2 < words.length; i++) {
    const run = words.slice(i, i + 3);
    if (run.every((w) => /^[0-9]{1,3}$/.test(w))) out.push(run.join('_'));
  }
  return out;
}

const split = (t: string) => (t === '' ? [] : t.split(' '));

describe('number-run tokens', () => {
  it.each([
    ['from 10.0.0.1 port 22', ['10_0_0', '0_0_1']],
    ['10.0.0.1:22', ['10_0_0', '0_0_1', '0_1_22']],
    ['10-0-0-1', ['10_0_0', '0_0_1']],
    ['10 0 0 1', ['10_0_0', '0_0_1']],
    ['at 23:40:46 done', ['23_40_46']],
    ['HTTP/1.1" 200 5120', ['1_1_200']],
    ['10.0.0.10', ['10_0_0', '0_0_10']],
    ['1.1 and 10.12', []],
    ['v1.2.3', []], // v1 is a word with letters: the run is 2 3
    ['1.2.3.4567', ['1_2_3']], // 4567 is not short
    ['1.2.x.3.4', []],
    ['ip=10.1.2.3,', ['10_1_2', '1_2_3']],
    ['', []],
    ['no digits here', []],
    ['café 1.2.3 naïve', ['1_2_3']],
    ['1\u0301.2.3', ['1_2_3']], // a digit with a combining accent is the digit (unicode61 removes it)
    ['١.٢.٣', []], // other digits are not ASCII: never short
    ['日本 7.8.9', ['7_8_9']],
  ])('%j → %j', (line, tokens) => {
    expect(split(numTokens(line))).toEqual(tokens);
    expect(reference(line)).toEqual(tokens);
  });

  it('the ASCII fast path finds the same tokens as the Unicode reference (seeded fuzz)', () => {
    const r = rng(13);
    const alphabet = ['1', '22', '333', '4444', '0', 'a', 'B', '.', ':', '-', ' ', '/', '=', '_', "'", 'é', '\u0301', '\t', 'x9'];
    for (let n = 0; n < 5000; n++) {
      let s = '';
      const len = Math.floor(r() * 24);
      for (let i = 0; i < len; i++) s += alphabet[Math.floor(r() * alphabet.length)];
      expect(split(numTokens(s)), JSON.stringify(s)).toEqual(reference(s));
    }
  });

  it('a phrase that occurs in a line has all its tokens among the line\'s', () => {
    const r = rng(5);
    const seps = ['.', ':', '-', ' ', ' - ', '/', '=', '_'];
    for (let n = 0; n < 2000; n++) {
      const nums = Array.from({ length: 3 + Math.floor(r() * 4) }, () => String(Math.floor(r() * (r() < 0.5 ? 10 : 1000))));
      const line = `pre${seps[Math.floor(r() * seps.length)]}${nums.map((x, i) => (i ? seps[Math.floor(r() * seps.length)] : '') + x).join('')} post 7`;
      const lineTokens = new Set(split(numTokens(line)));
      const from = Math.floor(r() * (nums.length - 2));
      const phrase = nums.slice(from, from + 3 + Math.floor(r() * (nums.length - from - 2)));
      for (const t of phraseTokens(phrase)) expect(lineTokens.has(t), `${t} of ${phrase.join('.')} in ${line}`).toBe(true);
    }
  });

  it('phrases: runs of three or more short numbers', () => {
    expect(phraseTokens(['10', '0', '0', '1'])).toEqual(['10_0_0', '0_0_1']);
    expect(phraseTokens(['10', '12'])).toEqual([]);
    expect(phraseTokens(['api', 'v1', 'users'])).toEqual([]);
    expect(phraseTokens(['1', '2', 'x', '3', '4', '5'])).toEqual(['3_4_5']);
    expect(phraseTokens(['1', '2', '3', '1000'])).toEqual(['1_2_3']);
  });

  it('a search\'s driver ANDs the tokens of the terms it requires, nothing it negates or ORs', () => {
    const d = (q: string) => numDriver(parseSearch(q).text);
    expect(d('10.0.0.1')).toBe('"10_0_0" AND "0_0_1"');
    expect(d('10.0.0.1 failed 23:40:46')).toBe('"10_0_0" AND "0_0_1" AND "23_40_46"');
    expect(d('"10 0 0 1"')).toBe('"10_0_0" AND "0_0_1"');
    expect(d('host:web-1 10.0.0.1')).toBe('"10_0_0" AND "0_0_1"');
    expect(d('failed -10.0.0.1')).toBeNull();
    expect(d('10.0.0.1 OR 10.0.0.2')).toBeNull();
    expect(d('/api/v1/users')).toBeNull();
    expect(d('user@example.com')).toBeNull();
    // a prefix's last word may be longer: 10.0.0.12* also finds 10.0.0.123
    expect(d('10.0.0.12*')).toBe('"10_0_0"');
    expect(d('10.12*')).toBeNull();
  });
});

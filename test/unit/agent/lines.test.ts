// Line splitting, table-driven: newline rules, CRLF, overlong lines, invalid UTF-8, partial tails.
import { describe, expect, it } from 'vitest';
import { splitLines, utf8Boundary, type RawLine } from '../../../agent/sources/file/lines.js';

function split(input: Buffer | string, opts: { max?: number; final?: boolean; base?: number; skipping?: boolean } = {}) {
  const buf = typeof input === 'string' ? Buffer.from(input, 'utf8') : input;
  const out: RawLine[] = [];
  const state = { skipping: opts.skipping ?? false };
  const used = splitLines(buf, buf.length, opts.base ?? 0, state, { maxLineBytes: opts.max ?? 64, final: opts.final ?? false }, out);
  return { used, lines: out.map((l) => [l.offset, l.end, l.text, l.truncated] as const), skipping: state.skipping };
}

describe('splitLines', () => {
  it.each([
    ['one line', 'a\n', { used: 2, lines: [[0, 2, 'a', false]] }],
    ['two lines', 'ab\ncd\n', { used: 6, lines: [[0, 3, 'ab', false], [3, 6, 'cd', false]] }],
    ['CRLF tolerated', 'ab\r\ncd\r\n', { used: 8, lines: [[0, 4, 'ab', false], [4, 8, 'cd', false]] }],
    ['lone CR kept inside a line', 'a\rb\n', { used: 4, lines: [[0, 4, 'a\rb', false]] }],
    ['empty lines are lines', '\n\n', { used: 2, lines: [[0, 1, '', false], [1, 2, '', false]] }],
    ['unterminated tail waits', 'ab\ncd', { used: 3, lines: [[0, 3, 'ab', false]] }],
    ['only a partial line', 'abc', { used: 0, lines: [] }],
  ] as const)('%s', (_name, input, want) => {
    const got = split(input);
    expect({ used: got.used, lines: got.lines }).toEqual(want);
  });

  it('emits an unterminated tail when final', () => {
    expect(split('ab\ncd\r', { final: true }).lines).toEqual([
      [0, 3, 'ab', false],
      [3, 6, 'cd', false],
    ]);
  });

  it('stops at maxLines and leaves the rest to be read again', () => {
    const buf = Buffer.from('a\nb\nc\n');
    const out: RawLine[] = [];
    const used = splitLines(buf, buf.length, 0, { skipping: false }, { maxLineBytes: 64, final: false, maxLines: 2 }, out);
    expect(out.map((l) => l.text)).toEqual(['a', 'b']);
    expect(used).toBe(4);
  });

  it('offsets are file offsets from the base', () => {
    expect(split('x\ny\n', { base: 1000 }).lines).toEqual([
      [1000, 1002, 'x', false],
      [1002, 1004, 'y', false],
    ]);
  });

  it('cuts an overlong line, marks it truncated and goes on with the next line', () => {
    const long = 'L'.repeat(100);
    const got = split(`${long}\nnext\n`, { max: 10 });
    expect(got.lines).toEqual([
      [0, 101, 'L'.repeat(10), true],
      [101, 106, 'next', false],
    ]);
    expect(got.used).toBe(106);
  });

  it('an overlong line without its newline yet: head emitted, the rest skipped across reads', () => {
    const first = split('H'.repeat(30), { max: 10 });
    expect(first.lines).toEqual([[0, 30, 'H'.repeat(10), true]]);
    expect(first.used).toBe(30);
    expect(first.skipping).toBe(true);
    const second = split('HHHH\nok\n', { max: 10, base: 30, skipping: true });
    expect(second.lines).toEqual([[35, 38, 'ok', false]]);
    expect(second.skipping).toBe(false);
    expect(second.used).toBe(8);
    const stillSkipping = split('HHHH', { max: 10, base: 30, skipping: true });
    expect(stillSkipping).toEqual({ used: 4, lines: [], skipping: true });
  });

  it('never cuts inside a UTF-8 character', () => {
    const line = 'ab' + 'é'.repeat(10); // é is 2 bytes
    const got = split(line + '\n', { max: 5 });
    expect(got.lines[0]![2]).toBe('abé');
    expect(got.lines[0]![3]).toBe(true);
    expect(utf8Boundary(Buffer.from('aé'), 0, 2)).toBe(1);
  });

  it.each([
    ['invalid byte', Buffer.from([0x61, 0xff, 0x62, 0x0a]), 'a\ufffdb'],
    ['truncated sequence', Buffer.from([0x61, 0xe2, 0x82, 0x0a]), 'a\ufffd'],
    ['overlong encoding', Buffer.from([0xc0, 0xaf, 0x0a]), '\ufffd\ufffd'],
    ['valid multibyte kept', Buffer.from('€ ü\n', 'utf8'), '€ ü'],
  ] as const)('invalid UTF-8 is replaced, never rejected: %s', (_n, buf, text) => {
    const got = split(buf);
    expect(got.lines).toHaveLength(1);
    expect(got.lines[0]![2]).toBe(text);
    expect(got.lines[0]![1]).toBe(buf.length);
  });

  it('byte offsets stay right after a non-ASCII line', () => {
    const got = split('é\nz\n');
    expect(got.lines).toEqual([
      [0, 3, 'é', false],
      [3, 5, 'z', false],
    ]);
  });
});

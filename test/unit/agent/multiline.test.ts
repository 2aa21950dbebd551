// Multiline joining by a start pattern: stack traces become one event; limits hold.
import { describe, expect, it } from 'vitest';
import type { RawLine } from '../../../agent/sources/file/lines.js';
import { MultilineJoiner } from '../../../agent/sources/file/multiline.js';

function lines(texts: string[], base = 0): RawLine[] {
  let off = base;
  return texts.map((text) => {
    const l = { offset: off, end: off + Buffer.byteLength(text) + 1, text, truncated: false };
    off = l.end;
    return l;
  });
}

const start = /^\d{4}-\d\d-\d\d /;

describe('MultilineJoiner', () => {
  it('joins continuation lines onto the start line and holds the last event', () => {
    const j = new MultilineJoiner({ start, maxLines: 100, maxBytes: 1000 });
    const out: RawLine[] = [];
    j.push(lines(['2026-01-01 boom', '  at a()', '  at b()', '2026-01-01 next', '  at c()']), out);
    expect(out.map((e) => [e.offset, e.end, e.text])).toEqual([[0, 34, '2026-01-01 boom\n  at a()\n  at b()']]);
    expect(j.pendingOffset).toBe(34);
    j.flush(out);
    expect(out[1]).toMatchObject({ offset: 34, text: '2026-01-01 next\n  at c()', truncated: false });
    expect(j.pendingOffset).toBeUndefined();
  });

  it('continues an event across pushes (reads)', () => {
    const j = new MultilineJoiner({ start, maxLines: 100, maxBytes: 1000 });
    const out: RawLine[] = [];
    const all = lines(['2026-01-01 a', ' x', ' y', '2026-01-01 b']);
    j.push(all.slice(0, 2), out);
    j.push(all.slice(2), out);
    expect(out.map((e) => e.text)).toEqual(['2026-01-01 a\n x\n y']);
  });

  it('a continuation with no start line before it is an event of its own', () => {
    const j = new MultilineJoiner({ start, maxLines: 100, maxBytes: 1000 });
    const out: RawLine[] = [];
    j.push(lines(['  orphan', '2026-01-01 a']), out);
    expect(out.map((e) => e.text)).toEqual(['  orphan']);
  });

  it('cuts an event at max_lines and at the byte limit, marking the latter truncated', () => {
    const j = new MultilineJoiner({ start, maxLines: 3, maxBytes: 1000 });
    const out: RawLine[] = [];
    j.push(lines(['2026-01-01 a', '1', '2', '3', '4']), out);
    j.flush(out);
    expect(out.map((e) => e.text)).toEqual(['2026-01-01 a\n1\n2', '3\n4']);
    const k = new MultilineJoiner({ start, maxLines: 100, maxBytes: 20 });
    const out2: RawLine[] = [];
    k.push(lines(['2026-01-01 a', 'continuation that is long']), out2);
    k.flush(out2);
    expect(out2[0]!.text.length).toBeLessThanOrEqual(20);
    expect(out2[0]!.truncated).toBe(true);
  });
});

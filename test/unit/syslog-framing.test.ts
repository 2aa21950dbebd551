// RFC 6587 framing, table-driven: the bytes a connection delivers and the frames expected.
// Every case is also fed one byte at a time, so frame boundaries never depend on chunking.
import { describe, expect, it } from 'vitest';
import { Framer, type Frame } from '../../collector/receivers/syslog/framing.js';

const MAX = 64;

interface Out {
  text: string;
  framing: Frame['framing'];
  truncated?: boolean;
  partial?: boolean;
}

function run(input: Buffer, chunk: number, max = MAX): { frames: Out[]; mismatches: number; peak: number } {
  const frames: Out[] = [];
  let mismatches = 0;
  let peak = 0;
  const f = new Framer(max, {
    frame: (fr) => frames.push({ text: fr.bytes.toString('latin1'), framing: fr.framing, ...(fr.truncated ? { truncated: true } : {}), ...(fr.partial ? { partial: true } : {}) }),
    countMismatch: () => mismatches++,
  });
  for (let i = 0; i < input.length; i += chunk) {
    f.push(input.subarray(i, i + chunk));
    peak = Math.max(peak, f.buffered);
  }
  f.end();
  return { frames, mismatches, peak };
}

const oc = (m: string) => `${Buffer.byteLength(m)} ${m}`;

const cases: Array<{ name: string; input: string | Buffer; want: Out[]; mismatches?: number }> = [
  { name: 'LF framing', input: '<13>a\n<14>b\n', want: [{ text: '<13>a', framing: 'lf' }, { text: '<14>b', framing: 'lf' }] },
  { name: 'CRLF and NUL trailers', input: '<13>a\r\n<14>b\0<15>c\n', want: [{ text: '<13>a', framing: 'lf' }, { text: '<14>b', framing: 'lf' }, { text: '<15>c', framing: 'lf' }] },
  {
    // the framer finds a chunk's NULs once, not per line: each one still ends its line, before or after LFs
    name: 'NULs and LFs interleaved in one chunk',
    input: '<13>a\0<14>b\0\0<15>c\n<16>d\n<17>e\0\n<18>f\n',
    want: ['<13>a', '<14>b', '<15>c', '<16>d', '<17>e', '<18>f'].map((text) => ({ text, framing: 'lf' })),
  },
  { name: 'octet counting without separators', input: oc('<13>1 - - - - - - one') + oc('<13>1 - - - - - - two'), want: [{ text: '<13>1 - - - - - - one', framing: 'octet' }, { text: '<13>1 - - - - - - two', framing: 'octet' }] },
  { name: 'octet counting keeps an embedded LF', input: oc('<13>a\nb'), want: [{ text: '<13>a\nb', framing: 'octet' }] },
  { name: 'framing chosen per frame', input: oc('<13>x') + '<14>y\n' + oc('<15>z') + '\n', want: [{ text: '<13>x', framing: 'octet' }, { text: '<14>y', framing: 'lf' }, { text: '<15>z', framing: 'octet' }] },
  { name: 'a line starting with digits but no `LEN SP` is LF-framed', input: '2026-01-12T11:15:58+00:00 h p: m\n', want: [{ text: '2026-01-12T11:15:58+00:00 h p: m', framing: 'lf' }] },
  { name: 'count with a leading zero is not a count', input: '012 abc\n', want: [{ text: '012 abc', framing: 'lf' }] },
  {
    name: 'count too small: the tail becomes a line of its own, counted',
    input: '5 <13>hello\n' + oc('<14>ok'),
    want: [{ text: '<13>h', framing: 'octet' }, { text: 'ello', framing: 'lf' }, { text: '<14>ok', framing: 'octet' }],
    mismatches: 1,
  },
  {
    name: 'count too large swallowing LF-framed frames: resynchronised at the LF',
    input: '40 <13>first\n<14>second\n<15>third\n<16>fourth\n',
    want: [{ text: '<13>first', framing: 'octet' }, { text: '<14>second', framing: 'lf' }, { text: '<15>third', framing: 'lf' }, { text: '<16>fourth', framing: 'lf' }],
    mismatches: 1,
  },
  {
    name: 'count larger than what the connection ever sends: partial frame at the end',
    input: '50 <13>half',
    want: [{ text: '<13>half', framing: 'octet', partial: true }],
  },
  { name: 'LF frame cut by the end of the connection', input: '<13>a\n<14>no newline', want: [{ text: '<13>a', framing: 'lf' }, { text: '<14>no newline', framing: 'lf', partial: true }] },
  {
    name: 'frame over the cap (octet): first MAX bytes kept, marked, rest skipped',
    input: oc('<13>' + 'x'.repeat(200)) + oc('<14>after'),
    want: [{ text: ('<13>' + 'x'.repeat(200)).slice(0, MAX), framing: 'octet', truncated: true }, { text: '<14>after', framing: 'octet' }],
  },
  {
    name: 'frame over the cap (LF): first MAX bytes kept, rest skipped to the LF',
    input: '<13>' + 'y'.repeat(300) + '\n<14>after\n',
    want: [{ text: ('<13>' + 'y'.repeat(300)).slice(0, MAX), framing: 'lf', truncated: true }, { text: '<14>after', framing: 'lf' }],
  },
  { name: 'blank lines between frames are skipped', input: '\n\n\r\n<13>a\n\n', want: [{ text: '<13>a', framing: 'lf' }] },
  { name: 'an absurd count is skipped, not allocated', input: '9999999999 ' + 'z'.repeat(100), want: [{ text: 'z'.repeat(MAX), framing: 'octet', truncated: true, partial: true }] },
];

describe('RFC 6587 framer', () => {
  it.each(cases)('$name', ({ input, want, mismatches }) => {
    const buf = typeof input === 'string' ? Buffer.from(input, 'latin1') : input;
    for (const chunk of [buf.length || 1, 7, 1]) {
      const got = run(buf, chunk);
      expect(got.frames, `chunk size ${chunk}`).toEqual(want);
      expect(got.mismatches, `chunk size ${chunk}`).toBe(mismatches ?? 0);
      expect(got.peak).toBeLessThanOrEqual(MAX);
    }
  });

  it('holds at most the cap whatever the sender does (1 MB frame, 64 KiB cap)', () => {
    const big = Buffer.concat([Buffer.from('1048576 '), Buffer.alloc(1048576, 0x61), Buffer.from(oc('<13>next'))]);
    const got = run(big, 65536, 65536);
    expect(got.peak).toBeLessThanOrEqual(65536);
    expect(got.frames.map((f) => [f.text.length, f.truncated ?? false])).toEqual([[65536, true], [8, false]]);
  });
});

/** Octet-counted frames nested `depth` deep: each level is `LEN SP <13>x LF` and the level inside. */
function nested(depth: number): string {
  let f = '<13>x';
  for (let d = 0; d < depth; d++) {
    const g = '<13>x\n' + f;
    f = `${g.length} ${g}`;
  }
  return f;
}

describe('nested octet counts (issue 12, item 6)', () => {
  const cap = 64 * 1024;

  it('a frame whose count is right is one message, whatever counts it contains (5,300 levels, 62 KB)', () => {
    const input = nested(5300);
    expect(input.length).toBeGreaterThan(60_000);
    expect(input.length).toBeLessThan(cap);
    const content = input.slice(input.indexOf(' ') + 1);
    for (const chunk of [input.length, 4096, 7]) {
      // two outer frames back to back, and one more LF-framed line after them
      const got = run(Buffer.from(input + input + '<14>after\n', 'latin1'), chunk, cap);
      expect(got.frames.map((f) => [f.framing, f.text.length])).toEqual([
        ['octet', content.length],
        ['octet', content.length],
        ['lf', '<14>after'.length],
      ]);
      expect(got.frames[0]!.text).toBe(content);
      expect(got.mismatches).toBe(0);
    }
  });

  it('costs time linear in the input: 1 MB of nested frames framed in well under a second', () => {
    // 1,000 levels make a 12 KB frame; 85 of them about 1 MB. Re-framing each level's content
    // (copying it) is quadratic: ~0.5 GB of copies here.
    const one = nested(1000);
    const input = Buffer.from(one.repeat(Math.ceil((1 << 20) / one.length)), 'latin1');
    const frames = Math.ceil((1 << 20) / one.length);
    const started = process.hrtime.bigint();
    const got = run(input, 65536, cap);
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    expect(got.frames).toHaveLength(frames);
    expect(ms).toBeLessThan(1000);
  });

  it('a lying count is repaired once: what it swallowed is read as lines, nested counts in it are text', () => {
    // the count claims 500 bytes; the connection ends first
    const inner = nested(3);
    const got = run(Buffer.from(`500 <13>head\n${inner}\n<14>tail\n`, 'latin1'), 1, cap);
    expect(got.frames.map((f) => f.text)).toEqual(['<13>head', ...inner.split('\n'), '<14>tail']);
    expect(got.mismatches).toBe(1);
  });

  it('an honest multi-line frame is held only until the next frame starts', () => {
    const frames: string[] = [];
    const f = new Framer(MAX, { frame: (fr) => frames.push(fr.bytes.toString('latin1')), countMismatch: () => {} });
    f.push(Buffer.from(oc('<13>a\n<14>b')));
    expect(frames).toEqual([]);
    expect(f.buffered).toBe('<13>a\n<14>b'.length);
    f.push(Buffer.from('\n<15>c\n'));
    expect(frames).toEqual(['<13>a\n<14>b', '<15>c']);
    f.push(Buffer.from(oc('<13>x\n<14>y') + oc('<15>z')));
    f.end();
    expect(frames.slice(2)).toEqual(['<13>x\n<14>y', '<15>z']);
  });

  it('settle (the connection went quiet) releases a held frame whole; the bytes after it are framed as usual', () => {
    const frames: string[] = [];
    let mismatches = 0;
    const f = new Framer(MAX, { frame: (fr) => frames.push(fr.bytes.toString('latin1')), countMismatch: () => mismatches++ });
    f.push(Buffer.from(oc('<13>a\n<14>b')));
    expect(f.holding).toBe(true);
    f.settle();
    expect(f.holding).toBe(false);
    expect(frames).toEqual(['<13>a\n<14>b']);
    expect(f.buffered).toBe(0);
    f.push(Buffer.from(oc('<15>c') + '<16>d\n'));
    f.settle();
    f.end();
    expect(frames).toEqual(['<13>a\n<14>b', '<15>c', '<16>d']);
    expect(mismatches).toBe(0);
  });
});

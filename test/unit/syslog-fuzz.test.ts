// Seeded random input (replayable): the framer never throws and never holds more than its cap,
// and the parser returns a valid line for anything, so neither can take the receiver down.
import { describe, expect, it } from 'vitest';
import { Framer } from '../../collector/receivers/syslog/framing.js';
import { parseLine, parseSyslogFrame } from '../../shared/logline/index.js';
import { rng } from '../helpers/rng.js';

const PIECES = ['<13>', '<191>', '<999>', '1 ', '12 ', '99999 ', '\n', '\r\n', '\0', ' ', 'Oct  1 12:34:56 ', 'Feb 29 ', '2026-01-12T11:15:58.1+00:00 ', '- ', '[a@1 b="c\\"]"] ', 'host ', 'sshd[1]: ', '\uFEFF', 'é', '\uD800', 'msg'];

describe('fuzz', () => {
  it.each([1, 2, 3, 4, 5])('framer, seed %i: no throw, frames and buffer within the cap', (seed) => {
    const r = rng(seed);
    const max = 256;
    let frames = 0;
    let peak = 0;
    const f = new Framer(max, { frame: (fr) => (frames++, expect(fr.bytes.length).toBeLessThanOrEqual(max)), countMismatch: () => {} });
    for (let i = 0; i < 2000; i++) {
      const parts: Buffer[] = [];
      const k = Math.floor(r() * 8);
      for (let j = 0; j < k; j++) {
        parts.push(r() < 0.3 ? Buffer.from(Array.from({ length: Math.floor(r() * 300) }, () => Math.floor(r() * 256))) : Buffer.from(PIECES[Math.floor(r() * PIECES.length)]!));
      }
      f.push(Buffer.concat(parts));
      peak = Math.max(peak, f.buffered);
    }
    f.end();
    expect(peak).toBeLessThanOrEqual(max);
    expect(frames).toBeGreaterThan(0);
  });

  it.each([1, 2, 3])('parser, seed %i: a valid line for any text', (seed) => {
    const r = rng(seed);
    for (let i = 0; i < 2000; i++) {
      let text = '';
      const k = Math.floor(r() * 10);
      for (let j = 0; j < k; j++) text += r() < 0.2 ? String.fromCharCode(Math.floor(r() * 0x3000)) : PIECES[Math.floor(r() * PIECES.length)]!;
      const now = Date.UTC(2020, 0, 1) + Math.floor(r() * 10 * 365 * 86_400_000);
      for (const line of [parseLine(text, { now }), parseSyslogFrame(text, { now, timeZone: 'Europe/Berlin' })]) {
        expect(Number.isFinite(line.ts)).toBe(true);
        expect(Math.abs(line.ts - now)).toBeLessThan(9 * 366 * 86_400_000 + 1);
        expect(line.severity).toBeGreaterThanOrEqual(0);
        expect(line.severity).toBeLessThanOrEqual(7);
        if (line.facility !== undefined) expect(line.facility).toBeLessThanOrEqual(23);
        expect(typeof line.message).toBe('string');
      }
    }
  });
});

// severityFromWords (plain.ts) looks for level words with one case-insensitive scan first and
// asks its ordered table only when that finds one: the answers must be the table's alone.
import { describe, expect, it } from 'vitest';
import { severityFromWords } from '../../shared/logline/plain.js';
import { rng } from '../helpers/rng.js';

// The table as it was before the first scan, the reference.
const TABLE: Array<[RegExp, number]> = [
  [/\b(?:FATAL|PANIC|EMERG(?:ENCY)?)\b/i, 0],
  [/\b(?:ALERT)\b/, 1],
  [/\b(?:CRIT(?:ICAL)?)\b/i, 2],
  [/\b(?:ERROR|ERR|SEVERE)\b/, 3],
  [/\b(?:error|Error)\b/, 3],
  [/\b(?:WARN(?:ING)?|Warn(?:ing)?|warn(?:ing)?)\b/, 4],
  [/\b(?:NOTICE)\b/, 5],
  [/\b(?:DEBUG|TRACE)\b/i, 7],
];
function reference(text: string, fallback = 6): number {
  const head = text.slice(0, 200);
  for (const [re, sev] of TABLE) if (re.test(head)) return sev;
  return fallback;
}

const WORDS = ['FATAL', 'fatal', 'Panic', 'emergency', 'ALERT', 'alert', 'Alert', 'crit', 'CRITICAL', 'ERROR', 'Error', 'error', 'ERR', 'err', 'eRRor', 'SEVERE', 'severe',
  'WARN', 'Warning', 'warning', 'WaRn', 'NOTICE', 'notice', 'DEBUG', 'trace', 'info', 'errors', 'xERROR', 'ERROR_1', 'WARN2', 'ſevere', 'requeſt', 'é', 'request', '42', 'ms'];
const SEPS = [' ', ' ', '-', '_', ':', '[', ']', '\t', 'é', '.'];

describe('severityFromWords', () => {
  it.each([1, 2, 3])('seed %i: the same severity as the ordered table alone', (seed) => {
    const r = rng(seed);
    for (let i = 0; i < 5000; i++) {
      let text = '';
      const n = 1 + Math.floor(r() * 12);
      for (let j = 0; j < n; j++) text += (r() < 0.3 ? WORDS[Math.floor(r() * WORDS.length)]! : 'lorem') + SEPS[Math.floor(r() * SEPS.length)]!;
      if (r() < 0.1) text = 'x'.repeat(190 + Math.floor(r() * 20)) + ' ERROR ' + text; // a word across the 200-character head
      expect(severityFromWords(text), JSON.stringify(text)).toBe(reference(text));
      expect(severityFromWords(text, 5)).toBe(reference(text, 5));
    }
  });

  it('names the first word of the table, not the first in the line', () => {
    expect(severityFromWords('debug: then an ERROR')).toBe(3);
    expect(severityFromWords('request 1 served in 2 ms')).toBe(6);
    expect(severityFromWords('request 1 served in 2 ms', 5)).toBe(5);
  });
});

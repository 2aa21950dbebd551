// Structured lines (issue 13): a corpus of real formats (test/fixtures/structured-lines.json) with
// the expected time, severity, message and fields of each line, read through the same entry
// points as the agent (parseLine) and the collector's syslog receiver (parseSyslogFrame). Plus
// the bounds: a JSON line of 10,000 keys or deep nesting costs bounded fields and time.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseLine, parseSyslogFrame, type ParsedLine, type ParserMode } from '../../shared/logline/index.js';
import { MAX_FIELDS, MAX_KEY, MAX_VALUE, TRUNCATED_KEY } from '../../shared/logline/fields.js';
import { leadingTime, timeFromValue } from '../../shared/logline/timestamps.js';
import { Severity, type SeverityName } from '../../shared/wire.js';
import { Value } from '@sinclair/typebox/value';
import { WireLine } from '../../shared/wire.js';
import { AgentConfig } from '../../agent/config.js';

interface Case {
  group: string;
  name: string;
  line: string;
  ts: string;
  severity: SeverityName;
  message?: string;
  fields?: Record<string, string>;
  program?: string;
  zone?: string;
  parser?: ParserMode;
  network?: boolean;
}

const corpus = JSON.parse(readFileSync(new URL('../fixtures/structured-lines.json', import.meta.url), 'utf8')) as { now: string; cases: Case[] };
const NOW = Date.parse(corpus.now);

function parse(c: Pick<Case, 'line' | 'zone' | 'parser' | 'network'>): ParsedLine {
  const opts = { now: NOW, timeZone: c.zone ?? 'UTC', ...(c.parser ? { parser: c.parser } : {}) };
  return (c.network ? parseSyslogFrame : parseLine)(c.line, opts);
}

describe('corpus of real formats', () => {
  it('covers the formats the issue names', () => {
    const groups = new Set(corpus.cases.map((c) => c.group));
    for (const g of ['nginx', 'apache', 'postgresql', 'mysql', 'redis', 'dpkg', 'java', 'python', 'go', 'pino', 'bunyan', 'docker', 'journald']) expect(groups).toContain(g);
  });

  it.each(corpus.cases.map((c) => [`${c.group}: ${c.name}`, c] as const))('%s', (_n, c) => {
    const got = parse(c);
    expect({
      ts: got.ts === NOW ? 'read' : new Date(got.ts).toISOString(),
      severity: got.severity,
      message: got.message,
      fields: got.fields,
    }).toEqual({
      ts: c.ts,
      severity: Severity[c.severity],
      message: c.message ?? c.line,
      fields: c.fields,
    });
    if (c.program !== undefined) expect(got.program).toBe(c.program);
  });
});

describe('bounds', () => {
  it('a JSON line of 10,000 keys keeps 63 fields and the mark, and says how many it lost', () => {
    const obj: Record<string, unknown> = { level: 40, msg: 'wide' };
    for (let i = 0; i < 10_000; i++) obj[`k${i}`] = i;
    const t0 = performance.now();
    const got = parseLine(JSON.stringify(obj), { now: NOW });
    expect(performance.now() - t0).toBeLessThan(500);
    expect(got.severity).toBe(Severity.warning);
    expect(got.message).toBe('wide');
    expect(Object.keys(got.fields!)).toHaveLength(MAX_FIELDS);
    expect(got.fields!.k0).toBe('0');
    expect(got.fields!.k62).toBe('62');
    expect(got.fields![TRUNCATED_KEY]).toBe(String(10_000 - (MAX_FIELDS - 1)));
    expect(got.fieldsTruncated).toBe(10_000 - (MAX_FIELDS - 1));
  });

  it('100 levels of nesting: flattened to a depth, the rest kept as JSON text', () => {
    let inner: unknown = 'deep';
    for (let i = 0; i < 100; i++) inner = { n: inner };
    const got = parseLine(JSON.stringify({ msg: 'nested', a: inner }), { now: NOW });
    expect(got.message).toBe('nested');
    const [key, value] = Object.entries(got.fields!)[0]!;
    expect(key).toBe(`a${'.n'.repeat(7)}`);
    expect(value.startsWith('{"n":{"n":')).toBe(true);
    expect(value.endsWith('"deep"' + '}'.repeat(93))).toBe(true);
  });

  it('nesting deeper than the stack is no crash', () => {
    const depth = 30_000;
    const line = `{"msg":"x","a":${'['.repeat(depth)}${']'.repeat(depth)}}`;
    const got = parseLine(line, { now: NOW });
    expect(got.message).toBe('x');
    expect(got.fields!.a!.length).toBeGreaterThan(0);
  });

  it('long keys and values are cut in UTF-8 bytes on a character boundary, counted, and the line validates', () => {
    const long = 'v'.repeat(MAX_VALUE + 10);
    const key = 'k'.repeat(MAX_KEY + 5);
    // 'é' is 2 bytes: 1023 bytes of 'a' then 'é' would end at byte 1025, so the cut keeps 1023
    const accented = 'a'.repeat(MAX_VALUE - 1) + 'é' + 'b';
    const got = parseLine(JSON.stringify({ msg: 'big', [key]: 'x', value: long, accented }), { now: NOW });
    expect(got.fields![key.slice(0, MAX_KEY)]).toBe('x');
    expect(got.fields!.value).toHaveLength(MAX_VALUE);
    expect(got.fields!.accented).toBe('a'.repeat(MAX_VALUE - 1));
    expect(got.fields![TRUNCATED_KEY]).toBe('3');
    const wire = { offset: 0, ts: got.ts, severity: got.severity, message: got.message, fields: got.fields };
    expect(Value.Check(WireLine, wire)).toBe(true);
  });

  it('a logfmt line of 5,000 pairs is bounded too', () => {
    const line = `level=info msg=wide ${Array.from({ length: 5000 }, (_, i) => `k${i}=${i}`).join(' ')}`;
    const got = parseLine(line, { now: NOW });
    expect(got.format).toBe('logfmt');
    expect(Object.keys(got.fields!)).toHaveLength(MAX_FIELDS);
    expect(Number(got.fields![TRUNCATED_KEY])).toBeGreaterThan(0);
  });

  it('a line of exactly 64 fields keeps them all, unmarked; 65 keep 63 and the mark', () => {
    const keys = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, i]));
    expect(Object.keys(parseLine(JSON.stringify({ msg: 'x', ...keys(64) }), { now: NOW }).fields!)).toHaveLength(64);
    const over = parseLine(JSON.stringify({ msg: 'x', ...keys(65) }), { now: NOW }).fields!;
    expect(Object.keys(over)).toHaveLength(64);
    expect(over[TRUNCATED_KEY]).toBe('2');
  });

  it('a __proto__ key is a field, not a prototype', () => {
    const got = parseLine('{"msg":"x","__proto__":{"polluted":"yes"},"constructor":"c"}', { now: NOW });
    expect(got.fields).toEqual({ '__proto__.polluted': 'yes', constructor: 'c' });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('malformed JSON of every prefix length stays a line with the text as message', () => {
    const full = '{"level":50,"time":1796600446123,"msg":"request failed","req":{"id":7}}';
    for (let i = 1; i < full.length; i++) {
      const got = parseLine(full.slice(0, i), { now: NOW });
      expect(got.message).toBe(full.slice(0, i));
      expect(got.ts).toBe(NOW);
    }
  });
});

describe('timestamps', () => {
  it('numbers by size: seconds, ms, µs, ns', () => {
    const ms = Date.UTC(2026, 11, 6, 23, 40, 46, 123);
    expect(timeFromValue(ms / 1000, 'UTC', NOW)).toBe(ms);
    expect(timeFromValue(ms, 'UTC', NOW)).toBe(ms);
    expect(timeFromValue(String(ms * 1000), 'UTC', NOW)).toBe(ms);
    expect(timeFromValue(`${ms}000000`, 'UTC', NOW)).toBe(ms);
    expect(timeFromValue(0, 'UTC', NOW)).toBeUndefined();
    expect(timeFromValue('2026-12-06T23:40:46.123Z trailing', 'UTC', NOW)).toBeUndefined();
  });

  it('a zone-less stamp across a DST change is read in the source zone', () => {
    // Europe/Berlin: CEST (+02:00) in July, CET (+01:00) in December.
    expect(leadingTime('2026-07-01 12:00:00 x', 'Europe/Berlin', NOW)!.ts).toBe(Date.UTC(2026, 6, 1, 10));
    expect(leadingTime('2026-12-01 12:00:00 x', 'Europe/Berlin', NOW)!.ts).toBe(Date.UTC(2026, 11, 1, 11));
  });

  it('glog on Jan 1 of a line written on Dec 31 lands in the previous year', () => {
    const jan1 = Date.UTC(2027, 0, 1, 0, 5);
    expect(leadingTime('I1231 23:59:00.000000 1 x.go:1] y', 'UTC', jan1)!.ts).toBe(Date.UTC(2026, 11, 31, 23, 59));
  });
});

describe('agent configuration', () => {
  it('sources[].parser defaults to auto and refuses an unknown parser', () => {
    const base = { collector: 'http://127.0.0.1:1', token: 'rt_agent_0123456789', sources: [{ paths: ['/var/log/*.log'] }] };
    const withDefaults = Value.Default(AgentConfig, structuredClone(base)) as { sources: Array<{ parser?: string }> };
    expect(withDefaults.sources[0]!.parser).toBe('auto');
    const bad = { ...base, sources: [{ paths: ['/x'], parser: 'xml' }] };
    expect(Value.Check(AgentConfig, Value.Default(AgentConfig, structuredClone(bad)))).toBe(false);
  });
});

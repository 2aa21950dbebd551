// The fast ingest check (collector/routes/batch-check.ts) may only say yes where TypeBox's compiled
// check of IngestBatch says yes: seeded random batches, valid ones and ones with one thing wrong
// (a missing or extra key, a wrong type, a value just past a bound), go through both as JSON.
// The fast check must also take the valid shapes agents send, or it would save nothing.
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { describe, expect, it } from 'vitest';
import { isIngestBatchFast } from '../../collector/routes/batch-check.js';
import { IngestBatch, MAX_PID, MAX_WIRE_INT, MAX_WIRE_TS } from '../../shared/wire.js';
import { rng } from '../helpers/rng.js';

const check = TypeCompiler.Compile(IngestBatch);
type R = () => number;
const pick = <T>(r: R, a: readonly T[]): T => a[Math.floor(r() * a.length)]!;

function line(r: R, offset: number): Record<string, unknown> {
  const l: Record<string, unknown> = { offset, ts: 1795000000000 + Math.floor(r() * 1e6), severity: Math.floor(r() * 8), message: pick(r, ['request 1 served', '', 'é ü \u2028 x', 'm'.repeat(300)]) };
  if (r() < 0.7) l.program = pick(r, ['app', '', 'p'.repeat(256)]);
  if (r() < 0.5) l.pid = Math.floor(r() * 70000);
  if (r() < 0.2) l.facility = Math.floor(r() * 24);
  if (r() < 0.2) l.truncated = r() < 0.5;
  if (r() < 0.3) l.fields = r() < 0.5 ? { user_id: '42', 'req.url': '/api' } : {};
  return l;
}

function batch(r: R): Record<string, unknown> {
  const segments = Array.from({ length: 1 + Math.floor(r() * 3) }, (_, s) => ({
    stream: `s${s}`,
    source: '/var/log/app.log',
    start: 0,
    end: 1000,
    lines: Array.from({ length: Math.floor(r() * 5) }, (_, i) => line(r, i * 10)),
  }));
  const b: Record<string, unknown> = { version: 1, agent_id: 'agent-1', host: 'web-1', segments };
  if (r() < 0.2) b.ephemeral = r() < 0.5;
  return b;
}

// Values that break one bound or type; `undefined` deletes the key.
const BAD: Record<string, unknown[]> = {
  version: [2, '1', undefined],
  agent_id: ['', 'a'.repeat(129), 7, undefined],
  host: ['', 'h'.repeat(256), 'bad\nhost', 'x\u007f', 5, undefined],
  ephemeral: ['yes', 1, null],
  segments: [{}, 'x', null, undefined],
  stream: ['', 's'.repeat(513), 1, undefined],
  source: ['', 's'.repeat(4097), undefined],
  start: [-1, 1.5, MAX_WIRE_INT + 1, '0', undefined],
  end: [-1, 0.5, 1e300, undefined],
  lines: [{}, null, 'x', undefined],
  offset: [-1, 0.5, MAX_WIRE_INT + 2, '1', undefined],
  ts: [MAX_WIRE_TS + 1, -MAX_WIRE_TS - 1, 1.5, null, undefined],
  severity: [8, -1, 2.5, '3', undefined],
  message: [5, null, 'm'.repeat(1_048_577), undefined],
  program: ['p'.repeat(257), 3, null],
  pid: [-1, MAX_PID + 1, 1.5, '1'],
  facility: [24, -1, 'x'],
  truncated: ['true', 1, null],
  fields: [null, [], 'x', { a: 1 }, { a: 'v'.repeat(8193) }, { 'k\nnl': 5 }, { __proto__: 'x' }],
  extra: [1, 'x', null],
};

function mutate(r: R, b: Record<string, unknown>): void {
  const key = pick(r, Object.keys(BAD));
  // a batch already broken at a level above gets its next fault at the top
  const segs = Array.isArray(b.segments) ? (b.segments as Array<Record<string, unknown>>).filter((s) => s !== null && typeof s === 'object') : [];
  let target: Record<string, unknown> = b;
  if (segs.length === 0) target = b;
  else if (['stream', 'source', 'start', 'end', 'lines'].includes(key) || (key === 'extra' && r() < 0.3)) target = pick(r, segs);
  else if (!['version', 'agent_id', 'host', 'ephemeral', 'segments'].includes(key) && !(key === 'extra' && r() < 0.3)) {
    const withLines = segs.filter((s) => Array.isArray(s.lines) && s.lines.length > 0);
    if (withLines.length === 0) return;
    target = pick(r, pick(r, withLines).lines as Array<Record<string, unknown>>);
  }
  const v = pick(r, BAD[key]!);
  if (v === undefined) delete target[key];
  else target[key] = v;
}

describe('isIngestBatchFast', () => {
  it.each([1, 2, 3, 4])('seed %i: says yes only where the schema says yes, and to every valid batch', (seed) => {
    const r = rng(seed);
    let fastYes = 0;
    let schemaYes = 0;
    for (let i = 0; i < 3000; i++) {
      const b = batch(r);
      const bad = r() < 0.6;
      if (bad) for (let k = 1 + Math.floor(r() * 2); k > 0; k--) mutate(r, b);
      // as the route gets it: parsed from JSON text
      const value: unknown = JSON.parse(JSON.stringify(b));
      const schema = check.Check(value);
      const fast = isIngestBatchFast(value);
      if (fast) expect(schema, JSON.stringify(value).slice(0, 300)).toBe(true);
      if (!bad) expect(fast, JSON.stringify(value).slice(0, 300)).toBe(true);
      fastYes += fast ? 1 : 0;
      schemaYes += schema ? 1 : 0;
    }
    expect(fastYes).toBeGreaterThan(1000);
    expect(schemaYes).toBeGreaterThan(fastYes - 1);
  });

  it('refuses an own __proto__ key and anything not made by JSON', () => {
    const ok = { version: 1, agent_id: 'a', host: 'h', segments: [{ stream: 's', source: '/x', start: 0, end: 10, lines: [{ offset: 0, ts: 1, severity: 6, message: 'm' }] }] };
    expect(isIngestBatchFast(JSON.parse(JSON.stringify(ok)))).toBe(true);
    const proto = JSON.parse(JSON.stringify(ok).replace('"message":"m"', '"message":"m","__proto__":{"x":1}'));
    expect(isIngestBatchFast(proto)).toBe(false);
    expect(check.Check(proto)).toBe(false);
    const dated = JSON.parse(JSON.stringify(ok));
    dated.segments[0].lines[0].fields = new Date();
    expect(isIngestBatchFast(dated)).toBe(false);
  });
});

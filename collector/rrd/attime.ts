// The subset of rrdtool's at-style times that scripts use for --start/--end: N or now,
// epoch seconds, `start`/`end` (also s/e) references, and any chain of ±N units after a
// base (`now-10s`, `end-1day`, `-2h`, `1000000000+5min`).
import { RrdError } from './errors.js';

export type AtTime = { kind: 'abs'; time: number } | { kind: 'start' | 'end'; offset: number };

const UNITS: Array<[RegExp, number | 'month' | 'year']> = [
  [/^(s|sec|secs|second|seconds)$/, 1],
  [/^(m|min|mins|minute|minutes)$/, 60],
  [/^(h|hr|hrs|hour|hours)$/, 3600],
  [/^(d|day|days)$/, 86400],
  [/^(w|wk|wks|week|weeks)$/, 604800],
  [/^(mon|mons|month|months)$/, 'month'],
  [/^(y|yr|yrs|year|years)$/, 'year'],
];

function addUnits(base: number, n: number, unit: string, what: string, spec: string): number {
  const u = UNITS.find(([re]) => re.test(unit.toLowerCase()))?.[1];
  if (u === undefined) throw new RrdError(`${what}: unparsable time: ${spec}`);
  if (typeof u === 'number') return base + n * u;
  const d = new Date(base * 1000);
  if (u === 'month') d.setUTCMonth(d.getUTCMonth() + n);
  else d.setUTCFullYear(d.getUTCFullYear() + n);
  return Math.floor(d.getTime() / 1000);
}

export function parseAtTime(spec: string, what: string, now: number): AtTime {
  const s = spec.trim();
  const m = /^(now|n|start|end|s|e|\d+)?((?:\s*[+-]\s*\d+\s*[a-zA-Z]*)*)$/i.exec(s);
  if (!m || s === '') throw new RrdError(`${what}: unparsable time: ${spec}`);
  const base = (m[1] ?? 'now').toLowerCase();
  let kind: AtTime['kind'] = 'abs';
  let t: number;
  if (base === 'now' || base === 'n') t = Math.floor(now);
  else if (base === 'start' || base === 's') (kind = 'start'), (t = 0);
  else if (base === 'end' || base === 'e') (kind = 'end'), (t = 0);
  else t = Number(base);
  const offsets = m[2] ?? '';
  for (const part of offsets.matchAll(/([+-])\s*(\d+)\s*([a-zA-Z]*)/g)) {
    const n = Number(part[2]) * (part[1] === '-' ? -1 : 1);
    t = part[3] ? addUnits(t, n, part[3], what, spec) : t + n;
  }
  return kind === 'abs' ? { kind, time: t } : { kind, offset: t };
}

/** rrdtool's proc_start_end: resolves start/end, each possibly relative to the other. */
export function resolveStartEnd(start: AtTime, end: AtTime): { start: number; end: number } {
  if (start.kind === 'end' && end.kind === 'start') throw new RrdError('the start and end times cannot be specified relative to each other');
  if (start.kind === 'start') throw new RrdError('the start time cannot be specified relative to itself');
  if (end.kind === 'end') throw new RrdError('the end time cannot be specified relative to itself');
  if (start.kind === 'end') {
    const e = (end as { time: number }).time;
    return { start: e + start.offset, end: e };
  }
  const s = (start as { time: number }).time;
  if (end.kind === 'start') return { start: s, end: s + end.offset };
  return { start: s, end: (end as { time: number }).time };
}

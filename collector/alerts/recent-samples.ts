// Recent samples of the series that alert rules watch, kept in memory as they are acknowledged
// by the metrics ingest. Reading a window from the round-robin store costs about a millisecond
// per series (a fetch), far too slow for thousands of rules every 10 s; a window over raw
// recent samples costs microseconds, and is what Prometheus evaluates too. Counters are turned
// into per-second rates on the way in, as the round-robin store would (COUNTER: a decrease is a
// reset and gives no rate; DERIVE may go negative; ABSOLUTE: value over the interval).
import type { MetricBatch } from '../../shared/wire.js';
import { metricKey } from '../metrics/key.js';

interface Series {
  t: number[];
  v: number[];
  /** last raw value and time, for rates */
  raw?: { t: number; v: number };
  /** the agent's sampling interval, for freshness */
  intervalMs: number;
}

export interface Wanted {
  /** metric keys some rule reads (`cpu.user`, `check.process.count{check=app}`) */
  keys: Set<string>;
  /** metric names whose every series some rule reads (`df.used_pct`: one per mount) */
  names?: Set<string>;
  /** longest window any rule reads, ms */
  keepMs: number;
  /** how long the samples of a name or key are kept (keepMs when absent): an hour of disk use need not mean an hour of everything */
  keep?: Map<string, number>;
  /** at least this many samples stay, whatever their age (checks down N times in a row, at any interval) */
  minCount?: number;
}

const MAX_PER_SERIES = 4096;
const TRIM_BATCH = 64;

export class RecentSamples {
  private readonly series = new Map<string, Series>();
  /** host → metric name → keys of that name, for rules over every series of a name */
  private readonly byName = new Map<string, Map<string, Set<string>>>();

  constructor(private readonly wanted: () => Wanted) {}

  private static id(host: string, key: string): string {
    return `${host}\u0000${key}`;
  }

  /** Feeds an acknowledged batch; only series some rule reads, and every check result, are kept. */
  record(batch: MetricBatch): void {
    const { keys, keepMs, names, keep, minCount } = this.wanted();
    const interval = batch.interval_ms ?? 10_000;
    for (const s of batch.samples) {
      const key = metricKey(s.name, s.labels);
      if (!keys.has(key) && !s.name.startsWith('check.') && !names?.has(s.name)) continue;
      const id = RecentSamples.id(batch.host, key);
      let ser = this.series.get(id);
      if (!ser) {
        this.series.set(id, (ser = { t: [], v: [], intervalMs: interval }));
        this.index(batch.host, s.name, key);
      }
      ser.intervalMs = interval;
      let value: number | null = s.value;
      if (s.type !== 'GAUGE') {
        const prev = ser.raw;
        ser.raw = { t: s.ts, v: s.value };
        if (!prev || s.ts <= prev.t) continue;
        const dt = (s.ts - prev.t) / 1000;
        if (s.type === 'ABSOLUTE') value = s.value / dt;
        else {
          const d = s.value - prev.v;
          value = s.type === 'COUNTER' && d < 0 ? null : d / dt;
        }
        if (value === null) continue;
      }
      const last = ser.t[ser.t.length - 1];
      if (last !== undefined && s.ts <= last) continue; // redelivered
      ser.t.push(s.ts);
      ser.v.push(value);
      this.trim(ser, s.ts - (keep ? (keep.get(s.name) ?? keep.get(key) ?? 60_000) : keepMs), minCount ?? 1);
    }
  }

  private trim(ser: Series, before: number, minCount: number): void {
    let drop = 0;
    while (drop < ser.t.length - Math.max(1, minCount) && ser.t[drop]! < before) drop++;
    if (ser.t.length - drop > MAX_PER_SERIES) drop = ser.t.length - MAX_PER_SERIES;
    // Readers bound their windows by time, so old samples may wait: shifting the arrays on every
    // sample would cost a copy of the whole series per sample.
    if (drop >= TRIM_BATCH || (drop > 0 && ser.t.length > MAX_PER_SERIES)) {
      ser.t.splice(0, drop);
      ser.v.splice(0, drop);
    }
  }

  private index(host: string, name: string, key: string): void {
    let h = this.byName.get(host);
    if (!h) this.byName.set(host, (h = new Map()));
    let set = h.get(name);
    if (!set) h.set(name, (set = new Set()));
    set.add(key);
  }

  /** Keys of every series of this metric name the host sent since the collector started. */
  keysOf(host: string, name: string): Iterable<string> {
    return this.byName.get(host)?.get(name) ?? [];
  }

  /** What the rules read now (the same object until they change). */
  want(): Wanted {
    return this.wanted();
  }

  /** The longest window any rule reads, ms. */
  keepMs(): number {
    return this.wanted().keepMs;
  }

  has(host: string, key: string): boolean {
    return this.series.has(RecentSamples.id(host, key));
  }

  /** Seeds a series from the store (after a restart), so it is read from there only once. */
  seed(host: string, key: string, points: Array<{ t: number; v: number }>, intervalMs: number): void {
    const id = RecentSamples.id(host, key);
    if (this.series.has(id)) return;
    this.series.set(id, { t: points.map((p) => p.t), v: points.map((p) => p.v), intervalMs });
    const brace = key.indexOf('{');
    this.index(host, brace < 0 ? key : key.slice(0, brace), key);
  }

  /**
   * Appends points read from a shared store for a series another collector consolidates
   * (remote-series.ts): those after the series' last point, kept as long as recorded ones.
   */
  append(host: string, key: string, points: ReadonlyArray<{ t: number; v: number }>, intervalMs: number): void {
    const { keepMs, keep, minCount } = this.wanted();
    const id = RecentSamples.id(host, key);
    let ser = this.series.get(id);
    const brace = key.indexOf('{');
    const name = brace < 0 ? key : key.slice(0, brace);
    if (!ser) {
      this.series.set(id, (ser = { t: [], v: [], intervalMs }));
      this.index(host, name, key);
    }
    ser.intervalMs = intervalMs;
    for (const p of points) {
      const last = ser.t[ser.t.length - 1];
      if (last !== undefined && p.t <= last) continue;
      ser.t.push(p.t);
      ser.v.push(p.v);
    }
    const newest = ser.t[ser.t.length - 1];
    if (newest !== undefined) this.trim(ser, newest - (keep ? (keep.get(name) ?? keep.get(key) ?? 60_000) : keepMs), minCount ?? 1);
  }

  /** Times and values in (since, until], for trends. */
  points(host: string, key: string, since: number, until: number): { t: number[]; v: number[] } {
    const ser = this.series.get(RecentSamples.id(host, key));
    const t: number[] = [];
    const v: number[] = [];
    if (!ser) return { t, v };
    let i = ser.t.length - 1;
    while (i >= 0 && ser.t[i]! > since) i--;
    for (i++; i < ser.t.length && ser.t[i]! <= until; i++) {
      t.push(ser.t[i]!);
      v.push(ser.v[i]!);
    }
    return { t, v };
  }

  /** The last `n` values (fewer when the series is shorter), oldest first. */
  lastN(host: string, key: string, n: number): number[] {
    const ser = this.series.get(RecentSamples.id(host, key));
    return ser ? ser.v.slice(Math.max(0, ser.v.length - n)) : [];
  }

  /** Values with time in (since, until]. */
  window(host: string, key: string, since: number, until: number): number[] {
    const ser = this.series.get(RecentSamples.id(host, key));
    if (!ser) return [];
    const out: number[] = [];
    for (let i = ser.t.length - 1; i >= 0 && ser.t[i]! > since; i--) if (ser.t[i]! <= until) out.push(ser.v[i]!);
    return out.reverse();
  }

  /**
   * The window (since, until] consolidated as rrdtool's CFs, without copying it; null when it
   * holds no value or its values span less than `minSpanMs` (a young series, see min_coverage).
   */
  consolidated(host: string, key: string, since: number, until: number, cf: 'AVERAGE' | 'MIN' | 'MAX' | 'LAST', minSpanMs = 0): number | null {
    const ser = this.series.get(RecentSamples.id(host, key));
    if (!ser) return null;
    let n = 0;
    let sum = 0;
    let min = Infinity;
    let max = -Infinity;
    let last = NaN;
    let first = NaN;
    let newest = NaN;
    for (let i = ser.t.length - 1; i >= 0 && ser.t[i]! > since; i--) {
      if (ser.t[i]! > until) continue;
      const v = ser.v[i]!;
      if (Number.isNaN(v)) continue;
      if (n === 0) (last = v), (newest = ser.t[i]!);
      first = ser.t[i]!;
      n++;
      sum += v;
      if (v < min) min = v;
      if (v > max) max = v;
    }
    if (n === 0 || newest - first < minSpanMs) return null;
    return cf === 'AVERAGE' ? sum / n : cf === 'MIN' ? min : cf === 'MAX' ? max : last;
  }

  last(host: string, key: string): { t: number; v: number; intervalMs: number } | null {
    const ser = this.series.get(RecentSamples.id(host, key));
    if (!ser) return null;
    const i = ser.t.length - 1;
    if (i >= 0) return { t: ser.t[i]!, v: ser.v[i]!, intervalMs: ser.intervalMs };
    return ser.raw ? { t: ser.raw.t, v: NaN, intervalMs: ser.intervalMs } : null;
  }

  /** Drops series of hosts that were withdrawn. */
  forgetHost(host: string): void {
    for (const id of this.series.keys()) if (id.startsWith(host + '\u0000')) this.series.delete(id);
    this.byName.delete(host);
  }
}

// What a rule reads: the hosts it applies to in a cycle, the series it evaluates on each host,
// and the one value per instance that the state machine steps on (evaluator.ts). Also the log
// store questions a cycle will ask, so an asynchronous store can be read before it.
import { parseMetricKey } from '../metrics/key.js';
import type { HostDirectory } from './hosts.js';
import { CHECK_SERIES } from './metric-sources.js';
import { hoursToReach } from './predict.js';
import type { CompiledRule, Severity } from './rules.js';
import type { AlertSources, HostSeen, LogReads } from './sources.js';

/** a log rule counts its matches up to this many (enough to compare with min_count) */
export const logCap = (minCount: number | undefined) => Math.min(1000, Math.max(100, minCount ?? 1));

/** Whether a metric rule watches every series of its name (no labels given: `df.used_pct`). */
function perSeries(rule: CompiledRule): boolean {
  return (rule.spec.kind === 'metric' && !rule.spec.metric.includes('{')) || rule.checkGlob !== null;
}

/**
 * What arrived, for an evaluation on arrival: host → names of the samples just committed. Only
 * metric rules on one of those names and check rules on a check series among them are evaluated,
 * only for those hosts.
 */
export type Arrivals = Map<string, Set<string>>;

/** Whether samples of these names can change this rule's state (absence and log rules: never). */
export function arrivalCanChange(rule: CompiledRule, names: Set<string>): boolean {
  const r = rule.spec;
  const base = (m: string) => (m.includes('{') ? m.slice(0, m.indexOf('{')) : m);
  if (r.kind === 'metric') return names.has(base(r.metric)) || (r.divide_by !== undefined && names.has(base(r.divide_by)));
  if (r.kind === 'check') return (r.check_types ?? (['process', 'http', 'tcp'] as const)).some((t) => names.has(CHECK_SERIES[t]));
  return false;
}

/** Besides an instance's value: for a predict rule, the highest level its guard allows (undefined: no limit). */
export interface RuleValue {
  cap: Severity | null | undefined;
}

/** The rule reads of one evaluator: its sources, its host directory, and when it started listening. */
export class RuleReads {
  constructor(
    private readonly sources: AlertSources,
    private readonly dir: HostDirectory,
    private readonly startedAt: number,
  ) {}

  /** The series a rule evaluates on a host: '' for one, label parts for every series of a name. */
  seriesFor(rule: CompiledRule, host: string, known: Map<string, string[]>): Iterable<string> {
    if (!perSeries(rule)) return [''];
    const out = new Set<string>(known.get(`${rule.name}\u0000${host}`) ?? []);
    const r = rule.spec;
    if (r.kind === 'metric') {
      for (const k of this.sources.seriesKeys(host, r.metric)) out.add(k.slice(r.metric.length));
    } else if (r.kind === 'check') {
      for (const type of r.check_types ?? (['process', 'http', 'tcp'] as const)) {
        for (const k of this.sources.seriesKeys(host, CHECK_SERIES[type])) {
          const check = parseMetricKey(k)?.labels.check;
          if (check !== undefined && rule.checkGlob!.test(check)) out.add(`{check=${check}}`);
        }
      }
    }
    return out;
  }

  /**
   * One instance's value (undefined: the source cannot answer yet, the instance is left as it
   * is); `out.cap` is reset before any read, so it holds even when a read throws.
   */
  valueOf(rule: CompiledRule, h: HostSeen, series: string, now: number, out: RuleValue): number | null | undefined {
    const r = rule.spec;
    const src = this.sources;
    out.cap = undefined;
    switch (r.kind) {
      case 'metric': {
        const metric = r.metric + series;
        if (r.predict) {
          const pts = src.seriesPoints(h.host, metric, rule.windowMs / 1000, now);
          if (!pts) return pts;
          const hours = hoursToReach(pts.t, pts.v, r.predict.reach, now, rule.windowMs);
          if (hours === null) return null;
          const last = pts.v[pts.v.length - 1]!;
          const beyond = (from: number | undefined) => from === undefined || (r.predict!.reach >= from ? last >= from : last <= from);
          out.cap = beyond(r.predict.critical_from) ? undefined : beyond(r.predict.warning_from) ? 'warning' : null;
          return hours;
        }
        const cf = r.cf ?? 'AVERAGE';
        let v = src.seriesWindow(h.host, metric, cf, rule.windowMs / 1000, now, (r.min_coverage ?? 0) * rule.windowMs);
        if (v === null || v === undefined) return v;
        if (r.divide_by !== undefined) {
          const labels = series !== '' ? series : r.metric.includes('{') ? r.metric.slice(r.metric.indexOf('{')) : '';
          const d = src.seriesWindow(h.host, r.divide_by + labels, cf, rule.windowMs / 1000, now);
          if (d === null || d === undefined) return d;
          if (d === 0) return null; // no swap configured: no ratio, no alert
          v /= d;
        }
        return (r.offset ?? 0) + (r.scale ?? 1) * v;
      }
      case 'log':
        return src.countLogs(r.query, h.host, now - rule.windowMs, logCap(r.min_count));
      case 'absence': {
        const last = r.source !== undefined ? src.lastLogAt(h.host, r.source) : r.metric !== undefined ? src.seriesLastUpdate(h.host, r.metric, now) : h.lastSeen;
        if (last === null || last === undefined) return last;
        // Silence is only known after listening that long: after a collector restart the agents'
        // data of the downtime is still on its way, so no host is "down" for the collector's own
        // absence (an alert already firing keeps its state meanwhile).
        if (last < this.startedAt && now - this.startedAt <= r.seconds * 1000) return undefined;
        return Math.max(0, (now - last) / 1000);
      }
      case 'check': {
        const name = series !== '' ? parseMetricKey('x' + series)!.labels.check! : r.check;
        const st = src.checkStatus(h.host, name, now, { samples: r.samples, types: r.check_types });
        return st === null || st === undefined ? st : st === 'down' ? 1 : 0;
      }
      case 'flapping': {
        let downs = 0;
        for (const t of this.dir.transitions(h.host, now - rule.windowMs)) if (t.to === 'down') downs++;
        return downs;
      }
    }
  }

  /** the hosts a rule is evaluated on in a cycle over `hosts` (not retired) */
  targetsOf(rule: CompiledRule, hosts: HostSeen[], byHost: Map<string, HostSeen>, arrivals?: Arrivals): HostSeen[] {
    const dir = this.dir;
    const pattern = rule.spec.host;
    const exact = pattern !== undefined && !/[*?]/.test(pattern);
    let targets = exact ? (byHost.has(pattern) ? [byHost.get(pattern)!] : []) : rule.hostGlob ? hosts.filter((h) => rule.hostGlob!.test(h.host)) : hosts;
    // the host registry says who is ephemeral on the host itself (sources.ts); the directory otherwise
    if (rule.spec.permanent_only) targets = targets.filter((h) => h.reports === true && !(h.ephemeral ?? dir.isEphemeral(h.host)));
    if (arrivals) targets = targets.filter((h) => arrivals.has(h.host) && arrivalCanChange(rule, arrivals.get(h.host)!));
    return targets;
  }

  /**
   * The log-store questions a cycle at `now` over `hosts` asks (log rules' counts, absence rules'
   * newest line of a source), so that a store that answers asynchronously can be read before the
   * cycle, which is one synchronous step (AlertSources.prepare).
   */
  logReads(rules: Iterable<CompiledRule>, now: number, hosts: HostSeen[], arrivals?: Arrivals): LogReads {
    const out: LogReads = { counts: [], last: [] };
    const live = hosts.filter((h) => !this.dir.isRetired(h.host));
    const byHost = new Map(live.map((h) => [h.host, h]));
    for (const rule of rules) {
      const r = rule.spec;
      if (!rule.enabled || (r.kind !== 'log' && !(r.kind === 'absence' && r.source !== undefined))) continue;
      if (arrivals && ![...arrivals.values()].some((names) => arrivalCanChange(rule, names))) continue;
      for (const h of this.targetsOf(rule, live, byHost, arrivals)) {
        if (r.kind === 'log') out.counts.push({ query: r.query, host: h.host, sinceMs: now - rule.windowMs, cap: logCap(r.min_count) });
        else if (r.kind === 'absence') out.last.push({ host: h.host, source: r.source! });
      }
    }
    return out;
  }
}

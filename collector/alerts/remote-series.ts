// The designated evaluator's view of the series other collectors consolidate (issue 16 item 4,
// --storage clickhouse, docs/scale-out.md). A host's agent may report to any collector; the one
// that holds the host's lease writes its rows and states to the shared store, and the evaluator
// (which may be another collector) reads them here, once per periodic cycle, incrementally:
// SeriesStore.recent gives the hosts and the wanted series updated since the last read, with
// their new rows of the finest AVERAGE archive, which join the recent samples the rules read.
//
// Freshness: a row closes when the owner stores the first sample after its step (one agent
// interval) and is seen at the evaluator's next periodic cycle, so the remote view lags the
// agent by at most one agent interval + the owner's group commit + one evaluation interval
// (10 s + a few ms + 10 s by default). Reads overlap by OVERLAP_S, so a row written that late
// is still read; one written later (an agent's spool drained after an outage) is not.
import type { MetricService } from '../metrics/service.js';
import { splitSeriesName } from '../metrics/key.js';
import { CHECK_SERIES } from './metric-sources.js';
import type { RecentSamples, Wanted } from './recent-samples.js';

/** seconds each read reaches back before the previous one: rows stored late, clocks apart */
export const OVERLAP_S = 60;
/** how far back the first read (and the first after a rule change) reaches: as far as a seed */
const FIRST_MS = 15 * 60_000;
/** every this many reads, hosts silent for SILENT_MS are checked for series still stored */
const PRUNE_EVERY = 6;
const SILENT_MS = 60_000;

export interface RemoteReadStats {
  hosts: number;
  series: number;
  rows: number;
  ms: number;
}

export class RemoteSeries {
  /** seconds: the next read asks for what was updated after this (null: from FIRST_MS back) */
  private after: number | null = null;
  /** the rule set the last read asked for (a new one is read from FIRST_MS back) */
  private asked: Wanted | null = null;
  /** host → its newest update (ms) as last read; hosts another collector consolidates included */
  readonly hosts = new Map<string, number>();

  constructor(
    private readonly svc: MetricService,
    private readonly recent: RecentSamples,
  ) {}

  /** a read under way: cycles that start meanwhile go on with what was read before */
  private busy = false;
  private reads = 0;

  /**
   * Reads what changed since the last read; null when nothing was read: the store is this
   * collector's alone, or a read is still under way (evaluation turns may come faster than
   * ClickHouse answers: reads never pile up behind each other).
   */
  async refresh(now: number): Promise<RemoteReadStats | null> {
    if (this.busy) return null;
    this.busy = true;
    try {
      return await this.read(now);
    } finally {
      this.busy = false;
    }
  }

  private async read(now: number): Promise<RemoteReadStats | null> {
    const started = performance.now();
    const wanted = this.recent.want();
    if (wanted !== this.asked) this.after = null;
    const after = this.after ?? (now - Math.max(FIRST_MS, wanted.keepMs)) / 1000;
    // every check result is kept, as RecentSamples.record keeps them
    const names = [...(wanted.names ?? []), ...Object.values(CHECK_SERIES)];
    const got = this.svc.remoteRecent({ after, keys: [...wanted.keys], names });
    if (!got) return null;
    const ans = await got;
    for (const h of ans.hosts) this.hosts.set(h.host, Math.max(this.hosts.get(h.host) ?? 0, h.lastUp * 1000));
    let rows = 0;
    for (const s of ans.series) {
      const split = splitSeriesName(s.name);
      if (!split) continue;
      this.recent.append(
        split.host,
        split.key,
        s.rows.map((r) => ({ t: r.time * 1000, v: r.value })),
        s.step * 1000,
      );
      rows += s.rows.length;
    }
    this.asked = wanted;
    this.after = Math.max(after, now / 1000 - OVERLAP_S);
    // A host retired or forgotten on its collector has its series deleted there: it leaves this
    // view too (else its absence rules would fire here for ever). A host merely silent keeps them.
    if (++this.reads % PRUNE_EVERY === 0) {
      const silent = [...this.hosts].filter(([, at]) => now - at > SILENT_MS).map(([h]) => h);
      if (silent.length > 0) {
        const kept = await this.svc.hostsWithSeries(silent);
        for (const h of silent) {
          if (kept.has(h)) continue;
          this.hosts.delete(h);
          this.recent.forgetHost(h);
        }
      }
    }
    return { hosts: ans.hosts.length, series: ans.series.length, rows, ms: performance.now() - started };
  }

  forgetHost(host: string): void {
    this.hosts.delete(host);
  }
}

// The collector's metric side over a series store that several collectors share (ClickHouse,
// --storage clickhouse): requests are validated and planned exactly as on SQLite (MetricService),
// and stored asynchronously. A collector consolidates only the hosts whose lease it holds
// (SharedSeriesStore.claim): its catalog holds those hosts' series, read again from the store
// whenever it takes a host over. Listings and reads ask the store, which has every collector's
// series, so any collector answers them for any host.
import { ErrorCodes, RingtailError } from '../../shared/errors.js';
import type { MetricAck } from '../../shared/wire.js';
import { storageUnavailable } from '../ingest/unavailable.js';
import type { RecentAnswer, RecentQuery, SharedSeriesStore } from '../rrd/series-store.js';
import type { Cf, RrdStore } from '../rrd/types.js';
import { metricKey, seriesName, splitSeriesName } from './key.js';
import type { Layouts } from './layout.js';
import { checkRowCount, fetchArgs, hostsOf, listed, seriesData, type HostEntry, type SeriesData, type SeriesEntry } from './reads.js';
import { collect, lastOf, MetricService, seriesSpan, type MetricRequest, type MetricServiceOptions, type NewSeries, type SeedData } from './service.js';

/** `store` of a collector whose series are in a shared store: it holds nothing and takes nothing. */
function noSyncStore(): RrdStore {
  const refuse = (): never => {
    throw new RingtailError(ErrorCodes.INTERNAL, 'the metric series are in a shared store: use the asynchronous forms (MetricService.series, read, listSeries)', 500);
  };
  return { create: refuse, createMany: refuse, update: refuse, updateMany: refuse, fetch: refuse, info: refuse, list: () => [], delete: refuse, deleteMany: refuse, rows: refuse, restore: refuse, close() {} };
}

export class SharedMetricService extends MetricService {
  /** hosts whose last write failed part way: their catalog entries are read again first */
  private readonly unsure = new Set<string>();

  constructor(
    readonly shared: SharedSeriesStore,
    layouts: Layouts,
    opts: MetricServiceOptions = {},
  ) {
    super(noSyncStore(), layouts, opts, shared);
  }

  /**
   * First the leases of the group's hosts: a request for a host another collector consolidates
   * is answered with that 503 + Retry-After (the agent sends it again and reaches the holder, or
   * this collector once the holder's lease has expired); hosts just taken over have their catalog
   * entries read again (another collector may have created and updated their series meanwhile).
   * Then as with the store on its own thread: plan here, write the group's resets, new series and
   * updates, answer once they are stored.
   */
  protected override async commitGroup(reqs: MetricRequest[]): Promise<Array<MetricAck | Error>> {
    const store = this.shared;
    const hosts = [...new Set(reqs.map((r) => r.batch.host))];
    const { refused, taken } = await store.claim(hosts);
    const reread = [...new Set([...taken, ...hosts.filter((h) => this.unsure.has(h) && !refused.has(h))])];
    if (reread.length > 0) {
      await this.reload(reread);
      for (const h of reread) this.unsure.delete(h);
    }
    const spans = await this.spansOfPoisoned(reqs.filter((r) => !refused.has(r.batch.host)));
    const planned = new Map<string, number>();
    const creates: NewSeries[] = [];
    const deletes: string[] = [];
    const plans = reqs.map((r) => {
      const no = refused.get(r.batch.host);
      if (no) return no;
      try {
        return this.plan(r.batch, planned, r.now, { creates, deletes, spans });
      } catch (err) {
        if (err instanceof RingtailError) return err;
        return storageUnavailable("the metric batch's new series", err);
      }
    });
    const { items, owner } = collect(plans);
    let res;
    try {
      for (const name of deletes) await store.delete(name);
      if (creates.length > 0) await store.createMany(creates);
      res = items.length > 0 ? await store.updateMany(items) : { accepted: [], errors: new Map<number, Error>() };
    } catch (err) {
      // Part of it may have landed (series created, rows before states): what the catalog says
      // of these hosts is read again from the store before their next request. Nothing of the
      // group is acknowledged; a resend is stored once.
      for (const h of hosts) if (!refused.has(h)) this.unsure.add(h);
      throw storageUnavailable('the metric batch', err);
    }
    return this.answer(reqs, plans, items, owner, res);
  }

  /** The catalog entries of hosts just taken over, read again from the shared store. */
  private async reload(hosts: string[]): Promise<void> {
    const set = new Set(hosts);
    for (const host of set) for (const e of [...this.catalog.ofHost(host)]) this.catalog.delete(seriesName(e.host, e.metric));
    this.addToCatalog((await this.shared.describe(hosts)).filter((o) => set.has(splitSeriesName(o.name)?.host ?? '')));
  }

  /** Archive spans of the requests' series that lie beyond the future horizon (plan may reset them). */
  private async spansOfPoisoned(reqs: MetricRequest[]): Promise<Map<string, number>> {
    const spans = new Map<string, number>();
    for (const r of reqs) {
      for (const sm of r.batch.samples) {
        const name = seriesName(r.batch.host, metricKey(sm.name, sm.labels));
        const e = this.catalog.get(name);
        if (e && !spans.has(name) && e.last_update * 1000 > r.now + this.maxFutureMs) spans.set(name, seriesSpan((await this.shared.info(name)).def));
      }
    }
    return spans;
  }

  /** every series of the shared store (of one host) as catalog entries */
  private async entries(host?: string): Promise<SeriesEntry[]> {
    const found = new Map<string, SeriesEntry>();
    this.addToCatalog(await this.shared.describe(host === undefined ? undefined : [host]), found);
    return [...found.values()].filter((e) => host === undefined || e.host === host);
  }

  override async listSeries(host?: string): Promise<SeriesEntry[]> {
    return listed(await this.entries(host), host);
  }

  override async listHosts(now: number): Promise<HostEntry[]> {
    return hostsOf(await this.entries(), this.seen, now);
  }

  override async read(host: string, metric: string, cf: Cf, startMs: number, endMs: number, resolutionMs?: number): Promise<SeriesData | null> {
    const name = seriesName(host, metric);
    const info = await this.shared.info(name).catch((err: unknown) => {
      if (err instanceof RingtailError && err.code === ErrorCodes.NOT_FOUND) return null;
      throw err;
    });
    if (!info) return null;
    const args = fetchArgs(startMs, endMs, resolutionMs);
    checkRowCount(info, cf, args);
    return seriesData(host, metric, cf, await this.shared.fetch(name, cf, args));
  }

  /** the host's lease is taken first: while another collector holds it, a 503 */
  override async remove(host: string, metric?: string): Promise<number> {
    let n = 0;
    for (const e of await this.entries(host)) {
      if (metric !== undefined && e.metric !== metric) continue;
      const name = seriesName(e.host, e.metric);
      if (await this.shared.delete(name)) n++;
      this.catalog.delete(name);
    }
    if (metric === undefined) this.seen.delete(host);
    return n;
  }

  override seedData(host: string, metric: string, startMs: number, endMs: number): Promise<SeedData | null> {
    return this.read(host, metric, 'AVERAGE', startMs, endMs).then(async (data) => data && { data, ...lastOf(await this.shared.info(seriesName(host, metric))) });
  }

  /** whoever writes them: the shared store's listing of these hosts */
  override async hostsWithSeries(hosts: readonly string[]): Promise<Set<string>> {
    const want = new Set(hosts);
    const out = new Set<string>();
    for (const o of await this.shared.describe(hosts)) {
      const host = splitSeriesName(o.name)?.host;
      if (host !== undefined && want.has(host)) out.add(host);
    }
    return out;
  }

  /** the store's recent series, but for the hosts whose lease this collector holds (its own ingest feeds those) */
  override remoteRecent(q: Omit<RecentQuery, 'except'>): Promise<RecentAnswer> {
    return this.shared.recent({ ...q, except: new Set(this.shared.holding?.() ?? []) });
  }

  /**
   * The host lifecycle's synchronous call (retire, forget): deleted in the background (failures
   * are the `host_metrics.withdraw_failed` event), the count being the series this collector
   * consolidates; remove() is the awaited form.
   */
  override withdraw(host: string, metric?: string): number {
    const n = [...this.catalog.ofHost(host)].filter((e) => e.host === host && (metric === undefined || e.metric === metric)).length;
    this.remove(host, metric).catch((err: Error) => this.events?.emit('host_metrics.withdraw_failed', { host, ...(metric !== undefined ? { metric } : {}), error: err.message }, 'warn'));
    return n;
  }
}

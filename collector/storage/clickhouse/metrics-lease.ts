// One writer per host's series: a lease per host in metric_leases, taken and renewed by the
// collector that receives the host's metrics. Series are consolidated in the collector's memory
// (PersistedSeriesStore keeps the states it wrote), so two collectors updating one series would
// each compute from a stale state and interleave rows; the lease makes the second one refuse.
//
// Protocol (no transactions in ClickHouse; the compare-and-set is the insert deduplication):
//   - the current lease of a host is its highest epoch; its holder is the collector of that
//     epoch's rows and its expiry the one written last (renewals and a release add rows);
//   - a collector holds a lease while now < expiry; it renews once half the lease has run;
//   - an expired (or never taken) lease is claimed as epoch + 1 with the insert token
//     `lease:<host>:<epoch+1>`: when collectors claim at once the table keeps one claim, and each
//     reads back which. The winner drops what it remembered of the host's series and reloads
//     them from ClickHouse (another collector may have written them meanwhile);
//   - a collector that does not hold a host's lease refuses its metrics with 503 and Retry-After
//     (the lease's remaining seconds): the agent keeps them spooled and sends again, through the
//     load balancer, and reaches the holder or, once the holder is gone and its lease expired,
//     takes over here. Forwarding to the holder would save the round trip; not done (yet).
//   - close() releases the leases held (expiry = now), so a collector stopped in order hands
//     its hosts over at once; one that crashed hands them over when its leases expire.
// Clocks: a holder stops writing at its expiry and another claims only after it, so collectors'
// clocks must agree to well within a lease (NTP's milliseconds against 30 s). A holder that
// stalls past its lease (a write slower than half a lease) may still land an insert after the
// next holder's: state and row versions carry the lease epoch (metrics.ts, FENCE), so the newer
// holder's writes win whatever the order they land in.
import type { ClickHouseClient } from '@clickhouse/client';
import { STORAGE_RETRY_S, UnavailableError } from '../../ingest/unavailable.js';
import { consistencyOf, type Consistency } from './consistency.js';
import type { Layout } from './layout.js';
import { urlParts } from './metrics.js';

export const DEFAULT_LEASE_MS = 30_000;

interface Lease {
  epoch: number;
  collector: string;
  expiresMs: number;
}

export interface LeaseOptions {
  /** this collector's id, as other collectors will name it in their refusals */
  collectorId: string;
  leaseMs?: number;
  /** ms since the epoch (tests move it) */
  clock?: () => number;
  /** on a cluster, lease rows are written to a quorum and read sequentially consistent (consistency.ts) */
  layout?: Layout;
}

export class SeriesLeases {
  private readonly held = new Map<string, Lease>();
  readonly collectorId: string;
  private readonly leaseMs: number;
  private readonly clock: () => number;
  private lastWritten = 0;
  private readonly consistency: Consistency;

  constructor(
    private readonly client: ClickHouseClient,
    opts: LeaseOptions,
  ) {
    this.collectorId = opts.collectorId;
    this.leaseMs = opts.leaseMs ?? DEFAULT_LEASE_MS;
    this.clock = opts.clock ?? Date.now;
    this.consistency = consistencyOf(opts.layout);
  }

  /** strictly increasing: the last written row of an epoch says its expiry */
  private written(): number {
    this.lastWritten = Math.max(this.clock(), this.lastWritten + 1);
    return this.lastWritten;
  }

  /**
   * Makes this collector the holder of each owner's lease where it can. Returns the owners it
   * may not write (with the error to answer) and those it has just taken (whose remembered
   * series states are stale).
   */
  async ensure(owners: readonly string[]): Promise<{ refused: Map<string, UnavailableError>; taken: string[] }> {
    const now = this.clock();
    const refused = new Map<string, UnavailableError>();
    const taken: string[] = [];
    const check = owners.filter((o) => {
      const h = this.held.get(o);
      return !h || h.expiresMs - now < this.leaseMs / 2;
    });
    if (check.length === 0) return { refused, taken };
    const current = await this.current(check);
    const renew: string[] = [];
    const claim: Array<{ owner: string; epoch: number }> = [];
    for (const o of check) {
      const cur = current.get(o);
      const mine = this.held.get(o);
      if (cur && cur.collector === this.collectorId && cur.expiresMs > now && mine?.epoch === cur.epoch) renew.push(o);
      else if (cur && cur.expiresMs > now && cur.collector !== this.collectorId) refused.set(o, this.refusal(o, cur, now));
      else claim.push({ owner: o, epoch: (cur?.epoch ?? 0) + 1 });
    }
    if (renew.length > 0) {
      const expiresMs = now + this.leaseMs;
      const w = this.written();
      await this.client.insert({
        table: 'metric_leases',
        values: renew.map((owner) => ({ owner, epoch: this.held.get(owner)!.epoch, collector: this.collectorId, expires_ms: expiresMs, written_ms: w })),
        format: 'JSONEachRow',
        clickhouse_settings: this.consistency.write,
      });
      for (const o of renew) this.held.get(o)!.expiresMs = expiresMs;
    }
    if (claim.length > 0) {
      const expiresMs = now + this.leaseMs;
      await Promise.all(
        claim.map((c) =>
          this.client.insert({
            table: 'metric_leases',
            values: [{ owner: c.owner, epoch: c.epoch, collector: this.collectorId, expires_ms: expiresMs, written_ms: this.written() }],
            format: 'JSONEachRow',
            clickhouse_settings: { ...this.consistency.write, insert_deduplication_token: `lease:${c.owner}:${c.epoch}` },
          }),
        ),
      );
      const after = await this.current(claim.map((c) => c.owner));
      for (const c of claim) {
        const cur = after.get(c.owner);
        if (cur && cur.epoch === c.epoch && cur.collector === this.collectorId) {
          this.held.set(c.owner, { epoch: c.epoch, collector: this.collectorId, expiresMs });
          taken.push(c.owner);
        } else {
          this.held.delete(c.owner);
          refused.set(c.owner, this.refusal(c.owner, cur ?? { epoch: c.epoch, collector: '?', expiresMs }, now));
        }
      }
    }
    return { refused, taken };
  }

  private refusal(owner: string, cur: Lease, now: number): UnavailableError {
    const retry = Math.max(STORAGE_RETRY_S, Math.ceil((cur.expiresMs - now) / 1000));
    return new UnavailableError(
      `the series of host '${owner}' are consolidated by collector '${cur.collector}' (lease epoch ${cur.epoch} until ${new Date(cur.expiresMs).toISOString()}); ` +
        `collector '${this.collectorId}' takes them over only when that lease expires: send again`,
      retry,
      'storage',
    );
  }

  /** each owner's highest epoch: its collector and the expiry written last */
  private async current(all: readonly string[]): Promise<Map<string, Lease>> {
    const out = new Map<string, Lease>();
    for (const owners of urlParts(all)) {
      const rs = await this.client.query({
      query: `SELECT owner, epoch, any(collector) AS collector, argMax(expires_ms, written_ms) AS expires
FROM metric_leases WHERE owner IN {owners:Array(String)}
GROUP BY owner, epoch ORDER BY owner, epoch DESC LIMIT 1 BY owner`,
      query_params: { owners },
      format: 'JSONEachRow',
      clickhouse_settings: this.consistency.read,
    });
      for (const r of (await rs.json()) as Array<{ owner: string; epoch: number; collector: string; expires: number }>) {
        out.set(r.owner, { epoch: Number(r.epoch), collector: r.collector, expiresMs: Number(r.expires) });
      }
    }
    return out;
  }

  /** the epoch of the owner's lease as this collector last took it (0: never) */
  epochOf(owner: string): number {
    return this.held.get(owner)?.epoch ?? 0;
  }

  /** the owners whose lease this collector holds now */
  holding(): string[] {
    const now = this.clock();
    return [...this.held].filter(([, l]) => l.expiresMs > now).map(([o]) => o);
  }

  /** gives the held leases up (expiry = now): other collectors may take the hosts at once */
  async release(): Promise<void> {
    const now = this.clock();
    const mine = [...this.held].filter(([, l]) => l.expiresMs > now);
    this.held.clear();
    if (mine.length === 0) return;
    const w = this.written();
    await this.client.insert({
      table: 'metric_leases',
      values: mine.map(([owner, l]) => ({ owner, epoch: l.epoch, collector: this.collectorId, expires_ms: now, written_ms: w })),
      format: 'JSONEachRow',
      clickhouse_settings: this.consistency.write,
    });
  }
}

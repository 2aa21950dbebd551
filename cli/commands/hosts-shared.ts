// `ringtail hosts list|retire|forget --storage clickhouse …`: on a store several collectors share,
// the command acts on it as one more collector would through its API, and needs no --data. The
// records, transitions and tombstones it writes are what every collector pulls at its next sweep
// (docs/scale-out.md "Host states on ClickHouse"): a retire or forget shows on every collector
// within one sweep interval, as one made through any collector's API does. There is no request
// queue to wait on (the SQLite store's host_requests): the operation is applied here, the same
// function the API runs (collector/hosts/ops.ts).
//
// forget also deletes the host's metric series, which needs the host's metric lease: while a
// collector holds it (the host's agent still reports there, or its lease has not run out yet),
// the deletion is tried again until --wait-ms has passed, then the command says which series are
// left and exits 1 (the records and lines are forgotten already; run it again to delete them).
import { hostsTiming } from '../../collector/hosts/config.js';
import { applyHostOp } from '../../collector/hosts/ops.js';
import { HostRegistry } from '../../collector/hosts/registry.js';
import { splitSeriesName } from '../../collector/metrics/key.js';
import { openSeriesStore, openSharedHostStore } from '../../collector/storage/factory.js';
import type { HostStateRow, StorageConfig } from '../../collector/storage/types.js';
import { createEvents } from '../../shared/events.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function listShared(config: StorageConfig): Promise<HostStateRow[]> {
  const hs = await openSharedHostStore(config);
  try {
    return await hs.load();
  } finally {
    await hs.close();
  }
}

/** Deletes the host's series, retrying while another collector holds its lease; returns what is left. */
async function deleteSeries(config: StorageConfig, host: string, waitMs: number): Promise<{ deleted: number; left: string[]; error?: string }> {
  const series = await openSeriesStore(config);
  try {
    const deadline = Date.now() + waitMs;
    let deleted = 0;
    for (;;) {
      const names = (await series.describe([host])).map((s) => s.name).filter((n) => splitSeriesName(n)?.host === host);
      let error: string | undefined;
      const left: string[] = [];
      for (const name of names) {
        try {
          if (await series.delete(name)) deleted++;
        } catch (err) {
          error = (err as Error).message;
          left.push(name);
        }
      }
      if (left.length === 0 || Date.now() >= deadline) return { deleted, left, error };
      await sleep(Math.min(1000, Math.max(0, deadline - Date.now())));
    }
  } finally {
    await series.close();
  }
}

export async function runSharedOp(op: 'retire' | 'forget', config: StorageConfig, host: string, waitMs: number): Promise<number> {
  const hs = await openSharedHostStore(config);
  let result: string;
  let series: Awaited<ReturnType<typeof deleteSeries>> | undefined;
  try {
    const events = createEvents();
    const registry = new HostRegistry({ store: hs, clock: Date.now, events, timing: hostsTiming() });
    await registry.load();
    if (op === 'forget') series = await deleteSeries(config, host, waitMs);
    result = await applyHostOp({ registry, store: hs, withdraw: () => series?.deleted ?? 0, events }, op, host, Date.now());
  } finally {
    await hs.close();
  }
  if (result !== 'ok') {
    process.stderr.write(`ringtail: ${result} --host: no host '${host}' is known\n`);
    return 1;
  }
  if (series && series.left.length > 0) {
    process.stderr.write(
      `ringtail: RINGTAIL_ERR_STORAGE forgot '${host}' but ${series.left.length} metric series are left (${series.left.join(', ')}): ${series.error ?? 'refused'}; run the command again once the lease is free\n`,
    );
    return 1;
  }
  process.stdout.write(JSON.stringify({ host, [op === 'retire' ? 'retired' : 'forgotten']: true, ...(series ? { series: series.deleted } : {}) }) + '\n');
  return 0;
}

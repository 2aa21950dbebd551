// SeriesStore.recent on ClickHouse: what the designated alert evaluator reads, every evaluation
// cycle, of the series other collectors consolidate (collector/alerts/remote-series.ts). It is
// incremental by the series' update watermark: only series whose state was written with a last
// update after `after` are looked at, and only their rows stamped after it are read.
//
// Cost per call (three queries): ClickHouse reads metric_state's (id, last_up) columns to find
// the changed ids — one Int64 per state row, the only part that grows with the fleet — then
// metric_series' names of those ids only (PREWHERE on id, no FINAL over the whole catalog), and
// metric_rows of the wanted changed series through its primary key (id, rra, time). What comes
// back is one row per changed host, one per wanted changed series, and the new archive rows
// (a few per series per cycle): at 30,000 hosts × 83 series with rules on ~10 keys, ~30,000 +
// 300,000 short rows per cycle, never the 2.5 M series' definitions again.
import type { ClickHouseClient } from '@clickhouse/client';
import { decodeDef } from '../../rrd/state-codec.js';
import { finestAverage, splitName, wantedKey, type RecentAnswer, type RecentQuery, type RecentSeries } from '../../rrd/series-store.js';
import { parseFloatArray, urlParts } from './metrics.js';

/** ids whose state says they were updated after {after}, with their newest last update */
const CHANGED = 'SELECT id, max(last_up) AS lu FROM metric_state WHERE last_up > {after:Int64} GROUP BY id';

export async function clickhouseRecent(client: ClickHouseClient, q: RecentQuery): Promise<RecentAnswer> {
  const after = Math.floor(q.after);
  // the live names of the changed ids (a deleted series has a row with deleted = 1 under its id)
  const rs = await client.query({
    query: `WITH changed AS (${CHANGED})
SELECT n.name AS name, c.lu AS last_up FROM changed AS c INNER JOIN
  (SELECT id, any(name) AS name FROM metric_series PREWHERE id IN (SELECT id FROM changed) GROUP BY id HAVING max(deleted) = 0) AS n ON n.id = c.id`,
    query_params: { after },
    format: 'JSONEachRow',
  });
  const keys = new Set(q.keys);
  const names = new Set(q.names);
  const hosts = new Map<string, number>();
  const lastUps = new Map<string, number>();
  for (const r of (await rs.json()) as Array<{ name: string; last_up: number }>) {
    const split = splitName(r.name);
    if (!split) continue;
    const lastUp = Number(r.last_up);
    hosts.set(split.host, Math.max(hosts.get(split.host) ?? -Infinity, lastUp));
    if (!q.except?.has(split.host) && wantedKey(split.key, keys, names)) lastUps.set(r.name, lastUp);
  }
  // the wanted ones' ids and definitions (for their type, step and finest AVERAGE archive)
  const byId = new Map<number, { s: RecentSeries; rra: number }>();
  for (const part of urlParts([...lastUps.keys()])) {
    const got = await client.query({
      query: 'SELECT name, id, any(def) AS def FROM metric_series WHERE name IN {names:Array(String)} GROUP BY name, id HAVING max(deleted) = 0',
      query_params: { names: part },
      format: 'JSONEachRow',
    });
    for (const r of (await got.json()) as Array<{ name: string; id: number; def: string }>) {
      const def = decodeDef(r.def);
      byId.set(Number(r.id), { s: { name: r.name, type: def.ds[0]?.type ?? null, step: def.step, lastUp: lastUps.get(r.name)!, rows: [] }, rra: finestAverage(def) });
    }
  }
  for (const part of urlParts([...byId.keys()])) {
    const got = await client.query({
      query: 'SELECT id, rra, time, values FROM metric_rows WHERE id IN {ids:Array(UInt64)} AND time > {after:Int64} ORDER BY id, rra, time, version DESC',
      query_params: { ids: part, after },
      format: 'TabSeparated',
    });
    let prev = '';
    for (const line of (await got.text()).split('\n')) {
      if (line === '') continue;
      const [id, rra, time, values] = line.split('\t') as [string, string, string, string];
      const w = byId.get(Number(id));
      if (!w || Number(rra) !== w.rra) continue;
      // a row written twice and not merged yet: the newest version (first) wins
      const at = `${id}/${time}`;
      if (at === prev) continue;
      prev = at;
      const t = Number(time);
      const v = parseFloatArray(values)[0];
      if (v !== undefined && !Number.isNaN(v) && t <= w.s.lastUp) w.s.rows.push({ time: t, value: v });
    }
  }
  return { series: [...byId.values()].map((w) => w.s), hosts: [...hosts].map(([host, lastUp]) => ({ host, lastUp })) };
}

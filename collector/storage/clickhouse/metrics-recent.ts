// SeriesStore.recent on ClickHouse: what the designated alert evaluator reads, every evaluation
// cycle, of the series other collectors consolidate (collector/alerts/remote-series.ts). It is
// incremental by the series' update watermark: only series whose state was written with a last
// update after `after` are looked at, and only their rows stamped after it are read.
//
// Cost per call (four queries): ClickHouse reads metric_state's (id, last_up) columns to find
// the changed ids — one Int64 per state row, the only scan that grows with the fleet — and the
// names of those ids only (PREWHERE on id, no FINAL over the whole catalog); hosts and wanted
// keys are picked out there. What comes back is one row per changed host, one per wanted
// changed series (name, id, last update), the definitions of series not seen before (kept by
// the caller: a definition is fixed for an id), and the new archive rows, read through
// metric_rows' primary key (id, rra, time): at 30,000 hosts × 83 series with rules on ~10 keys,
// ~30,000 + ~300,000 short rows and a few rows per wanted series per cycle, never the 2.5 M
// series' names or definitions again.
import type { ClickHouseClient } from '@clickhouse/client';
import { decodeDef } from '../../rrd/state-codec.js';
import { finestAverage, type RecentAnswer, type RecentQuery, type RecentSeries } from '../../rrd/series-store.js';
import { parseFloatArray, urlParts } from './metrics.js';

/** ids whose state says they were updated after {after}, with their newest last update */
const CHANGED = 'SELECT id, max(last_up) AS lu FROM metric_state WHERE last_up > {after:Int64} GROUP BY id';
/** the live names of the changed ids, split as collector/metrics/key.ts splits them (slash: the last '/' before any '{', 1-based) */
const NAMED = `SELECT id, name, host, key FROM (
  SELECT id, any(name) AS name, splitByChar('{', name)[1] AS head, position(reverse(head), '/') AS back,
    substring(name, 1, length(head) - back) AS host, substring(name, length(head) - back + 2) AS key
  FROM metric_series PREWHERE id IN (SELECT id FROM changed) GROUP BY id HAVING max(deleted) = 0
) WHERE back > 0 AND length(host) > 0`;
/** of those, the series some rule reads */
const WANTED = `SELECT id, name, host FROM named WHERE key IN {keys:Array(String)} OR splitByChar('{', key)[1] IN {names:Array(String)}`;

/** definitions by series id (fixed for an id: a re-created name gets a new one), read once each */
export type DefCache = Map<number, { type: string | null; step: number; rra: number }>;

export async function clickhouseRecent(client: ClickHouseClient, q: RecentQuery, defs: DefCache = new Map()): Promise<RecentAnswer> {
  const after = Math.floor(q.after);
  const params = { after, keys: [...q.keys], names: [...q.names] };
  const head = `WITH changed AS (${CHANGED}), named AS (${NAMED})`;
  // every host with a changed series: one row per host
  const hs = await client.query({
    query: `${head} SELECT n.host AS host, max(c.lu) AS last_up FROM named AS n INNER JOIN changed AS c ON c.id = n.id GROUP BY host`,
    query_params: params,
    format: 'JSONEachRow',
  });
  const hosts = ((await hs.json()) as Array<{ host: string; last_up: number }>).map((r) => ({ host: r.host, lastUp: Number(r.last_up) }));
  // the wanted changed series: one row each
  const ws = await client.query({
    query: `${head}, wanted AS (${WANTED}) SELECT w.id AS id, w.name AS name, w.host AS host, c.lu AS last_up FROM wanted AS w INNER JOIN changed AS c ON c.id = w.id`,
    query_params: params,
    format: 'JSONEachRow',
  });
  const byId = new Map<number, RecentSeries>();
  for (const r of (await ws.json()) as Array<{ id: string; name: string; host: string; last_up: number }>) {
    if (q.except?.has(r.host)) continue;
    byId.set(Number(r.id), { name: r.name, type: null, step: 0, lastUp: Number(r.last_up), rows: [] });
  }
  if (byId.size === 0) return { series: [], hosts };
  // definitions of ids not seen before (new series: incremental after the first call)
  for (const part of urlParts([...byId.keys()].filter((id) => !defs.has(id)))) {
    const got = await client.query({
      query: 'SELECT id, any(def) AS def FROM metric_series WHERE id IN {ids:Array(UInt64)} GROUP BY id',
      query_params: { ids: part },
      format: 'JSONEachRow',
    });
    for (const r of (await got.json()) as Array<{ id: string; def: string }>) {
      const def = decodeDef(r.def);
      defs.set(Number(r.id), { type: def.ds[0]?.type ?? null, step: def.step, rra: finestAverage(def) });
    }
  }
  for (const [id, s] of byId) {
    const d = defs.get(id);
    if (d) (s.type = d.type), (s.step = d.step);
  }
  // their rows stamped after the watermark, through metric_rows' primary key (id, rra, time)
  const got = await client.query({
    query: `${head}, wanted AS (${WANTED}) SELECT id, rra, time, values[1] AS v FROM metric_rows
  WHERE id IN (SELECT id FROM wanted) AND time > {after:Int64} ORDER BY id, rra, time, version DESC`,
    query_params: params,
    format: 'TabSeparated',
  });
  let prev = '';
  for (const line of (await got.text()).split('\n')) {
    if (line === '') continue;
    const [id, rra, time, value] = line.split('\t') as [string, string, string, string];
    const s = byId.get(Number(id));
    if (!s || Number(rra) !== defs.get(Number(id))?.rra) continue;
    // a row written twice and not merged yet: the newest version (first) wins
    const at = `${id}/${time}`;
    if (at === prev) continue;
    prev = at;
    const t = Number(time);
    const v = parseFloatArray(`[${value}]`)[0];
    if (v !== undefined && !Number.isNaN(v) && t <= s.lastUp) s.rows.push({ time: t, value: v });
  }
  return { series: [...byId.values()].filter((s) => s.step > 0), hosts };
}

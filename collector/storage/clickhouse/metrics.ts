// SeriesPersistence (collector/rrd/persistence.ts) on ClickHouse: the tables of
// metrics-schema.ts, read and written through @clickhouse/client. The collector computes PDPs
// and rows; this file only stores and reads them back.
//
// Numbers: archive values travel as JSON numbers (the shortest text that reads back as the same
// double; precise_float_parsing makes ClickHouse read it exactly), unknown as "nan" and
// infinities as "inf"/"-inf", which ClickHouse's JSON input takes for Float64. Rows come back as
// TabSeparated text, which prints nan and inf (JSON output would turn them into null).
import type { ClickHouseClient } from '@clickhouse/client';
import type { ArchiveRow, SeriesPersistence, SeriesWrite, StoredSeries } from '../../rrd/persistence.js';
import { decodeDef, decodeState, encodeJson, encodeState } from '../../rrd/state-codec.js';
import { initialState } from '../../rrd/pdp.js';
import type { SeriesDef, SeriesState } from '../../rrd/types.js';

/**
 * Lists travel as query parameters in the URL, which servers bound (ClickHouse's http_max_uri_size,
 * 1 MiB; Node's HTTP parser, 16 KiB of request line and headers): a long list is asked in parts.
 */
const URL_PARAM_BYTES = 8_000;

const EXACT = { precise_float_parsing: 1 } as const;

function valueJson(v: number): number | string {
  if (Number.isFinite(v)) return v;
  return Number.isNaN(v) ? 'nan' : v > 0 ? 'inf' : '-inf';
}

function parseValue(s: string): number {
  if (/nan/i.test(s)) return NaN;
  if (s === 'inf' || s === '+inf') return Infinity;
  if (s === '-inf') return -Infinity;
  return Number(s);
}

/** `[1.5,nan,inf]` (ClickHouse's text form of an Array(Float64)) */
export function parseFloatArray(text: string): number[] {
  const inner = text.slice(1, -1);
  return inner === '' ? [] : inner.split(',').map(parseValue);
}

/** the list in parts of at most URL_PARAM_BYTES once URL-encoded (at least one item each) */
export function urlParts<T extends string | number>(xs: readonly T[]): T[][] {
  const out: T[][] = [];
  let cur: T[] = [];
  let size = 0;
  for (const x of xs) {
    const n = encodeURIComponent(String(x)).length + 9; // quotes and comma, encoded
    if (cur.length > 0 && size + n > URL_PARAM_BYTES) {
      out.push(cur);
      cur = [];
      size = 0;
    }
    cur.push(x);
    size += n;
  }
  if (cur.length > 0) out.push(cur);
  return out;
}

export class ClickHouseSeriesPersistence implements SeriesPersistence {
  /** metric_series versions: increasing within this process even within one millisecond */
  private lastVersion = 0;

  constructor(
    private readonly client: ClickHouseClient,
    /** who wrote a state (metric_state.writer): the collector id */
    private readonly writer: string,
  ) {}

  private version(): number {
    this.lastVersion = Math.max(Date.now(), this.lastVersion + 1);
    return this.lastVersion;
  }

  async load(names: readonly string[]): Promise<Map<string, StoredSeries>> {
    const out = new Map<string, StoredSeries>();
    for (const part of urlParts(names)) {
      const rs = await this.client.query({
        query: 'SELECT name, id, def, start FROM metric_series FINAL WHERE name IN {names:Array(String)}',
        query_params: { names: part },
        format: 'JSONEachRow',
      });
      const defs = (await rs.json()) as Array<{ name: string; id: number; def: string; start: number }>;
      if (defs.length === 0) continue;
      const states = new Map<number, { v: number; s: string }>();
      for (const ids of urlParts(defs.map((d) => Number(d.id)))) {
        const st = await this.client.query({
          query: 'SELECT id, max(version) AS v, argMax(state, version) AS s FROM metric_state WHERE id IN {ids:Array(UInt64)} GROUP BY id',
          query_params: { ids },
          format: 'JSONEachRow',
        });
        for (const r of (await st.json()) as Array<{ id: number; v: number; s: string }>) states.set(Number(r.id), r);
      }
      for (const d of defs) {
        const def = decodeDef(d.def);
        const s = states.get(Number(d.id));
        // no state row: the series was created and its first state insert did not land
        out.set(d.name, { id: Number(d.id), def, state: s ? decodeState(s.s) : initialState(def, Number(d.start)), version: s ? Number(s.v) : 0 });
      }
    }
    return out;
  }

  async create(items: Array<{ name: string; id: number; def: SeriesDef; state: SeriesState }>): Promise<void> {
    if (items.length === 0) return;
    await this.client.insert({
      table: 'metric_series',
      values: items.map((it) => ({ name: it.name, id: it.id, def: encodeJson(it.def), start: it.state.lastUp, version: this.version(), deleted: 0 })),
      format: 'JSONEachRow',
    });
    await this.writeStates(items.map((it) => ({ id: it.id, state: it.state, version: 0 })));
  }

  async write(changes: SeriesWrite[]): Promise<void> {
    const rows: Array<{ id: number; rra: number; time: number; values: Array<number | string>; version: number }> = [];
    for (const c of changes) for (const r of c.rows) rows.push({ id: c.id, rra: r.rra, time: r.time, values: r.values.map(valueJson), version: c.version });
    if (rows.length > 0) await this.client.insert({ table: 'metric_rows', values: rows, format: 'JSONEachRow', clickhouse_settings: EXACT });
    await this.writeStates(changes);
  }

  private async writeStates(states: Array<{ id: number; state: SeriesState; version: number }>): Promise<void> {
    if (states.length === 0) return;
    await this.client.insert({
      table: 'metric_state',
      values: states.map((s) => ({ id: s.id, version: s.version, last_up: s.state.lastUp, state: encodeState(s.state), writer: this.writer })),
      format: 'JSONEachRow',
    });
  }

  async readRows(id: number, rra: number, from: number, to: number): Promise<ArchiveRow[]> {
    const rs = await this.client.query({
      query: 'SELECT time, values FROM metric_rows FINAL WHERE id = {id:UInt64} AND rra = {rra:UInt8} AND time BETWEEN {from:Int64} AND {to:Int64}',
      query_params: { id, rra, from, to },
      format: 'TabSeparated',
    });
    const text = await rs.text();
    const out: ArchiveRow[] = [];
    for (const line of text.split('\n')) {
      if (line === '') continue;
      const tab = line.indexOf('\t');
      out.push({ rra, time: Number(line.slice(0, tab)), values: parseFloatArray(line.slice(tab + 1)) });
    }
    return out;
  }

  async list(): Promise<string[]> {
    const rs = await this.client.query({ query: 'SELECT name FROM metric_series FINAL ORDER BY name', format: 'JSONEachRow' });
    return ((await rs.json()) as Array<{ name: string }>).map((r) => r.name);
  }

  async delete(name: string): Promise<boolean> {
    const s = (await this.load([name])).get(name);
    if (!s) return false;
    await this.client.insert({
      table: 'metric_series',
      values: [{ name, id: s.id, def: encodeJson(s.def), start: 0, version: this.version(), deleted: 1 }],
      format: 'JSONEachRow',
    });
    // the name no longer reaches them (a new series gets a new id); this only frees the space
    for (const table of ['metric_rows', 'metric_state']) {
      await this.client.command({ query: `DELETE FROM ${table} WHERE id = {id:UInt64}`, query_params: { id: s.id } });
    }
    return true;
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}

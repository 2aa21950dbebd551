// SeriesPersistence (collector/rrd/persistence.ts) on ClickHouse: the tables of
// metrics-schema.ts, read and written through @clickhouse/client. The collector computes PDPs
// and rows; this file only stores and reads them back.
//
// Numbers: archive values travel as text (the shortest decimal that reads back as the same
// double; precise_float_parsing asks ClickHouse for the exact reading, and the contract checks
// every bit), unknown as nan and infinities as inf/-inf. Rows are written and read as
// TabSeparated text, which carries nan and inf (JSON output would turn them into null).
import { Readable } from 'node:stream';
import type { ClickHouseClient } from '@clickhouse/client';
import type { ArchiveRow, SeriesPersistence, SeriesWrite, StoredSeries } from '../../rrd/persistence.js';
import { decodeDef, decodeState, encodeJson, encodeState } from '../../rrd/state-codec.js';
import { initialState } from '../../rrd/pdp.js';
import type { SeriesOverview } from '../../rrd/series-store.js';
import type { SeriesDef, SeriesState } from '../../rrd/types.js';

/**
 * Lists travel as query parameters in the URL, which servers bound (ClickHouse's http_max_uri_size,
 * 1 MiB; Node's HTTP parser, 16 KiB of request line and headers): a long list is asked in parts.
 */
const URL_PARAM_BYTES = 8_000;

const EXACT = { precise_float_parsing: 1 } as const;

/** a Float64 in ClickHouse's text input: the shortest round-trip decimal, nan, inf, -inf */
function valueText(v: number): string {
  if (Number.isFinite(v)) return Object.is(v, -0) ? '-0' : String(v);
  return Number.isNaN(v) ? 'nan' : v > 0 ? 'inf' : '-inf';
}

/** a String in TabSeparated: backslash, tab and newline escaped */
function tsvString(s: string): string {
  return /[\\\t\n]/.test(s) ? s.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n') : s;
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

/**
 * Versions in metric_state and metric_rows are fenced by the writer's lease epoch: epoch × 2^32 +
 * the series' own write count. A collector that took a host over (a higher epoch) wins against a
 * late insert of the one it replaced (one that stalled past its lease), whatever their counts.
 */
const FENCE = 2 ** 32;

export class ClickHouseSeriesPersistence implements SeriesPersistence {
  /** metric_series versions: increasing within this process even within one millisecond */
  private lastVersion = 0;

  constructor(
    private readonly client: ClickHouseClient,
    /** who wrote a state (metric_state.writer): the collector id */
    private readonly writer: string,
    /** the lease epoch under which this collector writes a series (0: no leases) */
    private readonly epochOf: (name: string) => number = () => 0,
  ) {}

  private fenced(name: string, version: number): number {
    return this.epochOf(name) * FENCE + (version % FENCE);
  }

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
        out.set(d.name, { id: Number(d.id), def, state: s ? decodeState(s.s) : initialState(def, Number(d.start)), version: s ? Number(s.v) % FENCE : 0 });
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
    await this.writeStates(items.map((it) => ({ id: it.id, state: it.state, version: this.fenced(it.name, 0) })));
  }

  /**
   * Rows and states go as TabSeparated text built here: every update writes a state (~0.5 KB of
   * JSON), and the client's JSONEachRow (JSON.stringify of each row, the state's quotes escaped)
   * and its garbage were most of the collector's CPU per update (58 µs; 2,000 series × 10 rounds).
   */
  async write(changes: SeriesWrite[]): Promise<void> {
    let rows = '';
    const states: Array<{ id: number; state: SeriesState; version: number }> = [];
    const written = Math.floor(Date.now() / 1000);
    for (const c of changes) {
      const v = this.fenced(c.name, c.version);
      // a row goes by the table's TTL an archive's span after it is written (metrics-schema.ts)
      const expires = c.def.rra.map((a) => written + c.def.step * a.pdpPerRow * a.rows);
      for (const r of c.rows) rows += `${c.id}\t${r.rra}\t${r.time}\t[${r.values.map(valueText).join(',')}]\t${v}\t${expires[r.rra]!}\n`;
      states.push({ id: c.id, state: c.state, version: v });
    }
    if (rows !== '') await this.insertText('metric_rows', rows, EXACT);
    await this.writeStates(states);
  }

  private async writeStates(states: Array<{ id: number; state: SeriesState; version: number }>): Promise<void> {
    if (states.length === 0) return;
    const w = tsvString(this.writer);
    let text = '';
    for (const s of states) text += `${s.id}\t${s.version}\t${s.state.lastUp}\t${tsvString(encodeState(s.state))}\t${w}\n`;
    await this.insertText('metric_state', text);
  }

  private async insertText(table: string, text: string, settings?: Record<string, number>): Promise<void> {
    await this.client.insert({ table, values: Readable.from([text], { objectMode: false }), format: 'TabSeparated', clickhouse_settings: settings });
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

  /**
   * Every series' name, type, step and last update (those of `hosts` only: names starting with
   * `<host>/`, checked again by the caller), in one query per part: the listings of a collector
   * that shares the store, whoever wrote the series.
   */
  async describe(hosts?: readonly string[]): Promise<SeriesOverview[]> {
    const out: SeriesOverview[] = [];
    for (const part of hosts === undefined ? [undefined] : urlParts(hosts.map((h) => `${h}/`))) {
      if (part?.length === 0) continue;
      const where = part ? 'AND arrayExists(p -> startsWith(name, p), {prefixes:Array(String)})' : '';
      const rs = await this.client.query({
        query: `SELECT s.name AS name, JSONExtractString(s.def, 'ds', 1, 'type') AS type, JSONExtractInt(s.def, 'step') AS step,
  if(st.last_up = 0, s.start, st.last_up) AS last_up
FROM (SELECT name, id, def, start FROM metric_series FINAL WHERE deleted = 0 ${where}) AS s
LEFT JOIN (SELECT id, argMax(last_up, version) AS last_up FROM metric_state
  WHERE id IN (SELECT id FROM metric_series FINAL WHERE deleted = 0 ${where}) GROUP BY id) AS st ON s.id = st.id
ORDER BY name`,
        query_params: part ? { prefixes: part } : {},
        format: 'JSONEachRow',
      });
      for (const r of (await rs.json()) as Array<{ name: string; type: string; step: number; last_up: number }>) {
        out.push({ name: r.name, type: r.type === '' ? null : r.type, step: Number(r.step), lastUp: Number(r.last_up) });
      }
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

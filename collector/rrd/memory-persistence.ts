// SeriesPersistence in memory: the seam's smallest implementation, for unit and contract tests
// of PersistedSeriesStore without a database (nothing survives the process).
import type { ArchiveRow, SeriesPersistence, SeriesWrite, StoredSeries } from './persistence.js';
import type { SeriesDef, SeriesState } from './types.js';

export class MemoryPersistence implements SeriesPersistence {
  private readonly series = new Map<string, StoredSeries>();
  /** id → "rra:time" → values */
  private readonly rowsById = new Map<number, Map<string, ArchiveRow>>();

  async load(names: readonly string[]): Promise<Map<string, StoredSeries>> {
    const out = new Map<string, StoredSeries>();
    for (const n of names) {
      const s = this.series.get(n);
      if (s) out.set(n, structuredClone(s));
    }
    return out;
  }

  async create(items: Array<{ name: string; id: number; def: SeriesDef; state: SeriesState }>): Promise<void> {
    for (const it of items) {
      this.series.set(it.name, structuredClone({ id: it.id, def: it.def, state: it.state, version: 0 }));
      this.rowsById.set(it.id, new Map());
    }
  }

  async write(changes: SeriesWrite[]): Promise<void> {
    for (const c of changes) {
      const rows = this.rowsById.get(c.id);
      const s = this.series.get(c.name);
      if (!rows || !s || s.id !== c.id) continue; // deleted meanwhile
      for (const r of c.rows) rows.set(`${r.rra}:${r.time}`, { rra: r.rra, time: r.time, values: r.values.slice() });
      if (c.version > s.version) {
        s.state = structuredClone(c.state);
        s.version = c.version;
      }
    }
  }

  async readRows(id: number, rra: number, from: number, to: number): Promise<ArchiveRow[]> {
    const out: ArchiveRow[] = [];
    for (const r of this.rowsById.get(id)?.values() ?? []) if (r.rra === rra && r.time >= from && r.time <= to) out.push(r);
    return out;
  }

  async list(): Promise<string[]> {
    return [...this.series.keys()].sort();
  }

  async delete(name: string): Promise<boolean> {
    const s = this.series.get(name);
    if (!s) return false;
    this.series.delete(name);
    this.rowsById.delete(s.id);
    return true;
  }

  async close(): Promise<void> {}
}

// Read API: logs (newest first, cursor pagination, optional bounded regex).
//
// `re` is evaluated over candidate rows (those matching every other filter) in chunks, in the
// regex worker, within a scan budget of SCAN_BUDGET_ROWS rows and SCAN_BUDGET_MS. When the
// budget runs out before the page is full, the answer says so (`budget_exhausted`, `scanned`)
// and its cursor continues from the last row examined, so a client can keep paging. A token may
// have at most `regex.max_concurrent_per_token` such queries running (429 beyond), and its
// chunks queue fairly with other tokens' (collector/query/regex.ts).
import fp from 'fastify-plugin';
import type { LogItem, LogPage } from '../../shared/wire.js';
import { READERS } from '../plugins/auth.js';
import { LogsQuery, toFilter } from '../query/filter.js';
import type { CompiledPattern } from '../query/regex.js';
import type { LogFilter } from '../storage/types.js';
import { histogramRoutes } from './histogram.js';

export const SCAN_BUDGET_ROWS = 200_000;
export const SCAN_BUDGET_MS = 2_000;
export const CHUNK_ROWS = 2_000;
export const CHUNK_TIMEOUT_MS = 1_000;


export interface QueryOptions {
  scanBudgetRows?: number;
  scanBudgetMs?: number;
}

export const queryRoutes = fp<QueryOptions>(
  async (app, opts) => {
    const budgetRows = opts.scanBudgetRows ?? SCAN_BUDGET_ROWS;
    const budgetMs = opts.scanBudgetMs ?? SCAN_BUDGET_MS;
    async function withRegex(filter: LogFilter, re: CompiledPattern, who: string): Promise<LogPage> {
      const items: LogItem[] = [];
      let cursor = filter.cursor;
      let scanned = 0;
      const started = performance.now();
      for (;;) {
        const chunk = await app.storage.logs.query({ ...filter, cursor, limit: Math.min(CHUNK_ROWS, budgetRows) });
        scanned += chunk.items.length;
        const hits = await app.regex.test(re, chunk.items.map((i) => i.message), CHUNK_TIMEOUT_MS, who);
        for (const h of hits) {
          items.push(chunk.items[h]!);
          if (items.length === filter.limit) {
            const more = h < chunk.items.length - 1 || chunk.next_cursor !== null;
            return { items, next_cursor: more ? app.storage.logs.cursorAfter(filter, items[items.length - 1]!) : null, scanned };
          }
        }
        if (chunk.next_cursor === null) return { items, next_cursor: null, scanned };
        cursor = chunk.next_cursor;
        if (scanned >= budgetRows || performance.now() - started > budgetMs) {
          app.events.emit('query.scan_budget', { scanned, ms: Math.round(performance.now() - started) }, 'debug');
          return { items, next_cursor: cursor, scanned, budget_exhausted: true };
        }
      }
    }

    app.get<{ Querystring: LogsQuery }>('/api/v1/logs', { schema: { querystring: LogsQuery }, config: { roles: READERS } }, async (req) => {
      const { filter, re } = toFilter(req.query, app.clock());
      if (re) {
        const who = req.principal?.id ?? '';
        const release = app.reQueries.acquire(who);
        try {
          return await withRegex(filter, re, who);
        } finally {
          release();
        }
      }
      return app.storage.logs.query(filter);
    });

    // GET /api/v1/hosts: collector/hosts/routes.ts (every host, with its lifecycle state)
    await app.register(histogramRoutes);
  },
  { name: 'ringtail-query', dependencies: ['ringtail-storage', 'ringtail-auth', 'ringtail-regex'], encapsulate: true },
);

// AlertStore on ClickHouse (alerts-schema.ts has the tables and why they are versioned rows).
// Shared by every collector on the database: the evaluating one writes states, history and
// the outbox; any one's API writes rules and silences; a standby reads them all and takes over
// from them (collector/alerts/leader.ts).
//
// commit() has no transaction to lean on: the outbox rows land first, then the history, then the
// states. A commit cut short leaves the states as they were, so the next cycle decides the same
// notifications again, with the same ids (webhook-ids.ts), which find their rows already queued
// (kept once); only the history may then list a transition twice.
import { createHash } from 'node:crypto';
import type { ClickHouseClient } from '@clickhouse/client';
import type { InstanceState, Transition } from '../../alerts/state.js';
import type { AlertStore, HistoryFilter, HistoryRow, NewOutbox, OutboxRow, SilenceRow } from '../types.js';
import { clickhouseEvaluatorLease } from './alerts-lease.js';
import { ensureAlertsSchema } from './alerts-schema.js';
import { connectDatabase, guarded } from './connection.js';
import type { Layout } from './layout.js';
import { checkDatabaseName } from './schema.js';
import type { ClickHouseLogOptions } from './types.js';

/** an outbox row's seq: from its id (52 bits, a safe integer), so every collector names a row alike */
export function outboxSeq(id: string): number {
  return parseInt(createHash('sha256').update(id).digest('hex').slice(0, 13), 16);
}

const OUTBOX_COLS = 'id, seq, notifier, rule, body, created_at, attempts, next_at, state, last_status, last_error, done_at';
/** a column's value in the newest version (in a tuple: aggregates skip NULLs, and a NULL may be the newest value) */
const latest = (c: string) => `argMax(tuple(${c}), v).1 AS ${c}`;
/** each outbox row's newest version, removed ones left out */
const OUTBOX_NOW = `(SELECT id, ${OUTBOX_COLS.split(', ').slice(1).map(latest).join(', ')}, argMax(deleted, v) AS gone FROM alert_outbox GROUP BY id HAVING gone = 0)`;

export async function openClickHouseAlertStore(opts: ClickHouseLogOptions): Promise<AlertStore> {
  const database = checkDatabaseName(opts.database);
  const { client, layout, url } = await connectDatabase(opts, database);
  await guarded('set up the alert tables', url, () => ensureAlertsSchema(client, database, layout));
  return clickhouseAlertStore(client, url, layout);
}

function clickhouseAlertStore(client: ClickHouseClient, url: string, layout: Layout): AlertStore {
  // versions: increasing within this collector, and with the clock across collectors
  let lastV = 0;
  const v = () => (lastV = Math.max(Date.now() * 1000, lastV + 1));
  const rows = async <T>(query: string, query_params: Record<string, unknown> = {}): Promise<T[]> => {
    const rs = await client.query({ query, query_params, format: 'JSONEachRow' });
    return (await rs.json()) as T[];
  };
  const insert = (table: string, values: object[]) => (values.length === 0 ? Promise.resolve() : client.insert({ table, values, format: 'JSONEachRow' }).then(() => undefined));
  const g =
    <A extends unknown[], T>(what: string, fn: (...a: A) => Promise<T>) =>
    (...a: A) =>
      guarded(what, url, () => fn(...a));
  const outboxRow = (r: OutboxRow & { gone?: number }): OutboxRow => ({
    seq: Number(r.seq),
    id: r.id,
    notifier: r.notifier,
    rule: r.rule,
    body: r.body,
    created_at: Number(r.created_at),
    attempts: Number(r.attempts),
    next_at: Number(r.next_at),
    state: r.state,
    last_status: r.last_status === null ? null : Number(r.last_status),
    last_error: r.last_error,
    done_at: r.done_at === null ? null : Number(r.done_at),
  });
  const bySeq = async (seq: number) => (await rows<OutboxRow>(`SELECT * FROM ${OUTBOX_NOW} WHERE seq = {seq:UInt64}`, { seq })).map(outboxRow)[0];
  /** a new version of an outbox row, changed by `fn` */
  const updateRow = async (seq: number, fn: (r: OutboxRow) => Partial<OutboxRow>) => {
    const r = await bySeq(seq);
    if (r) await insert('alert_outbox', [{ ...r, ...fn(r), deleted: 0, v: v() }]);
  };
  let historyId = 0;
  const silencesNow = async () =>
    (await rows<{ silence: string }>(`SELECT argMax(silence, v) AS silence FROM alert_silences GROUP BY id`)).map((r) => JSON.parse(r.silence) as SilenceRow);

  return {
    close: () => client.close(),
    apiRules: g('read alert rules', async () =>
      (await rows<{ name: string; spec: string }>(`SELECT name, argMax(spec, v) AS spec, argMax(deleted, v) AS gone FROM alert_rules GROUP BY name HAVING gone = 0 ORDER BY name`)).map(
        (r) => ({ name: r.name, spec: JSON.parse(r.spec) as unknown }),
      ),
    ),
    putRule: g('store an alert rule', (name: string, spec: unknown, now: number) => insert('alert_rules', [{ name, spec: JSON.stringify(spec), deleted: 0, updated_at: now, v: v() }])),
    deleteRule: g('delete an alert rule', async (name: string) => {
      const found = await rows(`SELECT name, argMax(deleted, v) AS gone FROM alert_rules WHERE name = {name:String} GROUP BY name HAVING gone = 0`, { name });
      if (found.length === 0) return false;
      await insert('alert_rules', [{ name, spec: '', deleted: 1, updated_at: Date.now(), v: v() }]);
      return true;
    }),
    loadStates: g('read alert states', async () =>
      (await rows<{ state: string }>(`SELECT argMax(state, v) AS state, argMax(deleted, v) AS gone FROM alert_state GROUP BY rule, host, series HAVING gone = 0`)).map(
        (r) => JSON.parse(r.state) as InstanceState,
      ),
    ),
    commit: g('commit alert states', async (upserts: InstanceState[], deletes: Array<[string, string, string]>, history: Transition[], outbox: NewOutbox[], now: number) => {
      if (outbox.length > 0) {
        // an id already queued (by this collector or another) is that notification: kept once
        const known = new Set((await rows<{ id: string }>(`SELECT DISTINCT id FROM alert_outbox WHERE id IN {ids:Array(String)}`, { ids: outbox.map((o) => o.id) })).map((r) => r.id));
        const fresh = outbox.filter((o) => !known.has(o.id));
        await insert(
          'alert_outbox',
          fresh.map((o) => ({ ...o, seq: outboxSeq(o.id), created_at: now, attempts: 0, next_at: now, state: 'pending', last_status: null, last_error: null, done_at: null, deleted: 0, v: v() })),
        );
      }
      await insert(
        'alert_history',
        history.map((t) => ({ id: (historyId = Math.max(t.at * 1000, historyId + 1)), at: t.at, rule: t.rule, host: t.host, series: t.series, event: t.event, severity: t.severity, value: t.value })),
      );
      const ver = v();
      await insert('alert_state', [
        ...upserts.map((s) => ({ rule: s.rule, host: s.host, series: s.series, state: JSON.stringify(s), deleted: 0, v: ver })),
        ...deletes.map(([rule, host, series]) => ({ rule, host, series, state: '', deleted: 1, v: ver })),
      ]);
    }),
    history: g('read alert history', async (f: HistoryFilter) => {
      const where: string[] = [];
      const p: Record<string, unknown> = { limit: f.limit };
      if (f.rule !== undefined) (where.push('rule = {rule:String}'), (p.rule = f.rule));
      if (f.host !== undefined) (where.push('host = {host:String}'), (p.host = f.host));
      if (f.before !== undefined) (where.push('id < {before:UInt64}'), (p.before = f.before));
      if (f.start !== undefined) (where.push('at >= {start:Int64}'), (p.start = f.start));
      if (f.end !== undefined) (where.push('at < {end:Int64}'), (p.end = f.end));
      const out = await rows<HistoryRow>(
        `SELECT id, at, rule, host, series, event, severity, value FROM alert_history ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY id DESC LIMIT {limit:UInt32}`,
        p,
      );
      return out.map((r) => ({ ...r, id: Number(r.id), at: Number(r.at), value: r.value === null ? null : Number(r.value) }));
    }),
    prune: g('prune alert history', async (now: number, keepHistoryRows: number, keepDoneMs: number) => {
      const cut = (await rows<{ id: number }>(`SELECT id FROM alert_history ORDER BY id DESC LIMIT 1 OFFSET {keep:UInt64}`, { keep: keepHistoryRows }))[0];
      const sync = { lightweight_deletes_sync: '2', mutations_sync: '2' } as const;
      if (cut) await client.command({ query: 'DELETE FROM alert_history WHERE id <= {id:UInt64}', query_params: { id: Number(cut.id) }, clickhouse_settings: sync });
      // every version of a finished row goes (an older, pending one must not come back)
      const done = await rows<{ id: string }>(`SELECT id FROM ${OUTBOX_NOW} WHERE state != 'pending' AND done_at < {before:Int64}`, { before: now - keepDoneMs });
      if (done.length > 0) await client.command({ query: 'DELETE FROM alert_outbox WHERE id IN {ids:Array(String)}', query_params: { ids: done.map((d) => d.id) }, clickhouse_settings: sync });
    }),
    due: g('read due notifications', async (now: number, limit: number) =>
      (await rows<OutboxRow>(`SELECT * FROM ${OUTBOX_NOW} WHERE state = 'pending' AND next_at <= {now:Int64} ORDER BY created_at, seq LIMIT {limit:UInt32}`, { now, limit })).map(outboxRow),
    ),
    pendingCount: g('count pending notifications', async () => Number((await rows<{ n: number }>(`SELECT count() AS n FROM ${OUTBOX_NOW} WHERE state = 'pending'`))[0]?.n ?? 0)),
    nextDue: g('read the next due notification', async () => {
      const r = (await rows<{ n: number | null }>(`SELECT min(next_at) AS n FROM ${OUTBOX_NOW} WHERE state = 'pending' HAVING count() > 0`))[0];
      return r ? Number(r.n) : null;
    }),
    markDelivered: g('mark a notification delivered', (seq: number, status: number, now: number) =>
      updateRow(seq, (r) => ({ state: 'delivered', attempts: r.attempts + 1, last_status: status, last_error: null, done_at: now })),
    ),
    markRetry: g('mark a notification for retry', (seq: number, nextAt: number, status: number | null, error: string) =>
      updateRow(seq, (r) => ({ attempts: r.attempts + 1, next_at: nextAt, last_status: status, last_error: error.slice(0, 500) })),
    ),
    markFinal: g('mark a notification finished', (seq: number, state: 'failed' | 'disabled', status: number | null, error: string, now: number) =>
      updateRow(seq, (r) => ({ state, attempts: r.attempts + 1, last_status: status, last_error: error.slice(0, 500), done_at: now })),
    ),
    disableNotifier: g('disable a notifier', async (name: string, url: string, reason: string, now: number) => {
      await insert('alert_notifiers', [{ name, url, disabled_at: now, reason: reason.slice(0, 500), v: v() }]);
      const pending = (await rows<OutboxRow>(`SELECT * FROM ${OUTBOX_NOW} WHERE notifier = {name:String} AND state = 'pending'`, { name })).map(outboxRow);
      const ver = v();
      await insert('alert_outbox', pending.map((r) => ({ ...r, state: 'disabled', done_at: now, deleted: 0, v: ver })));
    }),
    enableNotifier: g('enable a notifier', (name: string) => insert('alert_notifiers', [{ name, url: '', disabled_at: null, reason: '', v: v() }])),
    disabledNotifiers: g('read disabled notifiers', async () => {
      const list = await rows<{ name: string; url: string; disabled_at: number | null; reason: string }>(
        `SELECT name, ${latest('url')}, ${latest('disabled_at')}, ${latest('reason')} FROM alert_notifiers GROUP BY name`,
      );
      return new Map(list.filter((r) => r.disabled_at !== null).map((r) => [r.name, { url: r.url, disabled_at: Number(r.disabled_at), reason: r.reason }]));
    }),
    outbox: g('read the outbox', async (limit: number) =>
      (await rows<OutboxRow>(`SELECT * FROM ${OUTBOX_NOW} ORDER BY created_at DESC, seq DESC LIMIT {limit:UInt32}`, { limit })).map(outboxRow),
    ),
    silences: g('read silences', async () => (await silencesNow()).sort((a, b) => b.starts_at - a.starts_at)),
    addSilence: g('store a silence', (s: SilenceRow) => insert('alert_silences', [{ id: s.id, silence: JSON.stringify(s), v: v() }])),
    expireSilence: g('expire a silence', async (id: string, now: number) => {
      const s = (await silencesNow()).find((x) => x.id === id);
      if (!s) return false;
      await insert('alert_silences', [{ id, silence: JSON.stringify({ ...s, ends_at: Math.min(s.ends_at, now) }), v: v() }]);
      return true;
    }),
    evaluatorLease: (o) => clickhouseEvaluatorLease(client, { ...o, layout }),
  };
}

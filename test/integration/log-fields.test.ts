// Structured fields as filters: `field.KEY:value` in q and `?field.KEY=value` select lines
// through the field tokens (log_fields_fts, not the JSON of every row) checked exactly, in pages,
// the histogram and the live tail; fields are bounded at the collector with a counted
// truncation; retention removes a line's entries; an existing database (schema 4 or 5) gains
// the index with its lines' fields.
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_FIELD_VALUE_BYTES, MAX_FIELDS } from '../../collector/ingest/pipeline.js';
import { fieldMatch } from '../../collector/storage/sqlite/field-tokens.js';
import { LOG_SCHEMA_VERSION, openDatabase } from '../../collector/storage/sqlite/open.js';
import { sqliteLogStore } from '../../collector/storage/sqlite/logs.js';
import { WIRE_VERSION, type IngestBatch, type WireLine } from '../../shared/wire.js';
import { testCollector, type TestCollector } from '../helpers/collector.js';
import { tempDir, waitFor } from '../helpers/proc.js';

const T0 = 1_800_000_000_000;
let c: TestCollector;
let base: string;
let seq = 0;

function batch(lines: Array<{ message: string; fields?: Record<string, string>; ts?: number }>, host = 'f-1'): IngestBatch {
  let offset = 0;
  const wire: WireLine[] = lines.map((l) => {
    const w: WireLine = { offset, ts: l.ts ?? T0, severity: 6, message: l.message };
    if (l.fields) w.fields = l.fields;
    offset += Buffer.byteLength(l.message) + 1;
    return w;
  });
  return { version: WIRE_VERSION, agent_id: 'agt_f', host, segments: [{ stream: `f-${seq++}`, source: '/var/log/f.log', start: 0, end: offset, lines: wire }] };
}
async function ingest(b: IngestBatch) {
  const res = await c.app.inject({ method: 'POST', url: '/api/v1/ingest', headers: { authorization: `Bearer ${c.token('agent')}` }, payload: b });
  expect(res.statusCode, res.body).toBe(200);
}
function get(url: string) {
  return c.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${c.token('viewer')}` } });
}
const messages = async (qs: string) => {
  const res = await get(`/api/v1/logs?${qs}`);
  expect(res.statusCode, res.body).toBe(200);
  return (res.json().items as Array<{ message: string }>).map((i) => i.message).sort();
};

beforeAll(async () => {
  c = await testCollector(() => T0 + 60_000);
  base = await c.app.listen({ host: '127.0.0.1', port: 0 });
  await ingest(
    batch([
      { message: 'login ok', fields: { user_id: '42', 'http.method': 'GET' } },
      { message: 'login failed', fields: { user_id: '42', 'http.method': 'POST' } },
      { message: 'login ok', fields: { user_id: '7', 'http.method': 'GET' } },
      { message: 'no fields at all' },
      { message: 'the value 42 in the text only' },
      // tokens keep 64 characters of a value's code: these two share one, the check tells them apart
      { message: 'long a', fields: { url: `/api/${'x'.repeat(80)}/a`, who: 'Zoë O\'Brien' } },
      { message: 'long b', fields: { url: `/api/${'x'.repeat(80)}/b`, who: 'zoe' } },
    ]),
  );
});
afterAll(async () => c.close());

describe('structured fields as filters', () => {
  it.each([
    ['field.user_id=42', ['login failed', 'login ok']],
    [`q=${encodeURIComponent('field.user_id:42')}`, ['login failed', 'login ok']],
    [`q=${encodeURIComponent('field.user_id:42 failed')}`, ['login failed']],
    [`q=${encodeURIComponent('field.http.method:GET')}`, ['login ok', 'login ok']],
    [`q=${encodeURIComponent('field.http.method:P*')}`, ['login failed']],
    ['field.user_id=42&field.http.method=GET', ['login ok']],
    [`field.user_id=42&q=${encodeURIComponent('field.http.method:POST')}`, ['login failed']],
    ['field.user_id=4', []],
    ['field.nosuch=42', []],
    ['q=42', ['the value 42 in the text only']],
    [`field.url=${encodeURIComponent(`/api/${'x'.repeat(80)}/a`)}`, ['long a']],
    [`q=${encodeURIComponent(`field.url:/api/${'x'.repeat(80)}/b*`)}`, ['long b']],
    [`q=${encodeURIComponent(`field.url:/api/${'x'.repeat(80)}*`)}`, ['long a', 'long b']],
    [`q=${encodeURIComponent('field.url:/api/x*')}`, ['long a', 'long b']],
    [`q=${encodeURIComponent('field.url:/API/*')}`, []],
    [`q=${encodeURIComponent('field.url:*/b')}`, ['long b']],
    [`q=${encodeURIComponent("field.who:Zoë*")}`, ['long a']],
    [`q=${encodeURIComponent("field.who:\"Zoë O'Brien\"")}`, ['long a']],
    [`q=${encodeURIComponent('field.who:z*')}`, ['long b']],
    [`q=${encodeURIComponent('field.who:zoe long')}`, ['long b']],
    [`q=${encodeURIComponent('field.url:/b*')}`, []],
  ])('%s', async (qs, want) => {
    expect(await messages(qs)).toEqual(want);
  });

  it('items carry their fields; the histogram counts with field filters', async () => {
    const res = await get('/api/v1/logs?field.user_id=7');
    expect(res.json().items[0].fields).toEqual({ user_id: '7', 'http.method': 'GET' });
    const h = await get(`/api/v1/logs/histogram?field.user_id=42&start=${T0}&end=${T0 + 1000}&buckets=1`);
    expect(h.statusCode, h.body).toBe(200);
    expect(h.json().counts).toEqual([2]);
  });

  it('reads the field tokens, not the JSON of every row', () => {
    const db = (c.app.storage as unknown as { db?: Database.Database }).db ?? new Database(`${c.dir}/ringtail.db`, { readonly: true });
    // the statement search.ts makes of a rare value: the token's rowids, then each row by id
    const plan = db
      .prepare(
        `EXPLAIN QUERY PLAN SELECT l.id FROM logs l WHERE l.id IN (SELECT rowid FROM log_fields_fts WHERE log_fields_fts MATCH ?)
         AND EXISTS (SELECT 1 FROM json_each(l.fields) WHERE l.fields IS NOT NULL AND key = 'user_id' AND value = '42') ORDER BY l.ts DESC, l.id DESC LIMIT 10`,
      )
      .all(fieldMatch('user_id', '42', false))
      .map((r) => (r as { detail: string }).detail)
      .join('\n');
    expect(plan).toMatch(/SCAN log_fields_fts VIRTUAL TABLE INDEX/);
    expect(plan).toMatch(/SEARCH l USING INTEGER PRIMARY KEY \(rowid=\?\)/);
    expect(plan).not.toMatch(/SCAN l\b/);
  });

  it('the live tail filters by field parameter and by field term', async () => {
    const headers = { authorization: `Bearer ${c.token('viewer')}` };
    const seen: Record<string, string> = { param: '', term: '' };
    const streams = Object.entries({ param: 'field.user_id=99', term: `q=${encodeURIComponent('field.user_id:99')}` }).map(([name, query]) => {
      const ac = new AbortController();
      void fetch(`${base}/api/v1/logs/stream?${query}`, { headers, signal: ac.signal })
        .then(async (res) => {
          expect(res.status).toBe(200);
          for await (const chunk of res.body!.pipeThrough(new TextDecoderStream())) seen[name] += chunk;
        })
        .catch(() => {});
      return ac;
    });
    await waitFor('both streams connected', () => seen.param!.includes('connected') && seen.term!.includes('connected'));
    await ingest(batch([{ message: 'tail hit', fields: { user_id: '99' } }, { message: 'tail miss', fields: { user_id: '98' } }, { message: 'tail plain' }]));
    await waitFor('the matching line on both', () => seen.param!.includes('tail hit') && seen.term!.includes('tail hit'));
    await ingest(batch([{ message: 'tail later hit', fields: { user_id: '99' } }]));
    await waitFor('the later line on both', () => seen.param!.includes('tail later hit') && seen.term!.includes('tail later hit'));
    for (const s of Object.values(seen)) {
      expect(s).not.toContain('tail miss');
      expect(s).not.toContain('tail plain');
    }
    for (const ac of streams) ac.abort();
  });

  it('bounds fields at the collector: count and value bytes, with a counted truncation', async () => {
    const many: Record<string, string> = {};
    for (let i = 0; i < 10_000; i++) many[`k${i}`] = String(i);
    const longName = 'n'.repeat(126) + 'éé';
    await ingest(
      batch([
        { message: 'many fields', fields: many },
        { message: 'long value', fields: { big: 'é'.repeat(4000), small: 'x' } },
        { message: 'long name', fields: { [longName]: 'v', short: 'y' } },
      ]),
    );
    // a name past 128 bytes is cut on a character boundary, like a value, never dropped with its line
    const nameItem = (await get(`/api/v1/logs?q=${encodeURIComponent('"long name"')}`)).json().items[0];
    expect(nameItem.fields).toEqual({ ['n'.repeat(126) + 'é']: 'v', short: 'y', fields_truncated: '1' });
    const manyItem = (await get(`/api/v1/logs?q=${encodeURIComponent('"many fields"')}`)).json().items[0];
    expect(Object.keys(manyItem.fields)).toHaveLength(MAX_FIELDS);
    expect(manyItem.fields.fields_truncated).toBe(String(10_000 - (MAX_FIELDS - 1)));
    const longItem = (await get(`/api/v1/logs?q=${encodeURIComponent('"long value"')}`)).json().items[0];
    expect(Buffer.byteLength(longItem.fields.big)).toBe(MAX_FIELD_VALUE_BYTES);
    expect(longItem.fields.big).toBe('é'.repeat(MAX_FIELD_VALUE_BYTES / 2));
    expect(longItem.fields).toMatchObject({ small: 'x', fields_truncated: '1' });
    // the cut value is what the index holds
    expect(await messages(`field.big=${encodeURIComponent('é'.repeat(MAX_FIELD_VALUE_BYTES / 2))}`)).toEqual(['long value']);
    const prom = (await get('/metrics')).body;
    expect(prom).toMatch(/ringtail_events_total\{event="ingest\.fields_truncated"\} 9939$/m);
    expect(prom).toMatch(/ringtail_events_total\{event="ingest\.fields_bounded"\} 1$/m);
  });
});

describe('the field index in the store', () => {
  const idsOf = (db: Database.Database, key: string, value: string) =>
    db.prepare('SELECT rowid FROM log_fields_fts WHERE log_fields_fts MATCH ? ORDER BY rowid').pluck().all(fieldMatch(key, value, false));

  it('an existing database (schema 5) drops log_fields and gains the tokens of its lines (and the host tables, migration 6)', () => {
    const dir = tempDir('ringtail-fields-');
    try {
      const db = openDatabase(dir.path);
      // back to schema 5: the tables of migrations 6 (host lifecycle), 7 (field tokens) and 8 (number runs) removed
      db.exec('DROP TABLE log_nums_fts; DROP TABLE log_index_meta; DROP TABLE log_fields_fts; DROP TABLE host_state; DROP TABLE host_events; DROP TABLE forgotten_hosts; DROP TABLE host_requests; DROP TABLE host_meta');
      db.exec('CREATE TABLE log_fields (key TEXT NOT NULL, value TEXT NOT NULL, id INTEGER NOT NULL, PRIMARY KEY (key, value, id)) WITHOUT ROWID');
      db.pragma('user_version = 5');
      db.prepare("INSERT INTO logs (id, ts, received_at, host, source, severity, message, fields) VALUES (1, 1, 1, 'h', 's', 6, 'old', ?)").run(JSON.stringify({ user_id: '5', region: 'eu' }));
      db.prepare("INSERT INTO logs (id, ts, received_at, host, source, severity, message, fields) VALUES (2, 1, 1, 'h', 's', 6, 'old plain', NULL)").run();
      db.prepare("INSERT INTO logs (id, ts, received_at, host, source, severity, message, fields) VALUES (3, 1, 1, 'h', 's', 6, 'old too', ?)").run(JSON.stringify({ region: 'eu' }));
      db.close();
      const again = openDatabase(dir.path);
      expect(again.pragma('user_version', { simple: true })).toBe(LOG_SCHEMA_VERSION);
      expect(again.prepare("SELECT count(*) FROM sqlite_schema WHERE name = 'log_fields'").pluck().get()).toBe(0);
      expect(idsOf(again, 'region', 'eu')).toEqual([1, 3]);
      expect(idsOf(again, 'user_id', '5')).toEqual([1]);
      const store = sqliteLogStore(again);
      expect(store.query({ q: 'field.user_id:5', limit: 10 }).items.map((i) => i.message)).toEqual(['old']);
      expect(store.query({ fields: { region: 'eu' }, limit: 10 }).items.map((i) => i.id).sort()).toEqual([1, 3]);
      expect(again.prepare('SELECT count(*) FROM host_state').pluck().get()).toBe(0);
      again.close();
    } finally {
      dir.cleanup();
    }
  });

  it('retention removes the entries of the lines it deletes', () => {
    const dir = tempDir('ringtail-fields-');
    try {
      const db = openDatabase(dir.path);
      const store = sqliteLogStore(db);
      store.ingest(batch([{ message: 'a', fields: { k: '1' }, ts: T0 }, { message: 'b', fields: { k: '1', j: '2' }, ts: T0 + 1 }, { message: 'c', ts: T0 + 2 }]), T0);
      expect(idsOf(db, 'k', '1')).toEqual([1, 2]);
      expect(idsOf(db, 'j', '2')).toEqual([2]);
      expect(store.retention.deleteOlderThan(T0 + 1, 100)).toBe(1);
      expect(idsOf(db, 'k', '1')).toEqual([2]);
      expect(store.retention.deleteOldest(10)).toBe(2);
      expect(idsOf(db, 'k', '1')).toEqual([]);
      expect(idsOf(db, 'j', '2')).toEqual([]);
      expect(db.prepare("INSERT INTO log_fields_fts (log_fields_fts) VALUES ('integrity-check')").run().changes).toBeGreaterThanOrEqual(0);
      db.close();
    } finally {
      dir.cleanup();
    }
  });
});

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
// Field index probe: node bench/fields-index.mjs [lines] [none] after npm run build.
const D = new URL('../dist', import.meta.url).pathname;
const { openDatabase } = await import(D + '/collector/storage/sqlite/open.js');
const { sqliteLogStore } = await import(D + '/collector/storage/sqlite/logs.js');
const N = Number(process.argv[2] ?? 200000);
const WITH = process.argv[3] !== 'none';
const T0 = Date.UTC(2026, 9, 1);
const dir = mkdtempSync(join(tmpdir(), 'e-fields-'));
const db = openDatabase(dir);
const store = sqliteLogStore(db);
let seed = 7; const r = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
const methods = ['GET', 'POST', 'PUT', 'DELETE'];
let off = 0, stream = 0;
const t0 = process.cpuUsage(); const w0 = performance.now();
for (let n = 0; n < N; n += 20000) {
  const items = [];
  for (let b = 0; b < 200; b++) {
    const lines = [];
    const start = off;
    for (let i = 0; i < 100; i++) {
      const k = n + b * 100 + i;
      const message = `request ${methods[k % 4]} /api/v1/users/${k % 1000} took ${k % 97} ms`;
      const l = { offset: off, ts: T0 + k * 10, severity: 6, message };
      if (WITH) l.fields = { user_id: String(Math.floor(r() * 100000)), 'http.method': methods[k % 4], 'http.status': k % 50 === 0 ? '500' : '200', region: ['eu', 'us', 'ap'][k % 3], trace_id: (k * 2654435761 % 4294967296).toString(16) };
      lines.push(l);
      off += message.length + 1;
    }
    items.push({ batch: { version: 1, agent_id: 'a', host: `h${b % 20}`, segments: [{ stream: 's' + stream, source: '/x', start, end: off, lines }] }, receivedAt: T0 + n * 10 });
  }
  store.ingestMany(items);
}
const cpu = process.cpuUsage(t0); const wall = performance.now() - w0;
console.log(JSON.stringify({ lines: N, fields: WITH, cpu_s_per_1M: +(((cpu.user + cpu.system) / 1e6) * 1e6 / N).toFixed(2), wall_s_per_1M: +((wall / 1000) * 1e6 / N).toFixed(2), db_mb: +((db.pragma('page_count', { simple: true }) * db.pragma('page_size', { simple: true })) / 1e6).toFixed(1) }));
if (WITH) {
  const time = (name, f) => { const ts = []; let out; for (let i = 0; i < 20; i++) { const a = performance.now(); out = f(i); ts.push(performance.now() - a); } ts.sort((a, b) => a - b); console.log(name, 'median ms', ts[10].toFixed(2), 'max', ts[19].toFixed(2), 'items', out.items.length); };
  const uid = JSON.parse(db.prepare('SELECT fields FROM logs WHERE id = 12345').pluck().get()).user_id;
  time('field.user_id (rare) limit 100', () => store.query({ q: `field.user_id:${uid}`, limit: 100 }));
  time('?field.user_id (rare) limit 100', () => store.query({ fields: { user_id: uid }, limit: 100 }));
  time('field.http.status:500 limit 100', () => store.query({ q: 'field.http.status:500', limit: 100 }));
  time('field.region:eu limit 100', () => store.query({ q: 'field.region:eu', limit: 100 }));
  time('field.trace_id:ab* (glob) limit 100', () => store.query({ q: 'field.trace_id:ab*', limit: 100 }));
  time('histogram ?field.user_id (rare)', () => ({ items: store.histogram({ fields: { user_id: uid }, start: T0, end: T0 + N * 10, buckets: 60 }).counts }));
  time('field.http.status:500 + word GET', () => store.query({ q: 'field.http.status:500 GET', limit: 100 }));
  const a = performance.now(); const n = db.prepare("SELECT count(*) FROM logs WHERE json_extract(fields, '$.user_id') = ?").pluck().get(uid); console.log('json_extract scan (the alternative) ms', (performance.now() - a).toFixed(0), n);
  const { fieldMatch } = await import(D + '/collector/storage/sqlite/field-tokens.js');
  for (const r of db.prepare(`EXPLAIN QUERY PLAN SELECT l.id FROM logs l WHERE l.id IN (SELECT rowid FROM log_fields_fts WHERE log_fields_fts MATCH ?) ORDER BY l.ts DESC, l.id DESC LIMIT 101`).all(fieldMatch('user_id', '5', false))) console.log('  plan:', r.detail);
}
db.close(); rmSync(dir, { recursive: true, force: true });

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
// A/B of field-index designs in one process (the machine is shared: variants alternate, medians
// and spread reported): node bench/fields-ab.mjs [lines=200000] [reps=3] [variants=none,btree,fts,hash]
//   none  — logs + logs_fts only (fields JSON stored, no field index)
//   btree — log_fields (key, value, id) WITHOUT ROWID from json_each (schema 5)
//   hash  — log_fields_h (h INTEGER, id) WITHOUT ROWID, h a hash of key\0value computed in JS
//   fts   — contentless FTS5 table, one row per line with fields, a token per field
// Each variant ingests the same pino-like lines in 20,000-line transactions as the store does
// (multi-row INSERT of 100 rows, FTS from INSERT … SELECT over the id range).
const N = Number(process.argv[2] ?? 200000);
const REPS = Number(process.argv[3] ?? 3);
const VARIANTS = (process.argv[4] ?? 'none,btree,fts,fts0').split(',');
const TX = 20000;
// FIELDS=5: the five fields of bench/fields-index.mjs instead of nine pino-like ones
const FIVE = process.env.FIELDS === '5';

function fnv(s) {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}
function fnv2(s) {
  let h = 0x2545f491;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}
const keyHex = new Map();
const kh = (k) => {
  let h = keyHex.get(k);
  if (h === undefined) keyHex.set(k, (h = fnv(k).toString(16).padStart(8, '0')));
  return h;
};
// prefix-free escape to [a-z0-9]: a-z 0-9 as is, z as zz, other UTF-16 units as z + 2 or 4 hex + '_' (rare)
function enc(v) {
  if (/^[a-y0-9]*$/.test(v)) return v;
  let o = '';
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if ((c >= 97 && c <= 121) || (c >= 48 && c <= 57)) o += v[i];
    else if (c === 122) o += 'zz';
    else if (c < 256) o += 'z' + c.toString(16).padStart(2, '0');
    else o += 'zu' + c.toString(16).padStart(4, '0');
  }
  return o;
}
const CAP = 64;
const token = (k, v) => 'f' + kh(k) + enc(v).slice(0, CAP);

const T0 = Date.UTC(2026, 9, 1);
const methods = ['GET', 'POST', 'PUT', 'DELETE'];
function corpus(n0, n) {
  let seed = 7 + n0;
  const r = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  const out = [];
  for (let i = 0; i < n; i++) {
    const k = n0 + i;
    out.push({
      ts: T0 + k * 10,
      message: `request ${methods[k % 4]} /api/v1/users/${k % 1000} took ${k % 97} ms`,
      fields: FIVE ? { user_id: String(Math.floor(r() * 100000)), 'http.method': methods[k % 4], 'http.status': k % 50 === 0 ? '500' : '200', region: ['eu', 'us', 'ap'][k % 3], trace_id: ((k * 2654435761) % 4294967296).toString(16) } : {
        pid: String(1000 + (k % 7)),
        hostname: 'web-' + (k % 20),
        user_id: String(Math.floor(r() * 100000)),
        'req.method': methods[k % 4],
        'req.url': `/api/v1/users/${k % 1000}`,
        'res.statusCode': k % 50 === 0 ? '500' : '200',
        responseTime: String(k % 97),
        region: ['eu', 'us', 'ap'][k % 3],
        trace_id: ((k * 2654435761) % 4294967296).toString(16),
      },
    });
  }
  return out;
}

function open(variant) {
  const dir = mkdtempSync(join(tmpdir(), 'e2-fab-'));
  const db = new Database(join(dir, 'x.db'));
  db.pragma('page_size = 16384');
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec(`CREATE TABLE logs (id INTEGER PRIMARY KEY, ts INTEGER NOT NULL, received_at INTEGER NOT NULL, host TEXT NOT NULL, source TEXT NOT NULL,
    program TEXT, pid INTEGER, facility INTEGER, severity INTEGER NOT NULL, message TEXT NOT NULL, fields TEXT);
  CREATE INDEX logs_ts ON logs (ts); CREATE INDEX logs_host_ts ON logs (host, ts);
  CREATE VIRTUAL TABLE logs_fts USING fts5 (message, content='', contentless_delete=1, tokenize='unicode61');
  INSERT INTO logs_fts (logs_fts, rank) VALUES ('deletemerge', 0); INSERT INTO logs_fts (logs_fts, rank) VALUES ('automerge', 12);`);
  if (variant === 'btree') db.exec('CREATE TABLE log_fields (key TEXT NOT NULL, value TEXT NOT NULL, id INTEGER NOT NULL, PRIMARY KEY (key, value, id)) WITHOUT ROWID');
  if (variant === 'hash') db.exec('CREATE TABLE log_fields_h (h INTEGER NOT NULL, id INTEGER NOT NULL, PRIMARY KEY (h, id)) WITHOUT ROWID');
  if (variant === 'fts') {
    db.exec(`CREATE VIRTUAL TABLE log_fields_fts USING fts5 (t, content='', contentless_delete=1, tokenize='ascii', detail='none');
      INSERT INTO log_fields_fts (log_fields_fts, rank) VALUES ('deletemerge', 0); INSERT INTO log_fields_fts (log_fields_fts, rank) VALUES ('automerge', 12);`);
  }
  if (variant === 'fts0') {
    db.exec(`CREATE VIRTUAL TABLE log_fields_fts USING fts5 (t, content='', columnsize=0, tokenize='ascii', detail='none');
      INSERT INTO log_fields_fts (log_fields_fts, rank) VALUES ('automerge', 12);`);
  }
  return { db, dir };
}

function ingest(variant, db) {
  const ins = db.prepare(`INSERT INTO logs (id, ts, received_at, host, source, program, pid, facility, severity, message, fields) VALUES ${new Array(100).fill('(?,?,1,?,?,NULL,NULL,NULL,6,?,?)').join(',')}`);
  const fts = db.prepare('INSERT INTO logs_fts (rowid, message) SELECT id, message FROM logs WHERE id BETWEEN ? AND ?');
  const bt = variant !== 'btree' ? null : db.prepare(`INSERT OR IGNORE INTO log_fields (key, value, id) SELECT j.key, j.value, l.id FROM logs l, json_each(l.fields) j WHERE l.id BETWEEN ? AND ? AND l.fields IS NOT NULL`);
  const fIns = variant.startsWith('fts') ? db.prepare(`INSERT INTO log_fields_fts (rowid, t) VALUES ${new Array(100).fill('(?,?)').join(',')}`) : null;
  const hIns = variant === 'hash' ? db.prepare(`INSERT OR IGNORE INTO log_fields_h (h, id) VALUES ${new Array(100).fill('(?,?)').join(',')}`) : null;
  let id = 1;
  let cpu = 0;
  for (let n0 = 0; n0 < N; n0 += TX) {
    const lines = corpus(n0, TX); // generating the corpus is not the collector's cost
    const c0 = process.cpuUsage();
    db.transaction(() => {
      const first = id;
      const args = [];
      const ft = [];
      const hv = [];
      for (const l of lines) {
        const fj = JSON.stringify(l.fields);
        args.push(id, l.ts, 'h1', '/x', l.message, fj);
        if (variant.startsWith('fts')) {
          let t = '';
          for (const k in l.fields) t += (t ? ' ' : '') + token(k, l.fields[k]);
          ft.push(id, t);
        } else if (variant === 'hash') {
          for (const k in l.fields) {
            const s = k + '\0' + l.fields[k];
            hv.push([fnv(s) * 2097152 + (fnv2(s) & 0x1fffff), id]);
          }
        }
        id++;
        if (args.length === 600) { ins.run(args); args.length = 0; }
        if (ft.length === 200) { fIns.run(ft); ft.length = 0; }
      }
      fts.run(first, id - 1);
      if (variant === 'btree') bt.run(first, id - 1);
      if (variant === 'hash') {
        hv.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
        const a = [];
        for (const [h, i] of hv) { a.push(h, i); if (a.length === 200) { hIns.run(a); a.length = 0; } }
      }
    })();
    const c = process.cpuUsage(c0);
    cpu += c.user + c.system;
  }
  return cpu / 1e6;
}

function timeQ(db, f) {
  const ts = [];
  let n = 0;
  for (let i = 0; i < 15; i++) { const a = performance.now(); n = f(); ts.push(performance.now() - a); }
  ts.sort((a, b) => a - b);
  return `${ts[7].toFixed(2)} ms (n=${n})`;
}

function queries(variant, db) {
  const uid = JSON.parse(db.prepare('SELECT fields FROM logs WHERE id = 12345').pluck().get()).user_id;
  const verify = (k, v, glob) => `EXISTS (SELECT 1 FROM json_each(l.fields) WHERE key = '${k}' AND value ${glob ? 'GLOB' : '='} '${v}')`;
  const q = {};
  if (variant === 'btree') {
    const inq = (k, v, g) => db.prepare(`SELECT l.id FROM logs l WHERE l.id IN (SELECT id FROM log_fields WHERE key = ? AND value ${g ? 'GLOB' : '='} ?) ORDER BY l.ts DESC, l.id DESC LIMIT 101`).pluck();
    q.rare = () => inq().all('user_id', uid).length;
    q.common = () => db.prepare(`SELECT l.id FROM logs l WHERE EXISTS (SELECT 1 FROM log_fields WHERE key = 'region' AND value = 'eu' AND id = l.id) ORDER BY l.ts DESC, l.id DESC LIMIT 101`).pluck().all().length;
    q.glob = () => inq(0, 0, true).all('trace_id', 'abc*').length;
  }
  if (variant.startsWith('fts')) {
    const inq = (m, k, v, g) => db.prepare(`SELECT l.id FROM logs l WHERE l.id IN (SELECT rowid FROM log_fields_fts WHERE log_fields_fts MATCH ?) AND ${verify(k, v, g)} ORDER BY l.ts DESC, l.id DESC LIMIT 101`).pluck().all(m).length;
    q.rare = () => inq(token('user_id', uid), 'user_id', uid);
    q.common = () => db.prepare(`SELECT l.id FROM logs l WHERE ${verify('region', 'eu')} ORDER BY l.ts DESC, l.id DESC LIMIT 101`).pluck().all().length;
    q.glob = () => inq(token('trace_id', 'abc') + '*', 'trace_id', 'abc*', true);
    q.count = () => db.prepare('SELECT count(*) FROM (SELECT 1 FROM log_fields_fts WHERE log_fields_fts MATCH ? LIMIT 10001)').pluck().get(token('region', 'eu'));
  }
  if (variant === 'hash') {
    const s = 'user_id\0' + uid;
    q.rare = () => db.prepare(`SELECT l.id FROM logs l WHERE l.id IN (SELECT id FROM log_fields_h WHERE h = ?) AND ${verify('user_id', uid)} ORDER BY l.ts DESC, l.id DESC LIMIT 101`).pluck().all(fnv(s) * 2097152 + (fnv2(s) & 0x1fffff)).length;
  }
  q.jsonScanRare = () => db.prepare(`SELECT count(*) FROM logs l WHERE ${verify('user_id', uid)}`).pluck().get();
  const out = {};
  for (const [k, f] of Object.entries(q)) out[k] = timeQ(db, f);
  return out;
}

const res = Object.fromEntries(VARIANTS.map((v) => [v, []]));
let lastQ = {};
for (let rep = 0; rep < REPS; rep++) {
  for (const v of rep % 2 ? [...VARIANTS].reverse() : VARIANTS) {
    const { db, dir } = open(v);
    const s = ingest(v, db);
    res[v].push((s * 1e6) / N);
    if (rep === REPS - 1) {
      lastQ[v] = queries(v, db);
      lastQ[v].db_mb = ((db.pragma('page_count', { simple: true }) * 16384) / 1e6).toFixed(1);
    }
    db.close();
    rmSync(dir, { recursive: true, force: true });
    console.log(`rep ${rep} ${v}: ${((s * 1e6) / N).toFixed(2)} CPU s per 1 M lines`);
  }
}
for (const [v, xs] of Object.entries(res)) {
  xs.sort((a, b) => a - b);
  console.log(v, 'median', xs[xs.length >> 1].toFixed(2), 'min', xs[0].toFixed(2), 'max', xs[xs.length - 1].toFixed(2), JSON.stringify(lastQ[v] ?? {}));
}

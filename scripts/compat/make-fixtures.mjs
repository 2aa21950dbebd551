#!/usr/bin/env node
// Writes the upgrade fixtures (docs/upgrades.md) from earlier versions of ringtail, run for real:
//
//   test/fixtures/schemas/vN/   a collector data directory written by the last commit of the
//                               main line whose log store had schema version N (ringtail.db.gz,
//                               metrics.db.gz) and manifest.json: the tokens, session cookie,
//                               lines, series and rules put in, and what that version answered
//   test/fixtures/wire/previous/ the previous version's shared/wire.ts, verbatim, and
//                               bodies.json: the requests its agent sent (logs, metrics, check
//                               results) and the acks its collector answered
//
// Each commit is checked out with `git worktree add` into a scratch directory and built with tsc
// (scripts/compat/old-builds.mjs); its CLI creates the tokens, its collector takes the data
// through its HTTP API, its agent ships through a recording proxy. Run once per new schema or
// release: `node scripts/compat/make-fixtures.mjs [--scratch DIR] [--keep]`.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import Database from 'better-sqlite3';
import { oldBuild, removeBuild, ROOT } from './old-builds.mjs';

/** schema version → the last commit of the main line (first parents) that wrote it; v2 only ever lived on a branch */
export const SCHEMA_COMMITS = [
  { version: 1, commit: 'aefeb15', note: 'last commit with schema 1 (2026-11-23)' },
  { version: 2, commit: '2351038', note: 'log_spans; only on a branch (2026-11-23)' },
  { version: 3, commit: 'cd7f891', note: 'last commit with schema 3 (2026-11-29)' },
  { version: 4, commit: '695fed5', note: 'last commit of 2026-11-29, schema 4' },
  { version: 5, commit: 'dab6080', note: 'last commit with schema 5 (2026-12-07)' },
  { version: 6, commit: '5103e42', note: 'last commit with schema 6 (2026-12-07)' },
  { version: 7, commit: '4e01301', note: 'last commit of the 2026-12-07 morning session, schema 7' },
  { version: 8, commit: '44d9462', note: 'last commit with schema 8, before host tokens (2026-12-07)' },
  { version: 9, commit: 'b7cd5f2', note: 'last commit with schema 9, before the FTS5 hashsize (2026-12-07)' },
];
/** the previous version for wire compatibility: the state before the 2026-12-07 sessions */
export const WIRE_PREVIOUS = { commit: '695fed5', note: 'the last commit of 2026-11-29, before the 2026-12-07 sessions' };

const ADMIN = 'rt_admin_fixture_only_0123456789abcdef';
const args = process.argv.slice(2);
const scratch = args.includes('--scratch') ? args[args.indexOf('--scratch') + 1] : mkdtempSync(join(tmpdir(), 'ringtail-compat-'));
const keep = args.includes('--keep');

function run(bin, argv) {
  return execFileSync(process.execPath, [bin, ...argv], { encoding: 'utf8' }).trim();
}
function lastLine(s) {
  return s.split('\n').pop();
}
async function until(what, probe, ms = 60_000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false && v !== null) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
function start(bin, argv, env = {}) {
  const child = spawn(process.execPath, [bin, ...argv], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const exited = new Promise((r) => child.on('exit', (code, signal) => r({ code, signal })));
  return { child, out: () => out, exited };
}
async function call(url, method, path, token, body, headers = {}) {
  const res = await fetch(url + path, {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let json = null;
  try {
    json = JSON.parse(text);
  } catch {}
  return { status: res.status, json, text, cookie: res.headers.get('set-cookie') };
}

/** The lines every fixture holds: words to search for, a structured line, two hosts. */
function logBatch(now, withFields) {
  const msgs = [
    { severity: 6, program: 'sshd', message: 'user alice logged in from 10.0.0.5' },
    { severity: 4, program: 'kernel', message: 'disk almost full on /var (93%)' },
    { severity: 3, program: 'shop', message: 'payment failed order=1234 user=alice', fields: { order: '1234', user: 'alice' } },
    { severity: 6, program: 'shop', message: 'zèbre ünïcödé café line' },
  ];
  let off = 0;
  const lines = msgs.map((m, i) => {
    const line = { offset: off, ts: now - 60_000 + i * 1000, severity: m.severity, program: m.program, message: m.message };
    if (withFields && m.fields) line.fields = m.fields;
    off += Buffer.byteLength(m.message) + 1;
    return line;
  });
  return {
    version: 1,
    agent_id: 'agt_fixture_web1',
    host: 'web-1',
    segments: [{ stream: 'fixture-stream-app', source: '/var/log/app.log', start: 0, end: off, lines }],
  };
}

async function schemaFixture({ version, commit, note }) {
  const dir = oldBuild(commit, scratch);
  const bin = join(dir, 'bin/ringtail');
  const data = mkdtempSync(join(tmpdir(), `ringtail-fixture-v${version}-`));
  const oldConfig = readFileSync(join(dir, 'collector/config.ts'), 'utf8');
  const token = (role, name) => lastLine(run(bin, ['token', 'create', '--data', data, '--role', role, '--name', name]));
  const tokens = { agent: token('agent', 'fixture-agent'), viewer: token('viewer', 'fixture-viewer'), revoked: token('agent', 'fixture-revoked') };
  const revokedId = run(bin, ['token', 'list', '--data', data]).split('\n').map((l) => JSON.parse(l)).find((t) => t.name === 'fixture-revoked').id;
  run(bin, ['token', 'revoke', '--data', data, '--id', revokedId]);

  const collector = start(bin, ['collector', '--data', data, '--listen', '127.0.0.1:0', '--admin-token', ADMIN, '--log-level', 'warn', ...(oldConfig.includes('syslog') ? ['--no-syslog-enabled'] : [])]);
  const url = await until('the old collector', () => {
    if (collector.child.exitCode !== null) throw new Error(`collector ${commit} exited: ${collector.out()}`);
    return /listening on (http:\/\/\S+)/.exec(collector.out())?.[1];
  });
  const now = Date.now();
  const m = { schema_version: version, commit, note, created_at: now, admin_token: ADMIN, tokens, put: {}, answers: {}, skipped: [] };
  try {
    // logs: with structured fields where that version takes them
    let batch = logBatch(now, true);
    let r = await call(url, 'POST', '/api/v1/ingest', tokens.agent, batch);
    if (r.status === 400 && /fields/.test(r.text)) {
      batch = logBatch(now, false);
      r = await call(url, 'POST', '/api/v1/ingest', tokens.agent, batch);
    }
    if (r.status !== 200) throw new Error(`ingest ${commit}: ${r.status} ${r.text}`);
    const db1 = { version: 1, agent_id: 'agt_fixture_db1', host: 'db-1', segments: [{ stream: 'fixture-stream-db', source: '/var/log/db.log', start: 0, end: 28, lines: [{ offset: 0, ts: now - 30_000, severity: 5, message: 'checkpoint complete in 3 s' }] }] };
    if ((r = await call(url, 'POST', '/api/v1/ingest', tokens.agent, db1)).status !== 200) throw new Error(`ingest db-1: ${r.text}`);
    m.put.logs = { batches: [batch, db1] };
    m.answers.logs = (await call(url, 'GET', '/api/v1/logs?limit=100', tokens.viewer)).json;
    m.answers.search_payment = (await call(url, 'GET', '/api/v1/logs?q=payment&limit=100', tokens.viewer)).json;

    // metrics and a process check's results, ten seconds apart
    const t0 = Math.floor(now / 10_000) * 10_000 - 120_000;
    const samples = [];
    for (let i = 0; i < 12; i++) {
      samples.push({ name: 'cpu.user', type: 'GAUGE', ts: t0 + i * 10_000, value: 10 + i });
      samples.push({ name: 'check.process.count', type: 'GAUGE', ts: t0 + i * 10_000, value: i % 4 === 3 ? 0 : 1, labels: { check: 'app' } });
    }
    const mb = { version: 1, agent_id: 'agt_fixture_web1', host: 'web-1', interval_ms: 10_000, samples };
    r = await call(url, 'POST', '/api/v1/metrics/ingest', tokens.agent, mb);
    if (r.status === 200) {
      m.put.metrics = { batch: mb, ack: r.json };
      const q = `host=web-1&metric=cpu.user&start=${t0 - 10_000}&end=${t0 + 120_000}`;
      m.answers.series = { query: q, body: (await call(url, 'GET', `/api/v1/series?${q}`, tokens.viewer)).json };
      m.answers.metrics = (await call(url, 'GET', '/api/v1/metrics?host=web-1', tokens.viewer)).json;
    } else m.skipped.push(`metrics: ${r.status}`);

    // an alert rule made through the API (metric rules where that version has them, else a log rule)
    const rules = [
      { kind: 'metric', name: 'fixture-cpu', metric: 'cpu.user', op: 'above', warning: 90, window: '1m' },
      { kind: 'log', name: 'fixture-payments', query: 'payment', threshold: 5, window: '5m' },
    ];
    for (const rule of rules) {
      r = await call(url, 'PUT', `/api/v1/alerts/rules/${rule.name}`, ADMIN, rule);
      if (r.status === 200 || r.status === 201) {
        m.put.rule = rule;
        break;
      }
      m.skipped.push(`rule ${rule.name}: ${r.status} ${r.text.slice(0, 200)}`);
    }
    if (m.put.rule) m.answers.rules = (await call(url, 'GET', '/api/v1/alerts/rules', tokens.viewer)).json;

    // a dashboard session for the viewer
    r = await call(url, 'POST', '/api/v1/session', undefined, { token: tokens.viewer });
    if (r.status === 200 && r.cookie) m.put.session = { cookie: r.cookie.split(';')[0], csrf: r.json.csrf, expires_at: r.json.expires_at };
    else m.skipped.push(`session: ${r.status}`);

    r = await call(url, 'GET', '/api/v1/hosts', tokens.viewer);
    m.answers.hosts = r.json;
  } finally {
    collector.child.kill('SIGTERM');
    const { code, signal } = await collector.exited;
    if (code !== 0 && signal !== 'SIGTERM') process.stderr.write(`collector ${commit} ended ${code ?? signal}: ${collector.out()}\n`);
  }

  const db = new Database(join(data, 'ringtail.db'), { readonly: true });
  const uv = db.pragma('user_version', { simple: true });
  const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").pluck().all();
  m.tables = tables;
  m.alerts_schema = tables.includes('alerts_schema') ? db.prepare('SELECT version FROM alerts_schema').pluck().get() : null;
  m.host_states = tables.includes('host_state') ? db.prepare('SELECT host, state FROM host_state ORDER BY host').all() : null;
  db.close();
  if (uv !== version) throw new Error(`${commit} wrote schema ${uv}, expected ${version}`);

  const out = join(ROOT, 'test/fixtures/schemas', `v${version}`);
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  // gzipped: an old round-robin store preallocates its archives (1.2 MB of unknown rows)
  for (const f of ['ringtail.db', 'ringtail.db-wal', 'metrics.db', 'metrics.db-wal']) {
    const file = join(data, f);
    if (existsSync(file) && statSync(file).size > 0) writeFileSync(join(out, f + '.gz'), gzipSync(readFileSync(file), { level: 9 }));
  }
  writeFileSync(join(out, 'manifest.json'), JSON.stringify(m, null, 1) + '\n');
  rmSync(data, { recursive: true, force: true });
  process.stderr.write(`v${version} (${commit}): ${tables.length} tables, skipped: ${m.skipped.join('; ') || 'nothing'}\n`);
}

/** A proxy in front of a collector that keeps every request body and its answer. */
function recordingProxy(target) {
  const records = [];
  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const up = request(target + req.url, { method: req.method, headers: req.headers }, (ures) => {
        const back = [];
        ures.on('data', (c) => back.push(c));
        ures.on('end', () => {
          const answer = Buffer.concat(back);
          if (req.method === 'POST') {
            const text = (req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw).toString('utf8');
            const type = req.headers['content-type'] ?? '';
            records.push({
              path: req.url,
              content_type: type,
              after: req.headers['x-ringtail-after'] ?? null,
              bodies: type.startsWith('application/x-ndjson') ? text.split('\n').filter(Boolean).map((l) => JSON.parse(l)) : [JSON.parse(text)],
              status: ures.statusCode,
              answer: JSON.parse(answer.toString('utf8') || 'null'),
            });
          }
          res.writeHead(ures.statusCode, ures.headers);
          res.end(answer);
        });
      });
      up.on('error', (e) => {
        res.writeHead(502);
        res.end(String(e));
      });
      up.end(raw);
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ url: `http://127.0.0.1:${server.address().port}`, records, close: () => server.close() })));
}

async function wireFixture({ commit, note }) {
  const dir = oldBuild(commit, scratch);
  const bin = join(dir, 'bin/ringtail');
  const work = mkdtempSync(join(tmpdir(), 'ringtail-fixture-wire-'));
  const data = join(work, 'data');
  const agentToken = lastLine(run(bin, ['token', 'create', '--data', data, '--role', 'agent', '--name', 'fixture-agent']));
  const collector = start(bin, ['collector', '--data', data, '--listen', '127.0.0.1:0', '--admin-token', ADMIN, '--log-level', 'warn', '--no-syslog-enabled']);
  const url = await until('the old collector', () => {
    if (collector.child.exitCode !== null) throw new Error(`collector exited: ${collector.out()}`);
    return /listening on (http:\/\/\S+)/.exec(collector.out())?.[1];
  });
  const proxy = await recordingProxy(url);
  const app = spawn('sleep', ['600'], { stdio: 'ignore' });
  writeFileSync(join(work, 'app.pid'), `${app.pid}\n`);
  writeFileSync(join(work, 'app.log'), 'first line\n{"level":"error","msg":"payment failed","order":1234}\nlast line before the agent\n');
  writeFileSync(
    join(work, 'agent.json'),
    JSON.stringify({
      collector: proxy.url,
      watch: [join(work, '*.log')],
      state: join(work, 'agent-state'),
      host: 'wire-host',
      metrics: { interval_ms: 1000, families: ['load', 'memory'] },
      checks: { processes: [{ name: 'app', pidfile: join(work, 'app.pid') }], tcp: [{ name: 'closed', address: '127.0.0.1:9' }] },
    }),
  );
  const agent = start(bin, ['agent', '--config', join(work, 'agent.json')], { RINGTAIL_TOKEN: agentToken });
  try {
    const has = (p) => proxy.records.some((r) => r.path === p && r.status === 200);
    const checks = () => proxy.records.some((r) => r.path === '/api/v1/metrics/ingest' && r.bodies.some((b) => b.samples.some((s) => s.name.startsWith('check.'))));
    await until('logs, metrics and check results through the proxy', () => has('/api/v1/ingest') && has('/api/v1/metrics/ingest') && checks(), 60_000);
    app.kill('SIGKILL');
    writeFileSync(join(work, 'app.log'), 'a line after the app died\n', { flag: 'a' });
    const n = proxy.records.length;
    await until('a second round', () => proxy.records.length >= n + 2, 30_000);
  } finally {
    agent.child.kill('SIGTERM');
    await agent.exited;
    collector.child.kill('SIGTERM');
    await collector.exited;
    proxy.close();
    app.kill('SIGKILL');
  }
  const out = join(ROOT, 'test/fixtures/wire/previous');
  mkdirSync(out, { recursive: true });
  const wire = execFileSync('git', ['-C', ROOT, 'show', `${commit}:shared/wire.ts`], { encoding: 'utf8' });
  writeFileSync(
    join(out, 'wire.ts'),
    `// The previous version's wire format, verbatim from ${commit}:shared/wire.ts (${note}).\n// Written by scripts/compat/make-fixtures.mjs. Do not edit: test/integration/upgrade-wire.test.ts checks today's\n// agent and collector against it.\n` + wire,
  );
  writeFileSync(join(out, 'bodies.json'), JSON.stringify({ commit, note, recorded_at: Date.now(), requests: proxy.records }, null, 1) + '\n');
  rmSync(work, { recursive: true, force: true });
  process.stderr.write(`wire (${commit}): ${proxy.records.length} requests recorded\n`);
}

const only = args.includes('--only') ? args[args.indexOf('--only') + 1] : null;
// --version N: that schema's fixture alone (a new migration needs the one before it)
const version = args.includes('--version') ? Number(args[args.indexOf('--version') + 1]) : null;
const schemas = SCHEMA_COMMITS.filter((s) => version === null || s.version === version);
if (!only || only === 'schemas') for (const s of schemas) await schemaFixture(s);
if ((!only && version === null) || only === 'wire') await wireFixture(WIRE_PREVIOUS);
if (!keep) for (const c of new Set([...schemas.map((s) => s.commit), ...(version === null ? [WIRE_PREVIOUS.commit] : [])])) removeBuild(c, scratch);

// Upgrades (issue 15, item 6; docs/upgrades.md): a data directory written by each earlier schema
// version of the collector — by that version's own code, run for real by
// scripts/compat/make-fixtures.mjs — is opened by today's collector, migrated, and everything put
// in is still there through the API: lines listed and searchable, tokens valid (and the revoked
// one still refused), stream checkpoints kept (a redelivered batch is a duplicate), hosts,
// series answering what the old version answered, API alert rules, dashboard sessions.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { buildApp } from '../../collector/app.js';
import { MIGRATIONS as ALERT_MIGRATIONS } from '../../collector/storage/sqlite/alerts.js';
import { FTS_HASH_BYTES, LOG_SCHEMA_VERSION } from '../../collector/storage/sqlite/open.js';
import type { IngestBatch, MetricBatch } from '../../shared/wire.js';
import { tempDir } from '../helpers/proc.js';
import { copySchemaFixture, SCHEMA_FIXTURES } from '../helpers/schema-fixtures.js';

// adding migration N makes this test ask for a fixture of schema N-1 (scripts/compat/make-fixtures.mjs)
const SCHEMA_NOW = LOG_SCHEMA_VERSION;

interface Manifest {
  schema_version: number;
  commit: string;
  created_at: number;
  admin_token: string;
  tokens: { agent: string; viewer: string; revoked: string };
  put: {
    logs: { batches: IngestBatch[] };
    metrics?: { batch: MetricBatch };
    rule?: { name: string; kind: string };
    session?: { cookie: string; csrf: string; expires_at: number };
  };
  answers: {
    logs: { items: Array<{ message: string; host: string; fields?: Record<string, string> | null }> };
    search_payment: { items: Array<{ message: string }> };
    series?: { query: string; body: { values: Array<number | null> } };
  };
}

const versions = readdirSync(SCHEMA_FIXTURES)
  .filter((d) => /^v\d+$/.test(d))
  .map((d) => Number(d.slice(1)))
  .sort((a, b) => a - b);

/** A copy of fixture vN as a data directory (the fixture itself is never written). */
function dataDirOf(version: number, into: string): Manifest {
  const src = copySchemaFixture(version, into);
  return JSON.parse(readFileSync(join(src, 'manifest.json'), 'utf8')) as Manifest;
}

let app: FastifyInstance | null = null;
let dir: { path: string; cleanup(): void } | null = null;
afterEach(async () => {
  await app?.close();
  app = null;
  dir?.cleanup();
  dir = null;
});

describe('a data directory from each earlier schema version', () => {
  it('there is a fixture for every earlier schema version', () => {
    expect(versions).toEqual(Array.from({ length: SCHEMA_NOW - 1 }, (_, i) => i + 1));
  });

  it.each(versions)('schema v%i: migrated by today’s collector, everything readable through the API', async (v) => {
    dir = tempDir(`ringtail-upgrade-v${v}-`);
    const m = dataDirOf(v, dir.path);
    const before = new Database(join(dir.path, 'ringtail.db'), { readonly: true });
    expect(before.pragma('user_version', { simple: true })).toBe(v);
    before.close();

    // the collector's clock a minute after the fixture was written: sessions still young
    const now = m.created_at + 60_000;
    app = await buildApp({ dataDir: dir.path, clock: () => now });
    await app.ready();
    const get = async (url: string, token: string) => {
      const res = await app!.inject({ method: 'GET', url, headers: { authorization: `Bearer ${token}` } });
      expect(res.statusCode, `${url}: ${res.body}`).toBe(200);
      return res.json();
    };

    // migrated to today's schema, the alert tables too
    const after = new Database(join(dir.path, 'ringtail.db'), { readonly: true });
    expect(after.pragma('user_version', { simple: true })).toBe(SCHEMA_NOW);
    expect(after.prepare('SELECT version FROM alerts_schema').pluck().get()).toBe(ALERT_MIGRATIONS.length);
    // each full-text table buffers a whole commit's terms (migration 10: a config row, nothing rewritten)
    for (const t of ['logs_fts', 'log_fields_fts', 'log_nums_fts']) {
      expect(after.prepare(`SELECT v FROM ${t}_config WHERE k = 'hashsize'`).pluck().get(), t).toBe(FTS_HASH_BYTES);
    }
    after.close();

    // every line, as the old version listed it
    const logs = (await get('/api/v1/logs?limit=100', m.tokens.viewer)) as Manifest['answers']['logs'];
    expect(logs.items.map((i) => i.message).sort()).toEqual(m.answers.logs.items.map((i) => i.message).sort());
    // searchable: words, a word with accents, a host, a structured field (indexed by the migration)
    const search = async (q: string) => ((await get(`/api/v1/logs?limit=100&q=${encodeURIComponent(q)}`, m.tokens.viewer)) as Manifest['answers']['logs']).items.map((i) => i.message);
    expect(await search('payment')).toEqual(m.answers.search_payment.items.map((i) => i.message));
    expect(await search('alice')).toHaveLength(2);
    expect(await search('café')).toEqual(['zèbre ünïcödé café line']);
    expect(await search('checkpoint host:db-1')).toEqual(['checkpoint complete in 3 s']);
    const structured = m.put.logs.batches[0]!.segments[0]!.lines.some((l) => l.fields);
    if (structured) expect(await search('field.order:1234')).toEqual(['payment failed order=1234 user=alice']);

    // hosts known before the upgrade are still listed
    const hosts = (await get('/api/v1/hosts', m.tokens.viewer)) as { items: Array<{ host: string }> };
    expect(hosts.items.map((h) => h.host).sort()).toEqual(['db-1', 'web-1']);

    // tokens: the agent's still ingests, and the stream's committed end was kept, so the old
    // batch redelivered is a duplicate and the next lines continue it; the revoked one is refused
    const ingest = (batch: unknown, token: string) => app!.inject({ method: 'POST', url: '/api/v1/ingest', headers: { authorization: `Bearer ${token}` }, payload: batch as object });
    const old = m.put.logs.batches[0]!;
    const again = await ingest(old, m.tokens.agent);
    expect(again.statusCode, again.body).toBe(200);
    expect(again.json()).toMatchObject({ accepted: 0, duplicates: old.segments[0]!.lines.length });
    const end = old.segments[0]!.end;
    const next = { ...old, segments: [{ ...old.segments[0]!, start: end, end: end + 25, lines: [{ offset: end, ts: now, severity: 6, message: 'first line after upgrade' }] }] };
    expect((await ingest(next, m.tokens.agent)).json()).toMatchObject({ accepted: 1, duplicates: 0 });
    expect(await search('upgrade')).toEqual(['first line after upgrade']);
    expect((await ingest(next, m.tokens.revoked)).statusCode).toBe(401);
    const tokens = (await get('/api/v1/session', m.tokens.viewer)) as { role: string };
    expect(tokens.role).toBe('viewer');

    // series: the same values the old version answered for the same query
    if (m.answers.series) {
      const series = (await get(`/api/v1/series?${m.answers.series.query}`, m.tokens.viewer)) as { values: Array<number | null> };
      expect(series.values).toEqual(m.answers.series.body.values);
      expect(series.values.filter((x) => x !== null).length).toBeGreaterThan(5);
      const checks = (await get('/api/v1/metrics?host=web-1', m.tokens.viewer)) as { items: Array<{ metric: string }> };
      expect(checks.items.map((i) => i.metric)).toContain('check.process.count{check=app}');
      // and the store goes on taking samples
      const res = await app.inject({
        method: 'POST',
        url: '/api/v1/metrics/ingest',
        headers: { authorization: `Bearer ${m.tokens.agent}` },
        payload: { ...m.put.metrics!.batch, samples: [{ name: 'cpu.user', type: 'GAUGE', ts: now, value: 42 }] },
      });
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json()).toMatchObject({ accepted: 1 });
    }

    // alert rules made through the API
    if (m.put.rule) {
      const rules = (await get('/api/v1/alerts/rules', m.tokens.viewer)) as { items: Array<{ name: string; source: string }> };
      expect(rules.items.find((r) => r.name === m.put.rule!.name)).toMatchObject({ source: 'api' });
    }

    // a dashboard session signed in before the upgrade
    if (m.put.session) {
      const res = await app.inject({ method: 'GET', url: '/api/v1/session', headers: { cookie: m.put.session.cookie } });
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json()).toMatchObject({ role: 'viewer', csrf: m.put.session.csrf });
    }
  }, 60_000);
});

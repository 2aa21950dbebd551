// Forget or retire a host while its new series are being created on the metric store's thread
// (a group's creates run there in slices, and synchronous calls such as deletes are served
// between slices): neither the operation nor the ingest request answers 500, a forgotten host
// leaves no series behind, and the host can report again afterwards.
import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildApp } from '../../collector/app.js';
import { CREATE_SLICE } from '../../collector/metrics/store-worker.js';
import { WIRE_VERSION, type MetricBatch } from '../../shared/wire.js';
import { FakeClock, bearer } from '../helpers/alerts.js';
import { tempDir } from '../helpers/proc.js';

const T0 = 1_700_000_000_000;
/** enough series for several creation slices, so that the operation lands between two */
const SERIES = 4 * CREATE_SLICE;

let dir: { path: string; cleanup(): void };
let app: FastifyInstance;
let clock: FakeClock;
let agent: string;
let admin: string;

beforeEach(async () => {
  dir = tempDir('ringtail-hosts-race-');
  clock = new FakeClock(T0);
  app = await buildApp({ dataDir: dir.path, clock: clock.now, hostMetrics: { thread: true } });
  await app.ready();
  agent = (await app.storage.tokens.create('agent', 'agent', Date.now())).token;
  admin = (await app.storage.tokens.create('admin', 'admin', Date.now())).token;
});
afterEach(async () => {
  await app.close();
  dir.cleanup();
});

const batch = (host: string, ts: number): MetricBatch => ({
  version: WIRE_VERSION,
  agent_id: `agt_${host}`,
  host,
  interval_ms: 10_000,
  ephemeral: true,
  samples: Array.from({ length: SERIES }, (_, i) => ({ name: `race.s${i}`, type: 'GAUGE' as const, ts, value: i })),
});
const ingest = (host: string, ts: number) => app.inject({ method: 'POST', url: '/api/v1/metrics/ingest', headers: bearer(agent), payload: batch(host, ts) });
/** the host's series in the store itself (not the catalog) */
const stored = (host: string) => app.hostMetrics.store.list().filter((n) => n.startsWith(`${host}/`)).length;

/** resolves once the group holding the host's request is planned (its series in the catalog), i.e. being created */
async function planned(host: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (app.hostMetrics.list(host).length === 0) {
    if (Date.now() > deadline) throw new Error(`${host}'s series never reached the catalog`);
    await new Promise((r) => setImmediate(r));
  }
}

describe('forget / retire while a host’s series are being created', () => {
  it('forget answers 200 and the ingest 200 (it was 500: its updates of deleted series failed); nothing of the host is left; it can report again', async () => {
    const inflight = ingest('race-1', T0);
    await planned('race-1');
    const forget = await app.inject({ method: 'DELETE', url: '/api/v1/hosts/race-1', headers: bearer(admin) });
    const first = await inflight;
    expect(forget.statusCode, forget.body).toBe(200);
    expect(forget.json()).toMatchObject({ forgotten: true });
    // the request in flight is answered as stored: it came before the forget, which deleted it
    expect(first.statusCode, first.body).toBe(200);
    expect(first.json()).toMatchObject({ accepted: SERIES, created: SERIES });
    // forgotten: no series of it in the store (slices created after the delete were left there)
    expect(app.hostMetrics.list('race-1')).toHaveLength(0);
    expect(stored('race-1')).toBe(0);
    clock.advance(10_000);
    const again = await ingest('race-1', T0 + 10_000);
    expect(again.statusCode, again.body).toBe(200);
    expect(app.hostMetrics.list('race-1')).toHaveLength(SERIES);
    expect(stored('race-1')).toBe(SERIES);
  });

  it('retire answers 200 and the ingest 200; the series stay', async () => {
    const inflight = ingest('race-2', T0);
    await planned('race-2');
    const retire = await app.inject({ method: 'POST', url: '/api/v1/hosts/race-2/retire', headers: bearer(admin) });
    const first = await inflight;
    // not known to the host registry until its first answer: a retire before it is a 404
    expect([200, 404], retire.body).toContain(retire.statusCode);
    expect(first.statusCode, first.body).toBe(200);
    expect(stored('race-2')).toBe(SERIES);
  });
});

// The host lifecycle store's contract (collector/storage/types.ts HostStateStore), run on every
// backend (hosts-sqlite.test.ts, hosts-clickhouse.test.ts) through two collectors' views of one
// store: on SQLite two connections to one database file (a collector and the `ringtail hosts`
// CLI), on ClickHouse two clients on one database (two collectors behind a load balancer).
// The cases under "shared" hold where several collectors write the same records (ClickHouse).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { HostEvent, HostStateRow, HostStateStore, LogStore } from '../../collector/storage/types.js';
import { WIRE_VERSION, type IngestBatch } from '../../shared/wire.js';

const T0 = Date.UTC(2026, 11, 7, 10, 0, 0);
const MIN = 60_000;

export interface HostView {
  hosts: HostStateStore;
  logs: LogStore;
}
export interface HostPair {
  a: HostView;
  b: HostView;
  close(): Promise<void>;
}
export type OpenHostPair = () => Promise<HostPair>;

const rec = (host: string, o: Partial<HostStateRow> = {}): HostStateRow => ({
  host,
  first_seen: T0,
  last_seen: T0,
  state: 'up',
  state_since: T0,
  ephemeral: false,
  interval_ms: 10_000,
  sources: ['logs'],
  agent_id: `agt-${host}`,
  ...o,
});
const byHost = (rows: HostStateRow[]) => Object.fromEntries(rows.map((r) => [r.host, r]));

export function hostsContract(backend: string, open: OpenHostPair, o: { shared: boolean }): void {
  describe(`host state store contract: ${backend}`, () => {
    let p: HostPair;
    let a: HostStateStore;
    let b: HostStateStore;
    beforeEach(async () => {
      p = await open();
      a = p.a.hosts;
      b = p.b.hosts;
    });
    afterEach(async () => {
      await p?.close();
    });

    it('records saved through one view are loaded whole through the other, updates included', async () => {
      expect(await b.load()).toEqual([]);
      await a.save(
        [rec('web-1'), rec('eph-1', { ephemeral: true, interval_ms: null, sources: ['logs', 'metrics'] }), rec('sys-1', { agent_id: null, sources: ['syslog'], interval_ms: null })],
        [{ ts: T0, host: 'web-1', from: null, to: 'up' }],
        [],
      );
      const first = byHost(await b.load());
      expect(first).toEqual({
        'web-1': rec('web-1'),
        'eph-1': rec('eph-1', { ephemeral: true, interval_ms: null, sources: ['logs', 'metrics'] }),
        'sys-1': rec('sys-1', { agent_id: null, sources: ['syslog'], interval_ms: null }),
      });
      // the host went silent: stale, then down, saved as the sweeps would
      await a.save([rec('web-1', { last_seen: T0 + MIN, state: 'stale', state_since: T0 + 4 * MIN })], [{ ts: T0 + 4 * MIN, host: 'web-1', from: 'up', to: 'stale' }], []);
      await a.save([rec('web-1', { last_seen: T0 + MIN, state: 'down', state_since: T0 + 9 * MIN })], [{ ts: T0 + 9 * MIN, host: 'web-1', from: 'stale', to: 'down' }], []);
      expect(byHost(await b.load())['web-1']).toEqual(rec('web-1', { last_seen: T0 + MIN, state: 'down', state_since: T0 + 9 * MIN }));
    });

    it('transitions: a host\'s newest first from `since`, every host\'s oldest first keeping the newest', async () => {
      const evs: HostEvent[] = [
        { ts: T0, host: 'h1', from: null, to: 'up' },
        { ts: T0 + MIN, host: 'h2', from: null, to: 'up' },
        { ts: T0 + 2 * MIN, host: 'h1', from: 'up', to: 'stale' },
        { ts: T0 + 3 * MIN, host: 'h1', from: 'stale', to: 'retired' },
      ];
      await a.save([rec('h1'), rec('h2')], evs.slice(0, 2), []);
      await a.save([], evs.slice(2), []);
      expect(await b.events('h1', 10)).toEqual([evs[3], evs[2], evs[0]]);
      expect(await b.events('h1', 1)).toEqual([evs[3]]);
      expect(await b.events('h1', 10, T0 + 2 * MIN)).toEqual([evs[3], evs[2]]);
      expect(await b.events('nobody', 10)).toEqual([]);
      expect(await b.eventsSince(T0 + MIN, 100)).toEqual(evs.slice(1));
      expect(await b.eventsSince(T0, 2)).toEqual(evs.slice(2));
    });

    it('forget through one view: record, transitions and lines gone through the other; an unknown host is false', async () => {
      await a.save([rec('gone'), rec('kept')], [{ ts: T0, host: 'gone', from: null, to: 'up' }], []);
      const line = (host: string): IngestBatch => ({
        version: WIRE_VERSION,
        agent_id: `agt-${host}`,
        host,
        segments: [{ stream: `s-${host}`, source: 'app.log', start: 0, end: 6, lines: [{ offset: 0, ts: T0, severity: 6, message: 'hello' }] }],
      });
      await p.a.logs.ingest(line('gone'), T0);
      await p.a.logs.ingest(line('kept'), T0);
      expect((await p.b.logs.query({ host: 'gone', limit: 10 })).items).toHaveLength(1);

      expect(await b.forget('gone', T0 + MIN)).toBe(true);
      expect((await a.load()).map((r) => r.host)).toEqual(['kept']);
      expect(await a.events('gone', 10)).toEqual([]);
      expect((await p.a.logs.query({ host: 'gone', limit: 10 })).items).toEqual([]);
      expect((await p.a.logs.query({ host: 'kept', limit: 10 })).items).toHaveLength(1);
      expect((await p.a.logs.hosts()).map((h) => h.host)).toEqual(['kept']);
      expect(await a.forget('never-seen', T0 + MIN)).toBe(false);
    });

    it('hosts removed by a save (purged) are gone for the other view; a host saved again after it is new', async () => {
      await a.save([rec('old', { state: 'retired', state_since: T0 + MIN }), rec('young')], [], []);
      await a.save([], [], ['old']);
      expect((await b.load()).map((r) => r.host)).toEqual(['young']);
      await b.save([rec('old', { first_seen: T0 + 60 * MIN, last_seen: T0 + 60 * MIN, state_since: T0 + 60 * MIN })], [], []);
      expect(byHost(await a.load())['old']).toEqual(rec('old', { first_seen: T0 + 60 * MIN, last_seen: T0 + 60 * MIN, state_since: T0 + 60 * MIN }));
    });

    it('meta values set through one view are read through the other, the last one set wins', async () => {
      expect(await b.getMeta('tick_at')).toBeNull();
      await a.setMeta('tick_at', T0);
      await a.save([], [], [], { tick_at: T0 + 5000, sweep_interval_ms: 5000 });
      expect(await b.getMeta('tick_at')).toBe(T0 + 5000);
      expect(await b.getMeta('sweep_interval_ms')).toBe(5000);
    });

    if (!o.shared) return;

    describe('shared by several collectors', () => {
      it('says so', () => {
        expect(a.shared).toBe(true);
        expect(typeof a.changes).toBe('function');
      });

      it('two collectors saving one host: the latest last_seen, the newest transition, the newest agent declaration, every source', async () => {
        // A heard it last (by logs), B decided it stale from an older view (it heard its metrics)
        await a.save([rec('web-1', { last_seen: T0 + 3 * MIN, sources: ['logs'], ephemeral: true, interval_ms: 5000, agent_id: 'agt-new' })], [], []);
        await b.save([rec('web-1', { first_seen: T0 - MIN, last_seen: T0 + MIN, sources: ['metrics'], state: 'stale', state_since: T0 + 2 * MIN, agent_id: 'agt-old' })], [], []);
        // a syslog-only view names no agent: it never wins the declaration
        await b.save([rec('web-1', { last_seen: T0 + 2 * MIN, sources: ['syslog'], agent_id: null, ephemeral: false, interval_ms: null })], [], []);
        const want = rec('web-1', { first_seen: T0 - MIN, last_seen: T0 + 3 * MIN, sources: ['logs', 'metrics', 'syslog'], state: 'stale', state_since: T0 + 2 * MIN, ephemeral: true, interval_ms: 5000, agent_id: 'agt-new' });
        for (const s of [a, b]) expect(byHost(await s.load())['web-1']).toEqual(want);
        // heard again (by A): up is the newest transition
        await a.save([rec('web-1', { last_seen: T0 + 4 * MIN, state: 'up', state_since: T0 + 4 * MIN, agent_id: 'agt-new', ephemeral: true, interval_ms: 5000 })], [], []);
        expect(byHost(await b.load())['web-1']).toMatchObject({ state: 'up', state_since: T0 + 4 * MIN, last_seen: T0 + 4 * MIN });
      });

      it('changes(since): the hosts written since, merged whole, the forgotten ones, and where the next pull starts', async () => {
        await a.save([rec('h1'), rec('h2')], [], []);
        const first = await b.changes!(Number.MIN_SAFE_INTEGER);
        expect(first.rows.map((r) => r.host)).toEqual(['h1', 'h2']);
        expect(first.rows[0]).toMatchObject({ host: 'h1', agent_at: T0, agent_id: 'agt-h1' });
        expect(await b.changes!(first.through)).toMatchObject({ rows: [], forgotten: [] });
        await a.save([rec('h2', { last_seen: T0 + MIN })], [], []);
        await a.forget('h1', T0 + 2 * MIN);
        const next = await b.changes!(first.through);
        expect(next.rows).toEqual([{ ...rec('h2', { last_seen: T0 + MIN }), agent_at: T0 + MIN }]);
        expect(next.forgotten).toEqual([{ host: 'h1', at: T0 + 2 * MIN }]);
        expect(next.through).toBeGreaterThanOrEqual(first.through);
      });

      it('a collector that saves its old record after the forget does not bring the host back; one heard after it does', async () => {
        await a.save([rec('h1', { last_seen: T0 + MIN })], [], []);
        await b.forget('h1', T0 + 2 * MIN);
        await a.save([rec('h1', { last_seen: T0 + MIN })], [], []);
        expect(await b.load()).toEqual([]);
        await a.save([rec('h1', { first_seen: T0 + 3 * MIN, last_seen: T0 + 3 * MIN, state_since: T0 + 3 * MIN })], [], []);
        expect((await b.load()).map((r) => [r.host, r.last_seen])).toEqual([['h1', T0 + 3 * MIN]]);
      });

      it('a save sent again after a failure keeps one copy of its transitions', async () => {
        const evs: HostEvent[] = [{ ts: T0, host: 'h1', from: null, to: 'up' }];
        await a.save([rec('h1')], evs, []);
        await a.save([rec('h1')], evs, []);
        expect(await b.events('h1', 10)).toEqual(evs);
      });
    });
  });
}

// The alert store's contract, run against every backend (alerts-store-sqlite.test.ts,
// alerts-store-clickhouse.test.ts): rules, instance states, history, the outbox and its
// delivery marks, disabled notifiers, silences, pruning, and what a second collector opening
// the same store sees (the standby's takeover). A store with an evaluator lease (a shared one)
// also keeps to the lease's rules.
import { afterAll, describe, expect, it } from 'vitest';
import type { InstanceState, Transition } from '../../collector/alerts/state.js';
import type { AlertStore, NewOutbox } from '../../collector/storage/types.js';

/** opens the store called `name`: the same name is the same store (another collector's connection) */
export type OpenAlertStore = (name: string) => Promise<AlertStore>;

const T0 = Date.UTC(2026, 11, 7, 9, 0, 0);

const state = (host: string, over: Partial<InstanceState> = {}): InstanceState => ({
  rule: 'load',
  host,
  series: '',
  phase: 'firing',
  severity: 'critical',
  activeSince: T0,
  firingSince: T0,
  clearSince: null,
  value: 9,
  notifiedKey: `critical@${T0}`,
  lastNotifiedAt: T0,
  ...over,
});
const transition = (host: string, at: number, event: Transition['event'] = 'firing'): Transition => ({ rule: 'load', host, series: '', at, event, severity: 'critical', value: 9 });
const note = (id: string, notifier = 'ops'): NewOutbox => ({ id, notifier, rule: 'load', body: `{"id":"${id}"}` });

export function alertStoreContract(backend: string, open: OpenAlertStore): void {
  let n = 0;
  const stores: AlertStore[] = [];
  const fresh = async (name = `s${n++}`) => {
    const s = await open(name);
    stores.push(s);
    return s;
  };
  afterAll(async () => {
    for (const s of stores) await s.close();
  });

  describe(`alert store contract: ${backend}`, () => {
    it('API rules: put, replace, list by name, delete (false when there is none)', async () => {
      const s = await fresh();
      expect(await s.apiRules()).toEqual([]);
      await s.putRule('zeta', { kind: 'metric', metric: 'a' }, T0);
      await s.putRule('alpha', { kind: 'log', query: 'x' }, T0);
      await s.putRule('zeta', { kind: 'metric', metric: 'b' }, T0 + 1);
      expect(await s.apiRules()).toEqual([
        { name: 'alpha', spec: { kind: 'log', query: 'x' } },
        { name: 'zeta', spec: { kind: 'metric', metric: 'b' } },
      ]);
      expect(await s.deleteRule('alpha')).toBe(true);
      expect(await s.deleteRule('alpha')).toBe(false);
      expect((await s.apiRules()).map((r) => r.name)).toEqual(['zeta']);
      await s.putRule('alpha', { kind: 'log', query: 'y' }, T0 + 2);
      expect((await s.apiRules()).map((r) => r.name)).toEqual(['alpha', 'zeta']);
    });

    it('states: a commit upserts and deletes; the newest write of an instance wins; nulls stay null', async () => {
      const s = await fresh();
      await s.commit([state('web-1'), state('web-2'), state('web-3', { series: '{mount=/}' })], [], [], [], T0);
      await s.commit([state('web-1', { phase: 'pending', notifiedKey: null, lastNotifiedAt: null, firingSince: null, value: null })], [['load', 'web-2', '']], [], [], T0 + 1);
      const got = (await s.loadStates()).sort((a, b) => a.host.localeCompare(b.host));
      expect(got).toEqual([state('web-1', { phase: 'pending', notifiedKey: null, lastNotifiedAt: null, firingSince: null, value: null }), state('web-3', { series: '{mount=/}' })]);
      // deleted, then back
      await s.commit([state('web-2', { value: 12 })], [], [], [], T0 + 2);
      expect((await s.loadStates()).find((x) => x.host === 'web-2')).toEqual(state('web-2', { value: 12 }));
    });

    it('history: newest first, filtered by rule, host and time, paged with before', async () => {
      const s = await fresh();
      await s.commit([], [], [transition('web-1', T0), transition('web-2', T0 + 1000)], [], T0 + 1000);
      await s.commit([], [], [transition('web-1', T0 + 2000, 'resolved')], [], T0 + 2000);
      const all = await s.history({ limit: 10 });
      expect(all.map((h) => [h.host, h.at, h.event])).toEqual([
        ['web-1', T0 + 2000, 'resolved'],
        ['web-2', T0 + 1000, 'firing'],
        ['web-1', T0, 'firing'],
      ]);
      expect(all[0]).toMatchObject({ rule: 'load', series: '', severity: 'critical', value: 9 });
      expect((await s.history({ host: 'web-1', limit: 10 })).map((h) => h.at)).toEqual([T0 + 2000, T0]);
      expect(await s.history({ rule: 'other', limit: 10 })).toEqual([]);
      expect((await s.history({ start: T0 + 1000, end: T0 + 2000, limit: 10 })).map((h) => h.host)).toEqual(['web-2']);
      const page = await s.history({ limit: 2 });
      expect((await s.history({ before: page[1]!.id, limit: 10 })).map((h) => h.at)).toEqual([T0]);
    });

    it('outbox: due oldest first; retry waits; delivered and failed are done; an id queued twice is one row', async () => {
      const s = await fresh();
      await s.commit([], [], [], [note('msg_a'), note('msg_b')], T0);
      await s.commit([], [], [], [note('msg_c'), note('msg_a')], T0 + 1000);
      expect(await s.pendingCount()).toBe(3);
      expect(await s.nextDue()).toBe(T0);
      expect((await s.due(T0, 10)).map((r) => r.id).sort()).toEqual(['msg_a', 'msg_b']);
      const due = await s.due(T0 + 1000, 10);
      expect(due.map((r) => r.id).slice(2)).toEqual(['msg_c']);
      expect(due[0]).toMatchObject({ notifier: 'ops', rule: 'load', created_at: T0, next_at: T0, attempts: 0, state: 'pending', last_status: null, last_error: null, done_at: null });
      const [a, b, c] = ['msg_a', 'msg_b', 'msg_c'].map((id) => due.find((r) => r.id === id)!);

      await s.markRetry(a!.seq, T0 + 60_000, 503, 'busy');
      await s.markDelivered(b!.seq, 204, T0 + 2000);
      await s.markFinal(c!.seq, 'failed', 500, 'broken', T0 + 2000);
      expect(await s.due(T0 + 59_999, 10)).toEqual([]);
      expect(await s.nextDue()).toBe(T0 + 60_000);
      expect(await s.pendingCount()).toBe(1);
      await s.markDelivered(a!.seq, 200, T0 + 61_000);
      const rows = await s.outbox(10);
      expect(rows.map((r) => r.id).sort()).toEqual(['msg_a', 'msg_b', 'msg_c']);
      expect(rows.find((r) => r.id === 'msg_a')).toMatchObject({ state: 'delivered', attempts: 2, last_status: 200, last_error: null, done_at: T0 + 61_000 });
      expect(rows.find((r) => r.id === 'msg_b')).toMatchObject({ state: 'delivered', attempts: 1, last_status: 204 });
      expect(rows.find((r) => r.id === 'msg_c')).toMatchObject({ state: 'failed', attempts: 1, last_status: 500, last_error: 'broken' });
      expect(rows[0]!.id).toBe('msg_c'); // newest first
      expect(await s.pendingCount()).toBe(0);
      expect(await s.nextDue()).toBeNull();
    });

    it('a notifier disabled (410) takes its pending rows with it; enabled again, it is off the list', async () => {
      const s = await fresh();
      await s.commit([], [], [], [note('msg_1', 'ops'), note('msg_2', 'pager')], T0);
      await s.disableNotifier('ops', 'http://x/hook', 'gone', T0 + 1);
      expect(Object.fromEntries(await s.disabledNotifiers())).toMatchObject({ ops: { url: 'http://x/hook', disabled_at: T0 + 1, reason: 'gone' } });
      expect([...(await s.disabledNotifiers()).keys()]).toEqual(['ops']);
      expect((await s.due(T0 + 1, 10)).map((r) => r.id)).toEqual(['msg_2']);
      expect((await s.outbox(10)).find((r) => r.id === 'msg_1')).toMatchObject({ state: 'disabled', done_at: T0 + 1 });
      await s.enableNotifier('ops');
      expect((await s.disabledNotifiers()).size).toBe(0);
    });

    it('silences: added, listed newest start first, expired (never later than they were), unknown ones refused', async () => {
      const s = await fresh();
      const sil = (id: string, starts: number) => ({ id, matchers: [{ name: 'host', value: 'web-.*', regex: true }], starts_at: starts, ends_at: T0 + 3_600_000, comment: 'maintenance', created_by: 'ops', created_at: T0 });
      await s.addSilence(sil('sil_a', T0));
      await s.addSilence(sil('sil_b', T0 + 10));
      expect((await s.silences()).map((x) => x.id)).toEqual(['sil_b', 'sil_a']);
      expect((await s.silences())[1]).toEqual(sil('sil_a', T0));
      expect(await s.expireSilence('sil_a', T0 + 5000)).toBe(true);
      expect(await s.expireSilence('sil_a', T0 + 9_000_000)).toBe(true);
      expect((await s.silences()).find((x) => x.id === 'sil_a')!.ends_at).toBe(T0 + 5000);
      expect(await s.expireSilence('sil_nope', T0)).toBe(false);
    });

    it('prune keeps the newest history rows and the pending and recently finished notifications', async () => {
      const s = await fresh();
      await s.commit([], [], [0, 1, 2, 3, 4].map((i) => transition('web-1', T0 + i)), [note('msg_old'), note('msg_new'), note('msg_wait')], T0);
      const rows = await s.due(T0, 10);
      const seq = (id: string) => rows.find((r) => r.id === id)!.seq;
      await s.markDelivered(seq('msg_old'), 200, T0 + 1000);
      await s.markDelivered(seq('msg_new'), 200, T0 + 100_000);
      await s.prune(T0 + 110_000, 2, 50_000);
      expect((await s.history({ limit: 10 })).map((h) => h.at)).toEqual([T0 + 4, T0 + 3]);
      expect((await s.outbox(10)).map((r) => r.id).sort()).toEqual(['msg_new', 'msg_wait']);
      expect(await s.pendingCount()).toBe(1);
    });

    it('a second connection to the same store (a standby) reads what the first wrote, and its marks are seen by the first', async () => {
      const name = `shared${n++}`;
      const a = await fresh(name);
      const b = await fresh(name);
      await a.commit([state('web-1')], [], [transition('web-1', T0)], [note('msg_x')], T0);
      await a.putRule('r1', { kind: 'metric' }, T0);
      expect(await b.loadStates()).toEqual([state('web-1')]);
      expect((await b.history({ limit: 5 })).map((h) => h.host)).toEqual(['web-1']);
      expect((await b.apiRules()).map((r) => r.name)).toEqual(['r1']);
      const [row] = await b.due(T0, 5);
      expect(row!.id).toBe('msg_x');
      // the standby decides the same notification again (same id): still one row
      await b.commit([], [], [], [note('msg_x')], T0 + 5000);
      await b.markDelivered(row!.seq, 200, T0 + 6000);
      expect(await a.pendingCount()).toBe(0);
      expect((await a.outbox(5)).map((r) => [r.id, r.state])).toEqual([['msg_x', 'delivered']]);
    });

    it('evaluator lease (shared stores only): one holder; renewed; released or expired, another takes it', async (ctx) => {
      const name = `lease${n++}`;
      const a = await fresh(name);
      const b = await fresh(name);
      if (!a.evaluatorLease) ctx.skip();
      const clock = { t: T0 };
      const la = a.evaluatorLease!({ collectorId: 'A', leaseMs: 10_000, clock: () => clock.t });
      const lb = b.evaluatorLease!({ collectorId: 'B', leaseMs: 10_000, clock: () => clock.t });
      expect(await la.acquire()).toBe(true);
      expect(await lb.acquire()).toBe(false);
      expect(lb.holder()).toMatchObject({ collector: 'A', expires_at: T0 + 10_000 });
      clock.t += 8000;
      expect(await la.acquire()).toBe(true); // renewed: until T0 + 18 s
      clock.t += 8000;
      expect(await lb.acquire()).toBe(false);
      await la.release();
      expect(await lb.acquire()).toBe(true);
      expect(await la.acquire()).toBe(false);
      // B stops renewing (a crash): A takes over once B's lease has run out, not before
      clock.t += 9_999;
      expect(await la.acquire()).toBe(false);
      clock.t += 1;
      expect(await la.acquire()).toBe(true);
      expect(await lb.acquire()).toBe(false);
    });
  });
}

// Webhook ids are derived from the transition they announce (collector/alerts/webhook-ids.ts):
// two evaluators deciding the same transition (a primary and the standby that takes over from
// the same stored state) put the same id in their outbox, whatever the time each decides it at,
// so a receiver that drops repeated ids acts once. Different transitions get different ids.
import { afterEach, describe, expect, it } from 'vitest';
import { compileAlertsConfig, DEFAULT_ALERTS } from '../../collector/alerts/config.js';
import { Evaluator } from '../../collector/alerts/evaluator.js';
import { memorySources } from '../../collector/alerts/sources.js';
import { notificationId } from '../../collector/alerts/webhook-ids.js';
import { createEvents } from '../../shared/events.js';
import { openSqliteAlertStore } from '../../collector/storage/sqlite/alerts.js';
import type { AlertStore } from '../../collector/storage/types.js';
import { tempDir } from '../helpers/proc.js';

const T0 = 1_700_000_000_000;
const REPEAT_MS = 3_600_000;
const cfg = compileAlertsConfig({
  ...DEFAULT_ALERTS,
  defaults: false,
  rules: [{ kind: 'metric', name: 'load', metric: 'load', op: 'above', critical: 5 }],
  webhooks: [
    { name: 'ops', url: 'http://127.0.0.1:9/hook' },
    { name: 'pager', url: 'http://127.0.0.1:9/pager' },
  ],
});

const opened: Array<{ store: AlertStore; dir: { cleanup(): void } }> = [];
afterEach(async () => {
  for (const o of opened.splice(0)) {
    await o.store.close();
    o.dir.cleanup();
  }
});

/** an evaluator on a store of its own (or the given one), with its own clock */
async function evaluator(src: ReturnType<typeof memorySources>, clock: { t: number }, store?: AlertStore) {
  if (!store) {
    const dir = tempDir('ringtail-webhook-ids-');
    store = openSqliteAlertStore(dir.path);
    opened.push({ store, dir });
  }
  const ev = await Evaluator.open({ store, sources: src, notifiers: cfg.notifiers, clock: () => clock.t, events: createEvents(), configRules: cfg.rules, repeatIntervalMs: REPEAT_MS });
  return { ev, store };
}

/** ids of the rows the last cycle queued, by notifier */
async function queued(store: AlertStore, since: number): Promise<Record<string, string>> {
  const rows = (await store.outbox(100)).filter((r) => r.created_at >= since);
  return Object.fromEntries(rows.map((r) => [r.notifier, r.id]));
}

describe('webhook ids', () => {
  it('two evaluators on their own stores give the same ids for the same firing and resolved, decided at different times', async () => {
    const src = memorySources();
    src.set('web-1', 'load', 9);
    const a = await evaluator(src, { t: T0 });
    const clockB = { t: T0 };
    const b = await evaluator(src, clockB);
    await a.ev.cycle();
    await b.ev.cycle();
    const firingA = await queued(a.store, T0);
    const firingB = await queued(b.store, T0);
    expect(Object.keys(firingA).sort()).toEqual(['ops', 'pager']);
    expect(firingA.ops).toMatch(/^msg_[A-Za-z0-9_-]{22}$/);
    expect(firingB).toEqual(firingA);
    // each notifier its own id (they are separate messages)
    expect(firingA.ops).not.toBe(firingA.pager);

    src.set('web-1', 'load', 1);
    await a.ev.cycle(undefined, T0 + 10_000);
    await b.ev.cycle(undefined, T0 + 17_000); // the other collector decides it later
    const resolvedA = await queued(a.store, T0 + 10_000);
    expect(await queued(b.store, T0 + 17_000)).toEqual(resolvedA);
    expect(resolvedA.ops).not.toBe(firingA.ops);
  });

  it('a standby opened on the primary\'s store after the firing decides the resolved with the id the primary would have used', async () => {
    const src = memorySources();
    src.set('db-1', 'load', 9);
    const primary = await evaluator(src, { t: T0 });
    await primary.ev.cycle();
    const reference = await evaluator(src, { t: T0 });
    await reference.ev.cycle();

    const standby = await evaluator(src, { t: T0 }, primary.store);
    src.set('db-1', 'load', 1);
    await standby.ev.cycle(undefined, T0 + 25_000);
    await reference.ev.cycle(undefined, T0 + 10_000);
    expect(await queued(primary.store, T0 + 25_000)).toEqual(await queued(reference.store, T0 + 10_000));
  });

  it('a repeated firing notification gets a new id, the same on both; a new firing episode a new one again', async () => {
    const src = memorySources();
    src.set('web-1', 'load', 9);
    const a = await evaluator(src, { t: T0 });
    const b = await evaluator(src, { t: T0 });
    await a.ev.cycle(undefined, T0);
    await b.ev.cycle(undefined, T0);
    const first = await queued(a.store, T0);
    await a.ev.cycle(undefined, T0 + REPEAT_MS + 1_000);
    await b.ev.cycle(undefined, T0 + REPEAT_MS + 9_000);
    const repeatA = await queued(a.store, T0 + REPEAT_MS + 1_000);
    expect(repeatA.ops).toBeDefined();
    expect(repeatA.ops).not.toBe(first.ops);
    expect(await queued(b.store, T0 + REPEAT_MS + 9_000)).toEqual(repeatA);

    src.set('web-1', 'load', 1);
    await a.ev.cycle(undefined, T0 + REPEAT_MS + 20_000);
    src.set('web-1', 'load', 9);
    await a.ev.cycle(undefined, T0 + REPEAT_MS + 30_000);
    const again = await queued(a.store, T0 + REPEAT_MS + 30_000);
    expect(new Set([first.ops, repeatA.ops, again.ops]).size).toBe(3);
  });

  it('does not depend on the order alerts were met in a cycle, and does on every part of an occasion', () => {
    const x = { status: 'firing' as const, fingerprint: 'aaaa', startsAt: T0, after: null };
    const y = { status: 'firing' as const, fingerprint: 'bbbb', startsAt: T0, after: null };
    expect(notificationId('ops', 'load', [x, y])).toBe(notificationId('ops', 'load', [y, x]));
    const base = notificationId('ops', 'load', [x]);
    for (const changed of [{ ...x, status: 'resolved' as const }, { ...x, fingerprint: 'aaab' }, { ...x, startsAt: T0 + 1 }, { ...x, after: T0 }]) {
      expect(notificationId('ops', 'load', [changed])).not.toBe(base);
    }
    expect(notificationId('pager', 'load', [x])).not.toBe(base);
    expect(notificationId('ops', 'load2', [x])).not.toBe(base);
  });
});

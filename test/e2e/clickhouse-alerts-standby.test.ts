// Issue 16 item 4 with real processes and real timers: two `ringtail collector --storage
// clickhouse` processes on one chdb server, the same log rule and webhook on both. Exactly one
// sends the firing; it is SIGKILLed (no release: its lease must run out); the other takes over
// within evaluator_lease_s plus one evaluation interval and sends the resolved. A receiver that
// keeps the first of each webhook-id (as `ringtail relaunch` does) sees each transition once.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ADMIN } from '../helpers/agent-run.js';
import { batchOf } from '../helpers/collector.js';
import { api, waitFor } from '../helpers/proc.js';
import { SharedCollector } from '../helpers/shared-collector.js';
import { sharedRig } from '../helpers/shared-rig.js';

const LEASE_S = 3;
const INTERVAL_MS = 250;
const rig = sharedRig('ringtail-ch-alerts-', { hook: true });
const { dir, procs } = rig;

interface Status {
  items: Array<{ rule: string; host: string; state: string }>;
  evaluator: { collector: string; evaluating: boolean; holder: string | null };
}

async function collector(name: string) {
  const config = join(dir.path, `${name}.json`);
  writeFileSync(
    config,
    JSON.stringify({
      alerts: {
        defaults: false,
        evaluation_interval_ms: INTERVAL_MS,
        evaluator_lease_s: LEASE_S,
        rules: [{ kind: 'log', name: 'oom', query: 'OutOfMemoryError', window: '4s' }],
        webhooks: [{ name: 'ops', url: rig.hook.url }],
      },
    }),
  );
  // its agent token is made on the shared store: tokens are shared by the collectors on it (docs/scale-out.md)
  const c = new SharedCollector(name, dir.path, { url: rig.chdb.url, database: 'alerts_standby' }, procs, ['--config', config]);
  await c.start();
  return { name, url: c.url, proc: c.proc!, agentToken: c.token, status: () => api<Status>(c.url, ADMIN, '/api/v1/alerts') };
}

describe('two collector processes on one ClickHouse: one evaluator, a standby that takes over', () => {
  it('one sends the firing; SIGKILLed, the other takes over within the lease and sends the resolved; ids deduplicate to one per transition', async () => {
    const c1 = await collector('c1');
    const c2 = await collector('c2');
    const holder = await waitFor('an evaluator', async () => {
      const [s1, s2] = await Promise.all([c1.status(), c2.status()]);
      const on = [s1, s2].filter((s) => s.evaluator.evaluating);
      return on.length === 1 && s1.evaluator.holder === s2.evaluator.holder ? (on[0] === s1 ? c1 : c2) : undefined;
    });
    const standby = holder === c1 ? c2 : c1;

    // the lines reach the standby (a load balancer may send them anywhere); the evaluator reads them from ClickHouse
    const res = await fetch(`${standby.url}/api/v1/ingest`, {
      method: 'POST',
      headers: { authorization: `Bearer ${standby.agentToken}`, 'content-type': 'application/json' },
      body: JSON.stringify(batchOf(['java.lang.OutOfMemoryError: heap', 'OutOfMemoryError again'], { host: 'web-7', ts: Date.now() })),
    });
    expect(res.status).toBe(200);
    await waitFor('the firing webhook', () => rig.hook.requests.some((r) => r.json?.status === 'firing'), 15_000);
    // the standby reads the evaluator's states at its next turn (INTERVAL_MS)
    await waitFor('the standby showing the firing', async () => (await standby.status()).items.some((i) => i.rule === 'oom' && i.host === 'web-7' && i.state === 'firing'), 10_000);

    const killedAt = Date.now();
    await holder.proc.kill('SIGKILL');
    await waitFor('the standby to take over', async () => (await standby.status()).evaluator.evaluating, 15_000);
    const tookMs = Date.now() - killedAt;
    // documented bound: evaluator_lease_s + one evaluation interval (+ slack for a loaded machine)
    expect(tookMs).toBeLessThan(LEASE_S * 1000 + INTERVAL_MS + 3000);

    await waitFor('the resolved webhook', () => rig.hook.requests.some((r) => r.json?.status === 'resolved'), 15_000);
    const firsts = new Map<string, string>();
    for (const r of rig.hook.requests) if (!firsts.has(r.headers['webhook-id'] as string)) firsts.set(r.headers['webhook-id'] as string, `${r.json.status} ${r.json.alerts[0].labels.host}`);
    expect([...firsts.values()]).toEqual(['firing web-7', 'resolved web-7']);
    console.log(`standby took over ${tookMs} ms after SIGKILL (lease ${LEASE_S} s, interval ${INTERVAL_MS} ms); ${rig.hook.requests.length} requests, ${firsts.size} ids`);
  }, 90_000);
});

// Issue 16 item 4, metric rules across collectors: two `ringtail collector --storage clickhouse`
// processes on one chdb server. Agents report only to A (`alerts.evaluator: never`); B
// (`always`) is the designated evaluator and never hears them. B reads A's series from the
// shared store (collector/alerts/remote-series.ts): a threshold rule fires on B with a real
// webhook for a host that reported before B started and for one that first appears after it,
// and absence rules fire on B once a host stops.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { MetricBatch } from '../../shared/wire.js';
import { ADMIN } from '../helpers/agent-run.js';
import { api, waitFor } from '../helpers/proc.js';
import { SharedCollector } from '../helpers/shared-collector.js';
import { sharedRig } from '../helpers/shared-rig.js';

const DATABASE = 'alerts_remote';
const INTERVAL_MS = 500;
const SILENT_S = 20;
const rig = sharedRig('ringtail-ch-remote-', { hook: true });
const { dir, procs } = rig;

interface Status {
  items: Array<{ rule: string; host: string; state: string }>;
  evaluator: { collector: string; evaluating: boolean };
}

async function collector(name: string, evaluator: 'always' | 'never') {
  const config = join(dir.path, `${name}.json`);
  writeFileSync(
    config,
    JSON.stringify({
      alerts: {
        defaults: false,
        evaluator,
        evaluation_interval_ms: INTERVAL_MS,
        rules: [
          { kind: 'metric', name: 'cpu-hot', metric: 'cpu.user', op: 'above', window: '30s', critical: 80 },
          // the host's silence (its newest sample as the store has it), and one series' silence
          { kind: 'absence', name: 'silent', seconds: SILENT_S, severity: 'critical' },
          { kind: 'absence', name: 'cpu-silent', metric: 'cpu.user', seconds: SILENT_S, severity: 'critical' },
        ],
        webhooks: [{ name: 'ops', url: rig.hook.url }],
      },
    }),
  );
  const c = new SharedCollector(name, dir.path, { url: rig.chdb.url, database: DATABASE }, procs, ['--config', config]);
  await c.start();
  return { url: c.url, token: c.token, status: () => api<Status>(c.url, ADMIN, '/api/v1/alerts') };
}

/** An agent reporting cpu.user = 95 every second to one collector, until stopped. */
function agent(host: string, to: { url: string; token: string }) {
  let stopped = false;
  let sent = 0;
  let lastTs = 0;
  const done = (async () => {
    while (!stopped) {
      lastTs = Date.now();
      const batch: MetricBatch = { version: 1, agent_id: `agt_${host}`, host, interval_ms: 1000, samples: [{ name: 'cpu.user', type: 'GAUGE', ts: lastTs, value: 95 }] };
      const res = await fetch(`${to.url}/api/v1/metrics/ingest`, {
        method: 'POST',
        headers: { authorization: `Bearer ${to.token}`, 'content-type': 'application/json' },
        body: JSON.stringify(batch),
      });
      if (res.status !== 200) throw new Error(`${host}: ${res.status} ${await res.text()}`);
      sent++;
      await new Promise((r) => setTimeout(r, 1000));
    }
  })();
  // the test's own failure stops it; a refused request shows at stop()
  done.catch(() => undefined);
  return {
    sent: () => sent,
    lastTs: () => lastTs,
    stop: async () => {
      stopped = true;
      await done;
    },
  };
}

/** the first webhook of a rule's firing for a host */
const fired = (rule: string, host: string) =>
  rig.hook.requests.find((r) => r.json?.status === 'firing' && r.json.alerts.some((a: { labels: Record<string, string> }) => a.labels.alertname === rule && a.labels.host === host));

describe('metric rules on the designated evaluator read the series other collectors consolidate', () => {
  it('a host reporting only to A fires on B (before and after B started); a host that stops fires the absence rules on B', async () => {
    const a = await collector('a', 'never');
    const early = agent('early-1', a);
    await waitFor('early-1 stored on A', () => early.sent() >= 3, 30_000);

    const b = await collector('b', 'always');
    await waitFor('B evaluating', async () => (await b.status()).evaluator.evaluating, 15_000);
    const late = agent('late-2', a);
    try {
      // B never heard either host: what it knows of them it read from the store A writes
      await waitFor('cpu-hot firing for early-1 through B', () => fired('cpu-hot', 'early-1'), 60_000, 100);
      await waitFor('cpu-hot firing for late-2 (first seen after B started) through B', () => fired('cpu-hot', 'late-2'), 60_000, 100);
      const onB = await b.status();
      expect(onB.items.filter((i) => i.rule === 'cpu-hot' && i.state === 'firing').map((i) => i.host).sort()).toEqual(['early-1', 'late-2']);
      // A stands by: it sends nothing and evaluates nothing
      expect((await a.status()).evaluator.evaluating).toBe(false);

      // early-1 stops; late-2 goes on: the absence rules fire for early-1 only
      await early.stop();
      const lastSample = early.lastTs();
      await waitFor('silent firing for early-1', () => fired('silent', 'early-1'), 90_000, 100);
      await waitFor('cpu-silent firing for early-1', () => fired('cpu-silent', 'early-1'), 90_000, 100);
      // not before its silence: the store keeps a last update in whole seconds
      expect(Date.now() - lastSample).toBeGreaterThanOrEqual((SILENT_S - 1) * 1000);
      expect(fired('silent', 'late-2')).toBeUndefined();
      expect(fired('cpu-silent', 'late-2')).toBeUndefined();
    } finally {
      await early.stop().catch(() => undefined);
      await late.stop();
    }
  }, 240_000);
});

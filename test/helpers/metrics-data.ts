// Synthetic host metrics posted through the collector's metrics API (POST /api/v1/metrics/ingest),
// sampled hourly over `days` days plus every 10 minutes over the last hour. The batch declares
// an hourly interval, so new series get a two-hour heartbeat and the sparse history fills every
// archive (10 s … 1 h rows), as a year of real 10 s samples would.
export const HEADLINE = ['cpu.user', 'cpu.system', 'memory.used', 'df.used_pct'] as const;

export function metricSamples(now: number, days: number): Array<{ name: string; type: 'GAUGE'; ts: number; value: number; labels?: Record<string, string> }> {
  const out: Array<{ name: string; type: 'GAUGE'; ts: number; value: number; labels?: Record<string, string> }> = [];
  const times: number[] = [];
  const first = now - days * 86_400_000;
  for (let t = first; t < now - 3_600_000; t += 3_600_000) times.push(t);
  for (let t = now - 3_600_000; t <= now - 1000; t += 600_000) times.push(t);
  for (const ts of times) {
    const h = (ts - first) / 3_600_000;
    out.push({ name: 'cpu.user', type: 'GAUGE', ts, value: +(40 + 30 * Math.sin(h / 5) + (h % 7)).toFixed(3) });
    out.push({ name: 'cpu.system', type: 'GAUGE', ts, value: +(10 + 5 * Math.cos(h / 3)).toFixed(3) });
    out.push({ name: 'memory.used', type: 'GAUGE', ts, value: Math.round(2e9 + 5e8 * Math.sin(h / 11)) });
    out.push({ name: 'df.used_pct', type: 'GAUGE', ts, value: +(50 + h / 100).toFixed(3), labels: { mount: '/' } });
  }
  return out;
}

export async function postMetrics(url: string, token: string, host: string, samples: ReturnType<typeof metricSamples>): Promise<void> {
  for (let i = 0; i < samples.length; i += 50_000) {
    const res = await fetch(url + '/api/v1/metrics/ingest', {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ version: 1, agent_id: 'agt_synthetic_' + host, host, interval_ms: 3_600_000, samples: samples.slice(i, i + 50_000) }),
    });
    if (!res.ok) throw new Error(`metrics ingest for ${host}: ${res.status} ${await res.text()}`);
  }
}

/** True when this collector serves the series API (the metrics branch is merged). */
export async function hasSeriesApi(url: string, token: string): Promise<boolean> {
  const res = await fetch(url + '/api/v1/series?host=probe&metric=probe', { headers: { authorization: `Bearer ${token}` } });
  if (res.status !== 404) return true;
  const body = (await res.json()) as { message?: string };
  return !/^no route/.test(body.message ?? '');
}

// HTTP checks: one request per round on a fresh connection (no keep-alive, so the latency
// includes connecting, as a user's first request would), up = 1 when the answer arrives within
// the timeout with an expected status. Latency is sent whenever an answer arrived, even a wrong
// one; a timeout or a refused connection has no latency, only up = 0.
import { request as httpRequest, type IncomingMessage } from 'node:http';
import type { EventSink } from '../../shared/events.js';
import { ConfigError } from '../../shared/errors.js';
import { gauge, labelValue, type MetricSource, type Sample } from '../metrics/types.js';
import { lazyHttps } from '../transport/lazy-https.js';

export interface HttpCheckConfig {
  name: string;
  url: string;
  /** answers with another status count as down; default any 2xx */
  expect_status?: number[];
  timeout_ms?: number;
  method?: 'GET' | 'HEAD';
}

export const DEFAULT_CHECK_TIMEOUT_MS = 5_000;

export interface ProbeResult {
  up: boolean;
  latency_ms: number | null;
  status: number | null;
  reason: string;
}

export function probeHttp(c: HttpCheckConfig): Promise<ProbeResult> {
  const url = new URL(c.url);
  const timeout = c.timeout_ms ?? DEFAULT_CHECK_TIMEOUT_MS;
  const started = performance.now();
  const ok = (s: number) => (c.expect_status ? c.expect_status.includes(s) : s >= 200 && s < 300);
  return new Promise((resolve) => {
    let done = false;
    const finish = (r: ProbeResult) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      req.destroy();
      resolve(r);
    };
    const send = url.protocol === 'https:' ? lazyHttps().request : httpRequest;
    const req = send(url, { method: c.method ?? 'GET', agent: false, headers: { 'user-agent': 'ringtail-agent check' } }, (res: IncomingMessage) => {
      const status = res.statusCode ?? 0;
      // Drain the body (bounded by the timeout) so the latency covers the whole answer.
      res.on('data', () => {});
      res.on('end', () => {
        const latency = round(performance.now() - started);
        finish({ up: ok(status), latency_ms: latency, status, reason: ok(status) ? 'ok' : `status ${status}` });
      });
      res.on('error', (err) => finish({ up: false, latency_ms: null, status, reason: err.message }));
    });
    const timer = setTimeout(() => finish({ up: false, latency_ms: null, status: null, reason: `no answer within ${timeout} ms` }), timeout);
    req.on('error', (err: NodeJS.ErrnoException) => finish({ up: false, latency_ms: null, status: null, reason: err.code ?? err.message }));
    req.end();
  });
}

export function validateHttpCheck(c: HttpCheckConfig, where: string): void {
  let url: URL;
  try {
    url = new URL(c.url);
  } catch {
    throw new ConfigError(`${where}.url`, `check '${c.name}': not a URL: '${c.url}'`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigError(`${where}.url`, `check '${c.name}': expected http:// or https://, got '${url.protocol}'`);
  }
}

export function httpCheck(c: HttpCheckConfig, events?: EventSink, where = 'checks.http'): MetricSource {
  validateHttpCheck(c, where);
  const labels = { check: labelValue(c.name) };
  let wasUp: boolean | null = null;
  let changed: ((samples: Sample[]) => void) | null = null;
  return {
    name: `http:${c.name}`,
    watch(cb) {
      changed = cb;
    },
    close() {
      changed = null;
    },
    async collect(): Promise<Sample[]> {
      const r = await probeHttp(c);
      if (r.up !== wasUp) events?.emit(r.up ? 'check.up' : 'check.down', { check: c.name, kind: 'http', url: c.url, reason: r.reason }, r.up ? 'info' : 'warn');
      const flipped = wasUp !== null && r.up !== wasUp;
      wasUp = r.up;
      const out = [gauge('check.http.up', r.up ? 1 : 0, labels)];
      if (r.latency_ms !== null) out.push(gauge('check.http.latency_ms', r.latency_ms, labels));
      if (r.status !== null) out.push(gauge('check.http.status', r.status, labels));
      // A change of state leaves now, out of band, in place of this round's samples (a probe may
      // take its whole timeout: the round's other sources would hold it back).
      if (flipped && changed) {
        changed(out);
        return [];
      }
      return out;
    },
  };
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}

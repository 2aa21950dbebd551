// TCP checks: connect to host:port on a fresh socket, up = 1 when the handshake completes within
// the timeout; latency is the connect time in ms.
import { connect } from 'node:net';
import type { EventSink } from '../../shared/events.js';
import { ConfigError } from '../../shared/errors.js';
import { gauge, labelValue, type MetricSource, type Sample } from '../metrics/types.js';
import { DEFAULT_CHECK_TIMEOUT_MS, type ProbeResult } from './http.js';

export interface TcpCheckConfig {
  name: string;
  /** HOST:PORT, IPv6 in brackets: [::1]:5432 */
  address: string;
  timeout_ms?: number;
}

export function parseAddress(address: string): { host: string; port: number } | null {
  const m = /^(\[[0-9a-fA-F:.]+\]|[^\s:[\]]+):(\d{1,5})$/.exec(address);
  if (!m) return null;
  const port = Number(m[2]);
  if (port < 1 || port > 65535) return null;
  return { host: m[1]!.replace(/^\[|\]$/g, ''), port };
}

export function probeTcp(host: string, port: number, timeout: number): Promise<ProbeResult> {
  const started = performance.now();
  return new Promise((resolve) => {
    let done = false;
    const sock = connect({ host, port });
    const finish = (r: ProbeResult) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      resolve(r);
    };
    const timer = setTimeout(() => finish({ up: false, latency_ms: null, status: null, reason: `no connection within ${timeout} ms` }), timeout);
    sock.once('connect', () => finish({ up: true, latency_ms: Math.round((performance.now() - started) * 1000) / 1000, status: null, reason: 'ok' }));
    sock.once('error', (err: NodeJS.ErrnoException) => finish({ up: false, latency_ms: null, status: null, reason: err.code ?? err.message }));
  });
}

export function tcpCheck(c: TcpCheckConfig, events?: EventSink, where = 'checks.tcp'): MetricSource {
  const addr = parseAddress(c.address);
  if (!addr) throw new ConfigError(`${where}.address`, `check '${c.name}': expected HOST:PORT, got '${c.address}'`);
  const labels = { check: labelValue(c.name) };
  let wasUp: boolean | null = null;
  let changed: ((samples: Sample[]) => void) | null = null;
  return {
    name: `tcp:${c.name}`,
    watch(cb) {
      changed = cb;
    },
    close() {
      changed = null;
    },
    async collect(): Promise<Sample[]> {
      const r = await probeTcp(addr.host, addr.port, c.timeout_ms ?? DEFAULT_CHECK_TIMEOUT_MS);
      if (r.up !== wasUp) events?.emit(r.up ? 'check.up' : 'check.down', { check: c.name, kind: 'tcp', address: c.address, reason: r.reason }, r.up ? 'info' : 'warn');
      const flipped = wasUp !== null && r.up !== wasUp;
      wasUp = r.up;
      const out = [gauge('check.tcp.up', r.up ? 1 : 0, labels)];
      if (r.latency_ms !== null) out.push(gauge('check.tcp.latency_ms', r.latency_ms, labels));
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

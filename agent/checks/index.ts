// The one registration point of checks: each kind of the `checks` configuration section becomes
// metric sources the runner samples with the host families. Misconfigurations are ConfigErrors
// naming the entry, raised before the agent starts.
import type { EventSink } from '../../shared/events.js';
import { ConfigError } from '../../shared/errors.js';
import type { ChecksConfig } from '../metrics/config.js';
import type { MetricSource } from '../metrics/types.js';
import { httpCheck } from './http.js';
import { processCheck } from './process.js';
import { tcpCheck } from './tcp.js';

export function createChecks(config: ChecksConfig, events?: EventSink): MetricSource[] {
  const out: MetricSource[] = [];
  const names = new Map<string, string>();
  const unique = (kind: string, name: string, where: string) => {
    const key = `${kind}:${name}`;
    if (names.has(key)) throw new ConfigError(`${where}.name`, `duplicate ${kind} check name '${name}' (also ${names.get(key)})`);
    names.set(key, where);
  };
  (config.processes ?? []).forEach((c, i) => {
    const where = `checks.processes[${i}]`;
    unique('process', c.name, where);
    out.push(processCheck(c, {}, where));
  });
  (config.http ?? []).forEach((c, i) => {
    const where = `checks.http[${i}]`;
    unique('http', c.name, where);
    out.push(httpCheck(c, events, where));
  });
  (config.tcp ?? []).forEach((c, i) => {
    const where = `checks.tcp[${i}]`;
    unique('tcp', c.name, where);
    out.push(tcpCheck(c, events, where));
  });
  return out;
}

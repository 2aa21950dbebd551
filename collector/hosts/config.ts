// The `hosts` section of the collector configuration: when a silent host is stale, down or
// retired, and when a retired host's series are purged. Durations are strings (30s, 5m, 1h, 30d)
// like the alert rules' `for`.
import { Type, type Static } from '@sinclair/typebox';
import { durationMs } from '../alerts/rules.js';

const DURATION = '^[0-9]+(ms|s|m|h|d)$';
const Duration = (def: string, description: string) =>
  Type.String({ pattern: DURATION, maxLength: 16, default: def, description, errorMessage: 'expected a duration such as 30s, 5m, 1h or 30d' });

export const HostsConfig = Type.Object(
  {
    down_after: Duration('5m', 'a permanent host stale this long is down'),
    retire_after: Duration('1h', 'an ephemeral host silent this long is retired (leaves the default host list and host rules)'),
    purge_after: Duration('30d', "a retired host's metric series are deleted this long after it retired; its log lines follow log retention"),
    default_interval: Duration('1m', 'expected interval of a host that declares none (syslog senders, agents without metrics)'),
    sweep_interval: Duration('5s', 'how often host states are evaluated and last-seen times saved'),
  },
  { additionalProperties: false, default: {} },
);
export type HostsConfig = Static<typeof HostsConfig>;

export interface HostsTiming {
  downAfterMs: number;
  retireAfterMs: number;
  purgeAfterMs: number;
  defaultIntervalMs: number;
  sweepIntervalMs: number;
}

export const DEFAULT_HOSTS: HostsConfig = { down_after: '5m', retire_after: '1h', purge_after: '30d', default_interval: '1m', sweep_interval: '5s' };

export function hostsTiming(cfg: Partial<HostsConfig> = {}): HostsTiming {
  const c = { ...DEFAULT_HOSTS, ...cfg };
  return {
    downAfterMs: durationMs(c.down_after, 300_000),
    retireAfterMs: durationMs(c.retire_after, 3_600_000),
    purgeAfterMs: durationMs(c.purge_after, 30 * 86_400_000),
    defaultIntervalMs: Math.max(1000, durationMs(c.default_interval, 60_000)),
    sweepIntervalMs: Math.max(100, durationMs(c.sweep_interval, 5000)),
  };
}

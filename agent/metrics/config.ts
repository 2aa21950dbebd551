// The `metrics` and `checks` sections of the agent's configuration, declared once here and
// plugged into AgentConfig. Checks are lists of objects, so they are set in the JSON config file.
import { Type, type Static } from '@sinclair/typebox';
import { LABEL_VALUE_PATTERN } from '../../shared/wire.js';

export const FAMILY_NAMES = ['cpu', 'memory', 'load', 'disk-space', 'disk-io', 'network', 'processes', 'self'] as const;
export type FamilyName = (typeof FAMILY_NAMES)[number];

export const MetricsConfig = Type.Object(
  {
    enabled: Type.Boolean({ default: true, description: 'sample host metrics and run checks' }),
    interval_ms: Type.Integer({ minimum: 1000, maximum: 3_600_000, default: 10_000, description: 'time between two samples' }),
    families: Type.Array(Type.Union(FAMILY_NAMES.map((n) => Type.Literal(n))), {
      default: [...FAMILY_NAMES],
      description: 'metric families to sample',
      errorMessage: `expected family names among ${FAMILY_NAMES.join(', ')}`,
    }),
    max_queued: Type.Integer({
      minimum: 1000,
      maximum: 10_000_000,
      default: 50_000,
      description: 'samples kept while the collector is unreachable; the oldest go first',
    }),
  },
  { additionalProperties: false, default: {} },
);
export type MetricsConfig = Static<typeof MetricsConfig>;

const CheckName = Type.String({ minLength: 1, maxLength: 128, pattern: LABEL_VALUE_PATTERN, description: 'label of the check\'s series' });
const Timeout = Type.Integer({ minimum: 10, maximum: 60_000, description: 'ms, default 5000' });

export const ProcessCheckSchema = Type.Object(
  {
    name: CheckName,
    process: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
    cmdline: Type.Optional(Type.String({ minLength: 1, maxLength: 1024 })),
    pidfile: Type.Optional(Type.String({ minLength: 1, maxLength: 4096 })),
  },
  { additionalProperties: false },
);

export const HttpCheckSchema = Type.Object(
  {
    name: CheckName,
    url: Type.String({ minLength: 1, maxLength: 4096 }),
    expect_status: Type.Optional(Type.Array(Type.Integer({ minimum: 100, maximum: 599 }), { minItems: 1 })),
    timeout_ms: Type.Optional(Timeout),
    method: Type.Optional(Type.Union([Type.Literal('GET'), Type.Literal('HEAD')])),
  },
  { additionalProperties: false },
);

export const TcpCheckSchema = Type.Object(
  {
    name: CheckName,
    address: Type.String({ minLength: 3, maxLength: 300 }),
    timeout_ms: Type.Optional(Timeout),
  },
  { additionalProperties: false },
);

export const ChecksConfig = Type.Object(
  {
    processes: Type.Optional(Type.Array(ProcessCheckSchema, { maxItems: 1000, description: 'process checks: {name, process | cmdline | pidfile}' })),
    http: Type.Optional(Type.Array(HttpCheckSchema, { maxItems: 1000, description: 'HTTP checks: {name, url, expect_status?, timeout_ms?, method?}' })),
    tcp: Type.Optional(Type.Array(TcpCheckSchema, { maxItems: 1000, description: 'TCP checks: {name, address: HOST:PORT, timeout_ms?}' })),
    // Off only to measure or to rule out the fast path (bench/relaunch.ts runs the loop both ways).
    report_changes: Type.Optional(Type.Boolean({ default: true, description: 'ship a check\'s change at once (process checks watched between rounds, HTTP/TCP flips) instead of at the next round' })),
  },
  { additionalProperties: false, default: {} },
);
export type ChecksConfig = Static<typeof ChecksConfig>;

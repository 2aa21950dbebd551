import { hostname } from 'node:os';
import { Type, type Static } from '@sinclair/typebox';
import { ChecksConfig, MetricsConfig } from './metrics/config.js';

export const AgentConfig = Type.Object(
  {
    collector: Type.String({ pattern: '^https?://[^\\s]+$', description: 'collector base URL, e.g. http://10.0.0.5:8080', errorMessage: 'expected an http:// or https:// URL' }),
    token: Type.String({ minLength: 8, description: 'ingest token (role agent)' }),
    watch: Type.Array(Type.String({ minLength: 1 }), { minItems: 1, description: 'glob of log files to follow' }),
    state: Type.String({ minLength: 1, default: './agent-state', description: 'directory for checkpoints and the agent id' }),
    host: Type.String({ minLength: 1, maxLength: 255, default: hostname(), description: 'host name reported with every line' }),
    start_at: Type.Union([Type.Literal('beginning'), Type.Literal('end')], {
      default: 'beginning',
      description: 'where to start files found at first start-up (files created later are read whole)',
    }),
    scan_interval_ms: Type.Integer({ minimum: 50, maximum: 60_000, default: 1000, description: 'periodic re-scan of globs and sizes' }),
    batch: Type.Object(
      {
        max_lines: Type.Integer({ minimum: 1, maximum: 100_000, default: 2000, description: 'lines per batch' }),
        max_bytes: Type.Integer({ minimum: 1024, maximum: 16 * 1024 * 1024, default: 1024 * 1024, description: 'bytes per batch' }),
        linger_ms: Type.Integer({ minimum: 0, maximum: 60_000, default: 500, description: 'wait for more lines before sending' }),
      },
      { additionalProperties: false, default: {} },
    ),
    max_line_bytes: Type.Integer({ minimum: 256, maximum: 16 * 1024 * 1024, default: 65536, description: 'longer lines are cut and marked truncated' }),
    metrics: MetricsConfig,
    checks: ChecksConfig,
  },
  { additionalProperties: false },
);
export type AgentConfig = Static<typeof AgentConfig>;

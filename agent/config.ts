// The agent's options, declared once: flags, environment variables, the JSON config file, the
// help text and the README table all derive from this schema. Per-source options (filters,
// multiline) live in `sources`, which only the config file can express; `--watch` globs become
// sources with the defaults, so the simple command line keeps working.
import { hostname } from 'node:os';
import { Type, type Static } from '@sinclair/typebox';
import { ChecksConfig, MetricsConfig } from './metrics/config.js';
import { HOST_PATTERN, SEVERITY_NAMES } from '../shared/wire.js';
import { PARSER_MODES } from '../shared/logline/types.js';

export const SeverityName = Type.Union(
  SEVERITY_NAMES.map((n) => Type.Literal(n)),
  { description: 'syslog severity name: emerg alert crit err warning notice info debug' },
);

export const MultilineConfig = Type.Object(
  {
    start: Type.String({ minLength: 1, description: 'regular expression matching the first line of an event; other lines join the previous event' }),
    max_lines: Type.Integer({ minimum: 2, maximum: 10_000, default: 500, description: 'an event is cut after this many lines' }),
    timeout_ms: Type.Integer({ minimum: 10, maximum: 60_000, default: 1000, description: 'an event is complete when its file stays quiet this long' }),
  },
  { additionalProperties: false },
);

export const SourceConfig = Type.Object(
  {
    paths: Type.Array(Type.String({ minLength: 1 }), { minItems: 1, description: 'globs of the files of this source' }),
    include: Type.Optional(Type.Array(Type.String(), { description: 'keep only lines matching one of these regular expressions' })),
    exclude: Type.Optional(Type.Array(Type.String(), { description: 'drop lines matching one of these regular expressions' })),
    min_severity: Type.Optional(SeverityName),
    multiline: Type.Optional(MultilineConfig),
    parser: Type.Optional(
      Type.Union(PARSER_MODES.map((m) => Type.Literal(m)), {
        default: 'auto',
        description: 'how lines are read: auto (syslog, then JSON, logfmt, plain with a leading timestamp), or json, logfmt, plain, syslog to force one',
      }),
    ),
  },
  { additionalProperties: false },
);
export type SourceConfig = Static<typeof SourceConfig>;

export const AgentConfig = Type.Object(
  {
    collector: Type.String({ pattern: '^https?://[^\\s]+$', description: 'collector base URL, e.g. http://10.0.0.5:8080', errorMessage: 'expected an http:// or https:// URL' }),
    token: Type.Optional(Type.String({ minLength: 8, description: 'ingest token (role agent)' })),
    enroll_token: Type.Optional(
      Type.String({ minLength: 8, description: 'enrollment token (role enroll), traded at first start for an agent token stored in the state directory; used only when no token is configured or stored' }),
    ),
    watch: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { description: 'glob of log files to follow' })),
    sources: Type.Optional(Type.Array(SourceConfig, { description: 'sources with their own filters and multiline rule (config file only)' })),
    state: Type.String({ minLength: 1, default: './agent-state', description: 'directory for checkpoints, the spool and the agent id' }),
    host: Type.String({ minLength: 1, maxLength: 255, pattern: HOST_PATTERN, default: hostname(), description: 'host name reported with every line', errorMessage: 'expected 1 to 255 characters without control characters' }),
    ephemeral: Type.Boolean({ default: false, description: 'this is a short-lived instance: the collector retires it when it stops reporting instead of calling it down' }),
    start_at: Type.Union([Type.Literal('beginning'), Type.Literal('end')], {
      default: 'beginning',
      description: 'where to start files found at first start-up (files created later are read whole)',
    }),
    scan_interval_ms: Type.Integer({ minimum: 50, maximum: 60_000, default: 1000, description: 'periodic re-scan of globs and sizes' }),
    time_zone: Type.Optional(Type.String({ minLength: 1, description: 'IANA zone in which zone-less timestamps (RFC 3164 lines, plain and JSON lines) were written; default UTC' })),
    batch: Type.Object(
      {
        // Bounded so that a serialised batch stays under the collector's default 16 MiB body limit.
        max_lines: Type.Integer({ minimum: 1, maximum: 50_000, default: 5000, description: 'lines per batch' }),
        max_bytes: Type.Integer({ minimum: 1024, maximum: 8 * 1024 * 1024, default: 1024 * 1024, description: 'bytes of log text per batch' }),
        linger_ms: Type.Integer({ minimum: 0, maximum: 60_000, default: 1000, description: 'wait for more lines before sending' }),
      },
      { additionalProperties: false, default: {} },
    ),
    max_line_bytes: Type.Integer({ minimum: 256, maximum: 1024 * 1024, default: 65536, description: 'longer lines are cut and marked truncated' }),
    spool: Type.Object(
      {
        max_bytes: Type.Integer({ minimum: 1024 * 1024, default: 256 * 1024 * 1024, description: 'disk spool bound for batches not yet acknowledged' }),
        when_full: Type.Union([Type.Literal('block'), Type.Literal('drop_oldest')], {
          default: 'block',
          description: 'block: stop reading, keep offsets; drop_oldest: discard the oldest batches (counted)',
        }),
      },
      { additionalProperties: false, default: {} },
    ),
    transport: Type.Object(
      {
        gzip_level: Type.Integer({ minimum: 0, maximum: 9, default: 1, description: 'gzip level of request bodies; 0 sends them uncompressed' }),
        ca_file: Type.Optional(Type.String({ minLength: 1, description: 'PEM CA bundle trusted for an https collector (logs and metrics)' })),
        cert_file: Type.Optional(Type.String({ minLength: 1, description: 'PEM client certificate for a collector with mutual TLS (tls.client_ca)' })),
        key_file: Type.Optional(Type.String({ minLength: 1, description: 'PEM private key of transport.cert_file' })),
        timeout_ms: Type.Integer({ minimum: 1000, maximum: 600_000, default: 30_000, description: 'a request without an answer this long is retried' }),
        backoff_max_ms: Type.Integer({ minimum: 100, maximum: 600_000, default: 30_000, description: 'longest wait between retries; a collector\'s Retry-After lengthens a wait up to this' }),
      },
      { additionalProperties: false, default: {} },
    ),
    stats_interval_ms: Type.Integer({ minimum: 1000, maximum: 3_600_000, default: 60_000, description: 'how often the agent logs its self-metrics' }),
    metrics: MetricsConfig,
    checks: ChecksConfig,
  },
  { additionalProperties: false },
);
export type AgentConfig = Static<typeof AgentConfig>;

/** `--watch` globs and `sources` entries as one list. */
export function effectiveSources(config: AgentConfig): SourceConfig[] {
  const out = [...(config.sources ?? [])];
  if (config.watch && config.watch.length > 0) out.push({ paths: [...config.watch] });
  return out;
}

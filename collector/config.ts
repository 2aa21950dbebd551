import { Type, type Static } from '@sinclair/typebox';
import { LayoutOverride } from './metrics/layout.js';
import { AlertsConfig } from './alerts/config.js';
import { HostsConfig } from './hosts/config.js';
import { DEFAULT_HEAP_GROWTH_PERCENT } from './memory.js';
import { DEFAULT_ZK_PREFIX } from './storage/clickhouse/layout.js';

export const LISTEN_PATTERN = '^(\\[[0-9a-fA-F:.]+\\]|[A-Za-z0-9.-]+):([0-9]{1,5})$';

/**
 * A collector-side filter rule (the second filtering stage, after the agent's choice of files):
 * rules are tried in order and the first whose every given condition matches decides; a line no
 * rule matches is kept. Dropped lines still advance the sender's committed offsets.
 */
export const FilterRule = Type.Object(
  {
    action: Type.Union([Type.Literal('drop'), Type.Literal('keep')]),
    host: Type.Optional(Type.String({ minLength: 1, maxLength: 255, description: 'glob: * and ? wildcards' })),
    program: Type.Optional(Type.String({ minLength: 1, maxLength: 256, description: 'glob: * and ? wildcards' })),
    severity_min: Type.Optional(Type.Integer({ minimum: 0, maximum: 7, description: 'matches severity numbers >= this (7 = debug)' })),
    severity_max: Type.Optional(Type.Integer({ minimum: 0, maximum: 7, description: 'matches severity numbers <= this (0 = emerg)' })),
    re: Type.Optional(Type.String({ minLength: 1, maxLength: 512, description: 'JavaScript regular expression tested on the message' })),
  },
  { additionalProperties: false },
);
export type FilterRule = Static<typeof FilterRule>;

/**
 * Where the ClickHouse tables live: one server, or a cluster (collector/storage/clickhouse/layout.ts,
 * docs/scale-out.md "Cluster layout"); shared by the commands that open the ClickHouse store.
 */
export const ClickHouseClusterOptions = {
  cluster: Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 64,
      pattern: '^[A-Za-z_][A-Za-z0-9_-]*$',
      description: "name of a ClickHouse cluster (the servers' remote_servers): tables created ON CLUSTER, replicated, log lines sharded; absent: one server",
      errorMessage: 'expected a cluster name: letters, digits, _ and -, not starting with a digit or -',
    }),
  ),
  zookeeper_path: Type.String({
    minLength: 2,
    maxLength: 200,
    pattern: '^(/([A-Za-z0-9_.-]+|\\{[a-z_]+\\}))+$',
    default: DEFAULT_ZK_PREFIX,
    description: 'with clickhouse.cluster: ZooKeeper/Keeper path prefix of the replicated tables ({shard} or all, then the table, follow)',
  }),
};

export const CollectorConfig = Type.Object(
  {
    data: Type.String({ minLength: 1, default: './data', description: 'directory holding the database' }),
    storage: Type.Union([Type.Literal('sqlite'), Type.Literal('clickhouse')], {
      default: 'sqlite',
      description: 'where logs and metric series are kept: sqlite (in data) or clickhouse (logs, metrics, tokens, dashboard sessions and alerts shared by several collectors, one of which evaluates the rules; host states stay in data for now)',
    }),
    clickhouse: Type.Object(
      {
        url: Type.Optional(Type.String({ minLength: 1, pattern: '^https?://', description: 'HTTP(S) URL of the ClickHouse server, with --storage clickhouse' })),
        database: Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z_][A-Za-z0-9_]*$', default: 'ringtail', description: 'ClickHouse database, with --storage clickhouse' }),
        ...ClickHouseClusterOptions,
      },
      { additionalProperties: false, default: {} },
    ),
    listen: Type.String({ pattern: LISTEN_PATTERN, default: '127.0.0.1:8080', description: 'HOST:PORT for the API and dashboard', errorMessage: 'expected HOST:PORT such as 127.0.0.1:8080' }),
    admin_token: Type.Optional(
      Type.String({ minLength: 16, description: 'first admin credential; generated and printed when absent' }),
    ),
    auth: Type.Optional(
      Type.Object(
        {
          // Off by default: fleets of short-lived instances often share one agent token baked into
          // their image, and bound, every instance after the first would be refused (plugins/host-binding.ts).
          bind_agent_hosts: Type.Boolean({ default: false, description: 'an agent token may only send for the first host it announced' }),
        },
        { additionalProperties: false },
      ),
    ),
    body_limit: Type.Integer({ minimum: 1024, maximum: 1024 * 1024 * 1024, default: 16 * 1024 * 1024, description: 'largest request body in bytes' }),
    log_level: Type.Union([Type.Literal('debug'), Type.Literal('info'), Type.Literal('warn'), Type.Literal('error')], {
      default: 'info',
      description: 'level of the collector log',
    }),
    syslog: Type.Object(
      {
        enabled: Type.Boolean({ default: true, description: 'receive syslog over UDP and TCP (RFC 3164, RFC 5424; RFC 6587 framing)' }),
        host: Type.String({ minLength: 1, default: '127.0.0.1', description: 'address the syslog ports bind to; 0.0.0.0 to accept other hosts (syslog has no authentication)' }),
        udp_port: Type.Integer({ minimum: 0, maximum: 65535, default: 5514, description: 'UDP port (0 picks a free one)' }),
        tcp_port: Type.Integer({ minimum: 0, maximum: 65535, default: 5514, description: 'TCP port (0 picks a free one)' }),
        time_zone: Type.String({ minLength: 1, default: 'UTC', description: 'IANA zone of RFC 3164 time stamps, which carry none' }),
        max_message_bytes: Type.Integer({ minimum: 2048, maximum: 1024 * 1024, default: 65536, description: 'longer messages are cut and marked truncated' }),
        max_connections: Type.Integer({ minimum: 1, maximum: 100_000, default: 512, description: 'open TCP connections at most; more are refused' }),
        idle_timeout_ms: Type.Integer({ minimum: 100, default: 600_000, description: 'a TCP connection silent this long is closed' }),
        tls_port: Type.Integer({ minimum: 0, maximum: 65535, default: 6514, description: 'syslog over TLS (RFC 5425, octet counting) with the tls.cert certificate; open only when tls.cert is set (0 picks a free one)' }),
      },
      { additionalProperties: false, default: {} },
    ),
    tls: Type.Object(
      {
        cert: Type.Optional(Type.String({ minLength: 1, description: 'PEM certificate (chain) file: the API port and syslog tls_port speak TLS; re-read on SIGHUP' })),
        key: Type.Optional(Type.String({ minLength: 1, description: 'PEM private key file of tls.cert; re-read on SIGHUP' })),
        client_ca: Type.Optional(Type.String({ minLength: 1, description: 'PEM CA bundle: mutual TLS, every client must present a certificate it signed' })),
        http2: Type.Boolean({ default: true, description: 'offer HTTP/2 beside HTTP/1.1 on the TLS API port (ALPN)' }),
      },
      { additionalProperties: false, default: {} },
    ),
    retention: Type.Object(
      {
        max_age_days: Type.Integer({ minimum: 0, maximum: 36_500, default: 30, description: 'delete lines older than this many days; 0 keeps them' }),
        max_bytes: Type.Integer({ minimum: 0, default: 0, description: 'delete the oldest lines while the database uses more bytes; 0 = no limit' }),
      },
      { additionalProperties: false, default: {} },
    ),
    tail: Type.Object(
      {
        max_clients: Type.Integer({ minimum: 1, maximum: 100_000, default: 100, description: 'live-tail connections at most; more are refused with 503' }),
        max_clients_per_token: Type.Integer({ minimum: 1, maximum: 100_000, default: 10, description: 'live-tail connections per token (a dashboard session counts as its token); more are refused with 429' }),
        max_buffered_bytes: Type.Integer({
          minimum: 65_536,
          maximum: 256 * 1024 * 1024,
          default: 1024 * 1024,
          description: 'unsent bytes per live-tail client, the line being written included; lines that do not fit are skipped with a notice',
        }),
        max_replay_lines: Type.Integer({ minimum: 0, maximum: 1_000_000, default: 10_000, description: 'a reconnect (Last-Event-ID) replays at most this many of the newest lines it missed' }),
        max_replay_bytes: Type.Integer({ minimum: 0, maximum: 1024 * 1024 * 1024, default: 4 * 1024 * 1024, description: 'and at most this many bytes of them (as sent)' }),
      },
      { additionalProperties: false, default: {} },
    ),
    regex: Type.Object(
      {
        workers: Type.Integer({ minimum: 1, maximum: 64, default: 2, description: 'threads matching `re`; a pattern that overruns its deadline stops only its own request' }),
        max_concurrent_per_token: Type.Integer({ minimum: 1, maximum: 10_000, default: 2, description: '`re` queries one token may run at once; more are refused with 429' }),
      },
      { additionalProperties: false, default: {} },
    ),
    // collector/memory.ts: the bounds that keep the collector's RSS ≤ 200 MiB under the load bench
    memory: Type.Object(
      {
        writer_cache_mb: Type.Integer({
          minimum: 1,
          maximum: 65_536,
          default: 32,
          description: "SQLite page cache of the writer thread's connection, in MB; more keeps more index pages of out-of-order lines between commits",
        }),
        heap_growth_percent: Type.Integer({
          minimum: 0,
          maximum: 1000,
          default: DEFAULT_HEAP_GROWTH_PERCENT,
          description: 'how far each JavaScript heap may grow past its live data before a full collection; 0 leaves it to V8 (up to 4x); 30 saves ~90 MB under load for 2–3 CPU s per 1 M lines',
        }),
        warmup_percent_of_ram: Type.Integer({
          minimum: 0,
          maximum: 100,
          default: 25,
          description: "after a start, read up to this share of the machine's RAM of the log database into the OS page cache in the background (structure, full-text index, newest rows first; paused while searches run) so the first searches do not wait on the disk; 0 turns it off",
        }),
      },
      { additionalProperties: false, default: {} },
    ),
    filters: Type.Optional(
      Type.Array(FilterRule, { maxItems: 1000, description: 'drop/keep rules by host, program, severity, regex (JSON config file)' }),
    ),
    metrics: Type.Optional(
      Type.Object(
        {
          layouts: Type.Optional(Type.Array(LayoutOverride, { maxItems: 1000, description: 'per-metric layouts {match, step?, heartbeat?, rra?}; first match wins' })),
          // Log lines more than MAX_FUTURE_MS (1 h) ahead are clamped to their arrival time;
          // a metric sample cannot be, so it is rejected, with the same default bound.
          max_future_ms: Type.Integer({
            minimum: 1000,
            maximum: 366 * 86_400_000,
            default: 3_600_000,
            description: 'samples stamped more than this after the collector clock are rejected (counted in the ack)',
          }),
        },
        { additionalProperties: false },
      ),
    ),
    alerts: Type.Optional(AlertsConfig),
    hosts: HostsConfig,
  },
  { additionalProperties: false },
);
export type CollectorConfig = Static<typeof CollectorConfig>;

export function parseListen(listen: string): { host: string; port: number } {
  const m = new RegExp(LISTEN_PATTERN).exec(listen)!;
  return { host: m[1]!.replace(/^\[|\]$/g, ''), port: Number(m[2]) };
}

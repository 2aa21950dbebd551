// The wire format between agent and collector: the one module both sides import.
// Schemas are TypeBox so the collector validates with them and the agent's types derive from them.
import { Type, type Static } from '@sinclair/typebox';

export const WIRE_VERSION = 1;

/**
 * Every integer on the wire has both bounds: JSON numbers such as 1e300 pass an unbounded
 * `integer` check (Number.isInteger(1e300) is true) and then break arithmetic and ordering
 * (a segment [0, 1e301), a series updated at the end of time). Offsets and counts stay exact
 * doubles; times stay representable as a JavaScript Date (±8.64e15 ms, year 275760).
 */
export const MAX_WIRE_INT = Number.MAX_SAFE_INTEGER;
export const MAX_WIRE_TS = 8_640_000_000_000_000;
/** pid_t is a signed 32-bit integer */
export const MAX_PID = 2 ** 31 - 1;
const Offset = (o: object = {}) => Type.Integer({ minimum: 0, maximum: MAX_WIRE_INT, ...o });
const Count = () => Type.Integer({ minimum: 0, maximum: MAX_WIRE_INT });

export const Severity = {
  emerg: 0,
  alert: 1,
  crit: 2,
  err: 3,
  warning: 4,
  notice: 5,
  info: 6,
  debug: 7,
} as const;
export type SeverityName = keyof typeof Severity;
export const SEVERITY_NAMES = Object.keys(Severity) as SeverityName[];

/** One log line as the agent parsed it. `offset` is the byte offset of the line's first byte in its stream. */
export const WireLine = Type.Object(
  {
    offset: Offset(),
    /** implausible times are clamped by the collector (collector/ingest/pipeline.ts), out-of-range ones refused */
    ts: Type.Integer({ minimum: -MAX_WIRE_TS, maximum: MAX_WIRE_TS, description: 'event time, ms since epoch' }),
    program: Type.Optional(Type.String({ maxLength: 256 })),
    pid: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_PID })),
    facility: Type.Optional(Type.Integer({ minimum: 0, maximum: 23 })),
    severity: Type.Integer({ minimum: 0, maximum: 7 }),
    message: Type.String({ maxLength: 1_048_576 }),
    truncated: Type.Optional(Type.Boolean()),
    // A record's names cannot be bounded by the schema (TypeBox's Record keeps no bound on its key):
    // the collector cuts names past 128 UTF-8 bytes, as it bounds the count and the values
    // (collector/ingest/pipeline.ts boundFields), and counts each in the line's fields_truncated.
    fields: Type.Optional(Type.Record(Type.String(), Type.String({ maxLength: 8192 }))),
  },
  { additionalProperties: false },
);
export type WireLine = Static<typeof WireLine>;

/**
 * A contiguous byte range [start, end) of one stream (one file generation on one agent).
 * The collector remembers the committed end of every stream and drops what it already has,
 * which makes redelivery after a crash or a lost acknowledgement harmless.
 */
export const WireSegment = Type.Object(
  {
    stream: Type.String({ minLength: 1, maxLength: 512, description: 'stable identity of a file generation' }),
    source: Type.String({ minLength: 1, maxLength: 4096, description: 'path of the file' }),
    start: Offset(),
    /** not before start (checked by the collector: a schema cannot compare two fields) */
    end: Offset(),
    lines: Type.Array(WireLine, { maxItems: 100_000 }),
  },
  { additionalProperties: false },
);
export type WireSegment = Static<typeof WireSegment>;

/** A host name is an identity (URLs, filters, the host list): no control characters. */
export const HOST_PATTERN = '^[^\\u0000-\\u001f\\u007f]+$';
export const HostName = Type.String({ minLength: 1, maxLength: 255, pattern: HOST_PATTERN });

export const IngestBatch = Type.Object(
  {
    version: Type.Literal(WIRE_VERSION),
    agent_id: Type.String({ minLength: 1, maxLength: 128 }),
    host: HostName,
    /** the agent runs on a short-lived instance (agent config `ephemeral`); absent: permanent */
    ephemeral: Type.Optional(Type.Boolean()),
    segments: Type.Array(WireSegment, { maxItems: 10_000 }),
  },
  { additionalProperties: false },
);
export type IngestBatch = Static<typeof IngestBatch>;

export const IngestAck = Type.Object({
  accepted: Count(),
  duplicates: Count(),
  /** committed end offset per stream after this batch */
  committed: Type.Record(Type.String(), Offset()),
  /** inside the collector only: held back by INGEST_AFTER_HEADER (the route answers 409) */
  out_of_order: Type.Optional(Type.Literal(true)),
});
export type IngestAck = Static<typeof IngestAck>;

export const LogItem = Type.Object({
  id: Count(),
  ts: Type.Integer({ minimum: -MAX_WIRE_TS, maximum: MAX_WIRE_TS }),
  host: Type.String(),
  source: Type.String(),
  program: Type.Union([Type.String(), Type.Null()]),
  severity: Type.Integer({ minimum: 0, maximum: 7 }),
  message: Type.String(),
  received_at: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_WIRE_TS })),
  pid: Type.Optional(Type.Union([Type.Integer({ minimum: 0, maximum: MAX_PID }), Type.Null()])),
  facility: Type.Optional(Type.Union([Type.Integer({ minimum: 0, maximum: 23 }), Type.Null()])),
  /** structured fields; the collector adds `ts_original` when it clamped an implausible time */
  fields: Type.Optional(Type.Union([Type.Record(Type.String(), Type.String()), Type.Null()])),
});
export type LogItem = Static<typeof LogItem>;

export const LogPage = Type.Object({
  items: Type.Array(LogItem),
  next_cursor: Type.Union([Type.String(), Type.Null()]),
  /** with `re`: rows examined, and whether the scan budget ran out before the page filled */
  scanned: Type.Optional(Count()),
  budget_exhausted: Type.Optional(Type.Boolean()),
});
export type LogPage = Static<typeof LogPage>;

export const INGEST_PATH = '/api/v1/ingest';
/**
 * Content type of a request carrying several batches, one JSON document per line (the agent's
 * spooled batches sent together; gzip'd they are concatenated gzip members). The collector
 * commits them in one transaction, in order, and answers with a JSON array of their acks.
 */
export const INGEST_MULTI_TYPE = 'application/x-ndjson';
/**
 * Request header of a request sent while earlier ones of the same agent are in flight:
 * URI-encoded JSON {stream: end} of those earlier batches' ranges. The collector stores the
 * request only if every named stream's committed end has reached its value, and otherwise
 * answers 409 RINGTAIL_ERR_OUT_OF_ORDER; so a batch never overtakes the one before it.
 */
export const INGEST_AFTER_HEADER = 'x-ringtail-after';

// ---- Metrics (agent → collector) --------------------------------------------------------------

export const METRICS_INGEST_PATH = '/api/v1/metrics/ingest';

/** rrdtool's data-source types: counters travel raw and the store derives the rates. */
export const MetricType = Type.Union([Type.Literal('GAUGE'), Type.Literal('COUNTER'), Type.Literal('DERIVE'), Type.Literal('ABSOLUTE')]);
export type MetricType = Static<typeof MetricType>;

export const METRIC_NAME_PATTERN = '^[a-z][a-z0-9_]*(\\.[a-z0-9_]+)*$';
export const LABEL_KEY_PATTERN = '^[a-z_][a-z0-9_]*$';
/** label keys that mean something to JavaScript objects; refused by the collector with a 400 naming the key */
export const RESERVED_LABEL_KEYS: readonly string[] = ['__proto__', 'constructor', 'prototype'];
/** label values end up inside series keys `name{k=v,…}`, so the key syntax is excluded */
export const LABEL_VALUE_PATTERN = '^[^{},=\\s"\\\\]*$';

export const MetricSample = Type.Object(
  {
    name: Type.String({ maxLength: 128, pattern: METRIC_NAME_PATTERN }),
    type: MetricType,
    /** sample time, ms since epoch; more than `metrics.max_future_ms` after the collector's clock is rejected (MetricAck.rejected) */
    ts: Type.Integer({ minimum: 0, maximum: MAX_WIRE_TS }),
    /** COUNTER and DERIVE must be integers (checked by the collector, as rrdtool does) */
    value: Type.Number(),
    labels: Type.Optional(
      Type.Record(Type.String({ maxLength: 64, pattern: LABEL_KEY_PATTERN }), Type.String({ maxLength: 256, pattern: LABEL_VALUE_PATTERN }), {
        maxProperties: 8,
      }),
    ),
  },
  { additionalProperties: false },
);
export type MetricSample = Static<typeof MetricSample>;

export const MetricBatch = Type.Object(
  {
    version: Type.Literal(WIRE_VERSION),
    agent_id: Type.String({ minLength: 1, maxLength: 128 }),
    host: HostName,
    /** as on IngestBatch: the agent runs on a short-lived instance */
    ephemeral: Type.Optional(Type.Boolean()),
    /** the agent's sampling interval: the collector sizes a new series' heartbeat from it (and a host's expected interval) */
    interval_ms: Type.Optional(Type.Integer({ minimum: 1000, maximum: 3_600_000 })),
    samples: Type.Array(MetricSample, { maxItems: 100_000 }),
  },
  { additionalProperties: false },
);
export type MetricBatch = Static<typeof MetricBatch>;

/** Why a sample was not stored although its request was valid. */
export const MetricRejectReason = Type.Union([
  /** stamped more than `metrics.max_future_ms` after the collector's clock (a bad clock, or an attack on the series) */
  Type.Literal('future'),
  /** its series was updated beyond the collector's clock + max_future_ms before that bound existed (see README) */
  Type.Literal('series_in_future'),
]);
export type MetricRejectReason = Static<typeof MetricRejectReason>;

/** at most this many entries in MetricAck.reasons (the count is in `rejected`) */
export const MAX_ACK_REASONS = 10;

export const MetricAck = Type.Object({
  accepted: Count(),
  /** samples not after their series' last update (a redelivered batch): dropped, not an error */
  duplicates: Count(),
  /** series created by this batch */
  created: Count(),
  /**
   * Present only when some samples were refused: they cannot be clamped (that would invent a
   * value at a time nobody measured), so they are dropped and counted here; redelivering them
   * changes nothing, so the agent treats them as done.
   */
  rejected: Type.Optional(Count()),
  /** the first MAX_ACK_REASONS rejected samples: `samples/<i>/ts` and why */
  reasons: Type.Optional(
    Type.Array(Type.Object({ path: Type.String(), reason: MetricRejectReason, message: Type.String() }), { maxItems: MAX_ACK_REASONS }),
  ),
});
export type MetricAck = Static<typeof MetricAck>;

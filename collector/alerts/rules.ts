// Alert rules, declared once as TypeBox schemas (config file and API share them), and their
// normalisation into one generic condition: every kind yields a number per (rule, host) that is
// compared with warning/critical levels, with separate clear levels for hysteresis.
import { Type, type Static } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { ErrorCodes, RingtailError } from '../../shared/errors.js';
import { checkTemplate } from './template.js';

const Duration = Type.Union([Type.Integer({ minimum: 0, maximum: 366 * 86400 }), Type.String({ pattern: '^[0-9]+(ms|s|m|h|d)$', maxLength: 16 })], {
  description: 'seconds, or a string such as 30s, 5m, 1h',
});
const Severity = Type.Union([Type.Literal('warning'), Type.Literal('critical')]);
const Name = Type.String({ pattern: '^[A-Za-z0-9_.:-]{1,128}$' });
const LabelMap = Type.Record(Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_]{0,63}$' }), Type.String({ maxLength: 1024 }), { maxProperties: 32 });

const Common = {
  name: Name,
  /**
   * whether firing alerts are sent to webhooks: true (default), false (silent: shown in the API
   * and dashboard, never sent), or 'critical' (only the critical level is sent)
   */
  notify: Type.Optional(Type.Union([Type.Boolean(), Type.Literal('critical')])),
  /** only hosts that report at an interval (agents), are permanent (not ephemeral) and not retired */
  permanent_only: Type.Optional(Type.Boolean()),
  /** false: the rule is kept but not evaluated; its alerts resolve (default true) */
  enabled: Type.Optional(Type.Boolean()),
  /** host name or glob (`web-*`); every known host when absent */
  host: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
  for: Type.Optional(Duration),
  keep_firing_for: Type.Optional(Duration),
  labels: Type.Optional(LabelMap),
  annotations: Type.Optional(
    Type.Object(
      { summary: Type.Optional(Type.String({ maxLength: 1024 })), description: Type.Optional(Type.String({ maxLength: 4096 })) },
      { additionalProperties: false },
    ),
  ),
};
const Levels = {
  warning: Type.Optional(Type.Number()),
  critical: Type.Optional(Type.Number()),
  /** hysteresis: once raised, a level stays until the value crosses its clear level */
  warning_clear: Type.Optional(Type.Number()),
  critical_clear: Type.Optional(Type.Number()),
};

export const MetricRule = Type.Object(
  {
    kind: Type.Literal('metric'),
    ...Common,
    metric: Type.String({ minLength: 1, maxLength: 255 }),
    cf: Type.Optional(Type.Union([Type.Literal('AVERAGE'), Type.Literal('MIN'), Type.Literal('MAX'), Type.Literal('LAST')])),
    window: Type.Optional(Duration),
    op: Type.Union([Type.Literal('above'), Type.Literal('below')]),
    /** value = offset + scale × metric (÷ divide_by, the series of that name with the same labels) */
    divide_by: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
    /** no value until the window's samples span this share of it (a young series has no 10-minute average) */
    min_coverage: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 1 })),
    scale: Type.Optional(Type.Number()),
    offset: Type.Optional(Type.Number()),
    /**
     * value = hours until the least-squares line through the window's samples reaches `reach`
     * (no value when it moves away from it); a level applies only while the latest sample is
     * beyond its guard (`warning_from`, `critical_from`), as node-mixin's "and free < 40%"
     */
    predict: Type.Optional(
      Type.Object(
        {
          reach: Type.Number(),
          warning_from: Type.Optional(Type.Number()),
          critical_from: Type.Optional(Type.Number()),
        },
        { additionalProperties: false },
      ),
    ),
    ...Levels,
  },
  { additionalProperties: false },
);
export const LogRule = Type.Object(
  {
    kind: Type.Literal('log'),
    ...Common,
    /** FTS5 query over the message, as in GET /api/v1/logs?q= */
    query: Type.String({ minLength: 1, maxLength: 1024 }),
    min_count: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
    window: Type.Optional(Duration),
    severity: Type.Optional(Severity),
  },
  { additionalProperties: false },
);
export const AbsenceRule = Type.Object(
  {
    kind: Type.Literal('absence'),
    ...Common,
    /** silence longer than this fires */
    seconds: Type.Integer({ minimum: 1, maximum: 366 * 86400 }),
    /** watch one log source (file path) instead of the whole host */
    source: Type.Optional(Type.String({ minLength: 1, maxLength: 4096 })),
    /** watch one metric series instead of the whole host */
    metric: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
    severity: Type.Optional(Severity),
  },
  { additionalProperties: false },
);
export const CheckRule = Type.Object(
  {
    kind: Type.Literal('check'),
    ...Common,
    /** the name of a process, HTTP or TCP check run by the agent, or a glob (`*`): one alert per check */
    check: Type.String({ minLength: 1, maxLength: 255 }),
    /** which kinds of check the rule reads (all three by default) */
    check_types: Type.Optional(Type.Array(Type.Union([Type.Literal('process'), Type.Literal('http'), Type.Literal('tcp')]), { minItems: 1, maxItems: 3 })),
    /** down only when this many consecutive results are down (1) */
    samples: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
    severity: Type.Optional(Severity),
  },
  { additionalProperties: false },
);
export const FlappingRule = Type.Object(
  {
    kind: Type.Literal('flapping'),
    ...Common,
    /** at least this many down transitions of the host (host.down) within the window */
    min_count: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
    window: Type.Optional(Duration),
    severity: Type.Optional(Severity),
  },
  { additionalProperties: false },
);
export const AlertRule = Type.Union([MetricRule, LogRule, AbsenceRule, CheckRule, FlappingRule]);
export type AlertRule = Static<typeof AlertRule>;
export type Severity = Static<typeof Severity>;

export type Op = '>' | '>=' | '<' | '<=';

/** The evaluator's view of a rule: durations in ms, levels made explicit. */
export interface CompiledRule {
  name: string;
  spec: AlertRule;
  hostGlob: RegExp | null;
  forMs: number;
  keepFiringForMs: number;
  op: Op;
  warning: number | null;
  critical: number | null;
  warningClear: number | null;
  criticalClear: number | null;
  windowMs: number;
  labels: Record<string, string>;
  source: 'config' | 'api' | 'default';
  enabled: boolean;
  /** check rules: the check name pattern (null: one exact name) */
  checkGlob: RegExp | null;
}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Whether a firing alert at this severity is sent to webhooks (the rule's `notify`). */
export function notifies(rule: CompiledRule, severity: Severity): boolean {
  const n = rule.spec.notify ?? true;
  return n === true || (n === 'critical' && severity === 'critical');
}

export function durationMs(d: number | string | undefined, fallbackMs: number): number {
  if (d === undefined) return fallbackMs;
  if (typeof d === 'number') return d * 1000;
  const m = /^([0-9]+)(ms|s|m|h|d)$/.exec(d)!;
  return Number(m[1]) * UNIT_MS[m[2]!]!;
}

export function globToRegExp(glob: string): RegExp {
  const body = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${body}$`);
}

const checkRule = TypeCompiler.Compile(AlertRule);

function bad(where: string, msg: string): never {
  throw new RingtailError(ErrorCodes.BAD_REQUEST, `${where}: ${msg}`);
}

/** Validates and normalises one rule; `where` names it in errors (`alerts.rules[3]`, `body`). */
export function compileRule(raw: unknown, where: string, source: 'config' | 'api' | 'default'): CompiledRule {
  if (!checkRule.Check(raw)) {
    const kind = (raw as { kind?: unknown } | null)?.kind;
    const specific = { metric: MetricRule, log: LogRule, absence: AbsenceRule, check: CheckRule, flapping: FlappingRule }[String(kind)];
    if (!specific) bad(`${where}/kind`, `expected one of metric, log, absence, check, flapping, got ${JSON.stringify(kind)}`);
    const first = TypeCompiler.Compile(specific).Errors(raw).First()!;
    bad(`${where}${first.path}`, first.message);
  }
  const r = raw as AlertRule;
  for (const [k, v] of Object.entries(r.annotations ?? {})) {
    const problem = checkTemplate(v as string);
    if (problem) bad(`${where}/annotations/${k}`, problem);
  }
  for (const reserved of ['alertname', 'rule', 'host', 'severity']) {
    if (r.labels && reserved in r.labels) bad(`${where}/labels/${reserved}`, 'is set by ringtail and cannot be overridden');
  }
  let op: Op;
  let warning: number | null = null;
  let critical: number | null = null;
  let warningClear: number | null = null;
  let criticalClear: number | null = null;
  let windowMs = 0;
  switch (r.kind) {
    case 'metric': {
      op = r.op === 'above' ? '>' : '<';
      warning = r.warning ?? null;
      critical = r.critical ?? null;
      if (warning === null && critical === null) bad(where, 'a metric rule needs warning or critical');
      warningClear = r.warning_clear ?? warning;
      criticalClear = r.critical_clear ?? critical;
      const looser = (a: number, b: number) => (r.op === 'above' ? a <= b : a >= b);
      if (warning !== null && !looser(warningClear!, warning)) bad(`${where}/warning_clear`, `must be ${r.op === 'above' ? 'at most' : 'at least'} warning (${warning})`);
      if (critical !== null && !looser(criticalClear!, critical)) bad(`${where}/critical_clear`, `must be ${r.op === 'above' ? 'at most' : 'at least'} critical (${critical})`);
      if (warning !== null && critical !== null && !looser(warning, critical)) bad(`${where}/warning`, `must be ${r.op === 'above' ? 'below' : 'above'} critical (${critical})`);
      windowMs = durationMs(r.window, 60_000);
      if (r.predict && r.divide_by !== undefined) bad(`${where}/predict`, 'cannot be combined with divide_by');
      break;
    }
    case 'log': {
      op = '>=';
      const level = r.min_count ?? 1;
      if ((r.severity ?? 'critical') === 'critical') critical = level;
      else warning = level;
      windowMs = durationMs(r.window, 60_000);
      break;
    }
    case 'absence': {
      if (r.source !== undefined && r.metric !== undefined) bad(where, 'give source or metric, not both');
      op = '>';
      if ((r.severity ?? 'critical') === 'critical') critical = r.seconds;
      else warning = r.seconds;
      break;
    }
    case 'check': {
      // value 1 = down, 0 = up
      op = '>=';
      if ((r.severity ?? 'critical') === 'critical') critical = 1;
      else warning = 1;
      break;
    }
    case 'flapping': {
      op = '>=';
      const level = r.min_count ?? 3;
      if ((r.severity ?? 'warning') === 'critical') critical = level;
      else warning = level;
      windowMs = durationMs(r.window, 30 * 60_000);
      break;
    }
  }
  if (r.kind !== 'metric') {
    warningClear = warning;
    criticalClear = critical;
  }
  return {
    name: r.name,
    spec: r,
    hostGlob: r.host !== undefined ? globToRegExp(r.host) : null,
    forMs: durationMs(r.for, 0),
    keepFiringForMs: durationMs(r.keep_firing_for, 0),
    op,
    warning,
    critical,
    warningClear,
    criticalClear,
    windowMs,
    labels: r.labels ?? {},
    source,
    enabled: r.enabled !== false,
    checkGlob: r.kind === 'check' && /[*?]/.test(r.check) ? globToRegExp(r.check) : null,
  };
}

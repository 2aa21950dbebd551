// What is said about an alert: its labels and annotations, the notifications a cycle decides
// from an instance's persisted state (level-triggered: what was last announced, and when), and
// the outbox rows those become, one per receiver, each with a webhook id derived from the
// transition (webhook-ids.ts) so a standby that takes over sends the same ids.
import { createHash } from 'node:crypto';
import type { NewOutbox } from '../storage/types.js';
import type { Evidence } from './evidence.js';
import type { AlertPayload, Notifier } from './notifiers/types.js';
import { parseMetricKey } from '../metrics/key.js';
import { notifies, type CompiledRule, type Severity } from './rules.js';
import { silencedBy, type CompiledSilence } from './silences.js';
import { firingKey, parseKey, type InstanceState } from './state.js';
import { renderTemplate } from './template.js';
import { notificationId, type Occasion } from './webhook-ids.js';

const RESERVED = new Set(['alertname', 'rule', 'host', 'severity']);

/** a notification decided in a cycle, with what its webhook id is derived from */
export interface Decided {
  payload: AlertPayload;
  occasion: Occasion;
}

export function fingerprint(labels: Record<string, string>): string {
  const h = createHash('sha256');
  for (const k of Object.keys(labels).sort()) h.update(`${k}\u0000${labels[k]}\u0000`);
  return h.digest('hex').slice(0, 16);
}

export function labelsFor(rule: CompiledRule, host: string, severity: Severity, series = ''): Record<string, string> {
  const out: Record<string, string> = { ...rule.labels };
  if (series !== '') {
    const parsed = parseMetricKey('x' + series);
    for (const [k, v] of Object.entries(parsed?.labels ?? {})) if (!RESERVED.has(k)) out[k] = v;
  }
  return Object.assign(out, { alertname: rule.name, rule: rule.name, host, severity });
}

export function annotationsFor(rule: CompiledRule, labels: Record<string, string>, value: number | null): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(rule.spec.annotations ?? {})) {
    if (v !== undefined) out[k] = renderTemplate(v, { value, rule: rule.name, severity: labels.severity ?? '', labels });
  }
  return out;
}

export interface NotifyContext {
  silences: CompiledSilence[];
  repeatIntervalMs: number;
  /** a firing alert's evidence, gathered as its notification is queued (collector/alerts/evidence.ts) */
  evidence?: (rule: CompiledRule, host: string, series: string, now: number) => Evidence;
  clock: () => number;
}

function payload(ctx: NotifyContext, rule: CompiledRule, s: InstanceState, severity: Severity, startsAt: number, endsAt: number | null): AlertPayload {
  const labels = labelsFor(rule, s.host, severity, s.series);
  return {
    status: endsAt === null ? 'firing' : 'resolved',
    labels,
    annotations: annotationsFor(rule, labels, s.value),
    severity,
    startsAt,
    endsAt,
    fingerprint: fingerprint(labels),
    value: s.value,
    ...(endsAt === null && ctx.evidence ? { evidence: ctx.evidence(rule, s.host, s.series, ctx.clock()) } : {}),
  };
}

/**
 * The notifications an instance's state calls for at `now`, added to its rule's group; the state's
 * memory of what was announced (notifiedKey, lastNotifiedAt) is updated in place.
 */
export function decideNotifications(ctx: NotifyContext, rule: CompiledRule, s: InstanceState, now: number, groups: Map<string, Decided[]>): void {
  const out: Decided[] = [];
  const decided = (p: AlertPayload, after: number | null): Decided => ({
    payload: p,
    occasion: { status: p.status, fingerprint: p.fingerprint, startsAt: p.startsAt, after },
  });
  if (s.phase === 'firing') {
    const k = firingKey(s)!;
    // a silent rule (notify: false, or 'critical' at warning) is held back like a silenced alert
    const silenced = !notifies(rule, s.severity!) || silencedBy(ctx.silences, labelsFor(rule, s.host, s.severity!, s.series), now) !== null;
    if (s.notifiedKey !== k) {
      if (s.notifiedKey !== null) {
        const old = parseKey(s.notifiedKey);
        out.push(decided(payload(ctx, rule, s, old.severity, old.startsAt, now), null));
        s.notifiedKey = null;
        s.lastNotifiedAt = null;
      }
      if (!silenced) {
        out.push(decided(payload(ctx, rule, s, s.severity!, s.firingSince!, null), null));
        s.notifiedKey = k;
        s.lastNotifiedAt = now;
      }
    } else if (!silenced && now - (s.lastNotifiedAt ?? 0) >= ctx.repeatIntervalMs) {
      out.push(decided(payload(ctx, rule, s, s.severity!, s.firingSince!, null), s.lastNotifiedAt ?? 0));
      s.lastNotifiedAt = now;
    }
  } else if (s.notifiedKey !== null) {
    const old = parseKey(s.notifiedKey);
    out.push(decided(payload(ctx, rule, s, old.severity, old.startsAt, now), null));
    s.notifiedKey = null;
    s.lastNotifiedAt = null;
  }
  if (out.length === 0) return;
  const list = groups.get(rule.name) ?? [];
  list.push(...out);
  groups.set(rule.name, list);
}

/** One outbox row per (rule group, receiver that takes the rule and is not disabled). */
export function outboxRows(groups: Map<string, Decided[]>, notifiers: Notifier[], disabled: ReadonlyMap<string, unknown>): NewOutbox[] {
  if (groups.size === 0) return [];
  const rows: NewOutbox[] = [];
  for (const [rule, decided] of groups) {
    const alerts = decided.map((d) => d.payload);
    const occasions = decided.map((d) => d.occasion);
    for (const n of notifiers) {
      if (disabled.has(n.name) || !n.accepts(rule)) continue;
      rows.push({ id: notificationId(n.name, rule, occasions), notifier: n.name, rule, body: n.render({ rule, alerts }) });
    }
  }
  return rows;
}

export interface CurrentAlert {
  rule: string;
  host: string;
  /** the series' labels part (`{mount=/}`) for rules that watch every series of a name, else '' */
  series: string;
  /** false: shown here, never sent to webhooks (the rule's `notify`) */
  notify: boolean;
  state: 'pending' | 'firing';
  severity: Severity | null;
  value: number | null;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  active_since: number | null;
  starts_at: number | null;
  silenced_by: string | null;
}

/** Pending and firing instances as GET /api/v1/alerts lists them, sorted by rule, host and series. */
export function currentAlerts(states: Iterable<InstanceState>, rules: ReadonlyMap<string, CompiledRule>, silences: CompiledSilence[], now: number): CurrentAlert[] {
  const out: CurrentAlert[] = [];
  for (const s of states) {
    if (s.phase === 'ok') continue;
    const rule = rules.get(s.rule);
    if (!rule) continue;
    const labels = labelsFor(rule, s.host, s.severity!, s.series);
    out.push({
      rule: s.rule,
      host: s.host,
      series: s.series,
      notify: notifies(rule, s.severity!),
      state: s.phase,
      severity: s.severity,
      value: s.value,
      labels,
      annotations: annotationsFor(rule, labels, s.value),
      active_since: s.activeSince,
      starts_at: s.firingSince,
      silenced_by: silencedBy(silences, labels, now),
    });
  }
  return out.sort((a, b) => a.rule.localeCompare(b.rule) || a.host.localeCompare(b.host) || a.series.localeCompare(b.series));
}

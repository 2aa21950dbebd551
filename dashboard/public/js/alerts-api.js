// Alerts as the dashboard needs them, from GET /api/v1/alerts (current), /api/v1/alerts/history,
// the rules and silences API. Field names are read tolerantly (labels.host or host, state or
// status) so small differences between API versions do not blank the page.
import { api, firstAvailable } from './api.js';

export const RULE_PATHS = ['/api/v1/alerts/rules', '/api/v1/rules'];
export const SILENCE_PATHS = ['/api/v1/alerts/silences', '/api/v1/silences'];

function listOf(res) {
  return Array.isArray(res) ? res : (res?.items ?? res?.alerts ?? res?.rules ?? res?.silences ?? res?.history ?? []);
}

export function normAlert(a) {
  const labels = a.labels ?? {};
  return {
    raw: a,
    rule: a.rule ?? a.rule_name ?? a.rule_id ?? labels.rule ?? labels.alertname ?? '?',
    host: a.host ?? labels.host ?? '',
    state: String(a.state ?? a.status ?? 'firing').toLowerCase(),
    severity: String(a.severity ?? a.level ?? labels.severity ?? '').toLowerCase(),
    since: a.since ?? a.active_at ?? a.activeAt ?? a.started_at ?? a.startsAt ?? a.fired_at ?? a.ts ?? null,
    until: a.resolved_at ?? a.ended_at ?? a.endsAt ?? null,
    value: a.value ?? null,
    summary: a.summary ?? a.annotations?.summary ?? '',
  };
}

export async function activeAlerts(signal) {
  return listOf(await api('/api/v1/alerts', { signal })).map(normAlert);
}

export async function alertHistory(signal) {
  return listOf(await api('/api/v1/alerts/history', { signal })).map(normAlert);
}

export async function rulesPath() {
  return firstAvailable(RULE_PATHS);
}
export async function silencesPath() {
  return firstAvailable(SILENCE_PATHS);
}

export async function listRules(signal) {
  const p = await rulesPath();
  return p ? listOf(await api(p, { signal })) : null;
}
export async function listSilences(signal) {
  const p = await silencesPath();
  return p ? listOf(await api(p, { signal })) : null;
}

/** Numbers a rule gives for its warning and critical levels, wherever it keeps them. */
export function ruleLevels(rule) {
  const num = (v) => (typeof v === 'number' ? v : typeof v === 'string' && v !== '' && !Number.isNaN(Number(v)) ? Number(v) : undefined);
  const pick = (obj, k) => (obj && typeof obj === 'object' ? obj[k] : undefined);
  const warning = num(rule.warning) ?? num(pick(rule.warning, 'above') ?? pick(rule.warning, 'below') ?? pick(rule.warning, 'value')) ?? num(pick(rule.levels, 'warning')) ?? num(pick(rule.thresholds, 'warning'));
  const critical = num(rule.critical) ?? num(pick(rule.critical, 'above') ?? pick(rule.critical, 'below') ?? pick(rule.critical, 'value')) ?? num(pick(rule.levels, 'critical')) ?? num(pick(rule.thresholds, 'critical'));
  return { warning, critical };
}

export function ruleMetric(rule) {
  return rule.metric ?? rule.series ?? rule.expr?.metric ?? rule.match?.metric ?? null;
}

/** Does a rule apply to this host? Rules without a host matcher apply to all hosts. */
export function ruleAppliesTo(rule, host) {
  const hosts = rule.host ?? rule.hosts ?? rule.match?.host ?? rule.matchers?.host;
  if (hosts === undefined || hosts === null || hosts === '' || hosts === '*') return true;
  if (Array.isArray(hosts)) return hosts.includes(host);
  if (typeof hosts === 'string') {
    if (hosts.includes('*')) return new RegExp('^' + hosts.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*') + '$').test(host);
    return hosts === host;
  }
  return true;
}

export function ruleEnabled(rule) {
  return rule.enabled !== false && rule.disabled !== true;
}

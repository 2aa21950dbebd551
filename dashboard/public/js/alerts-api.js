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
  const state = String(a.state ?? a.event ?? a.status ?? 'firing').toLowerCase();
  return {
    raw: a,
    rule: a.rule ?? labels.rule ?? labels.alertname ?? '?',
    host: a.host ?? labels.host ?? '',
    state,
    severity: String(a.severity ?? labels.severity ?? '').toLowerCase(),
    // firing: since it fired; pending: since the condition began; history rows: when it happened
    since: (state === 'firing' ? a.starts_at : null) ?? a.active_since ?? a.at ?? null,
    value: a.value ?? null,
    summary: a.annotations?.summary ?? '',
    silenced: Array.isArray(a.silenced_by) ? a.silenced_by.length > 0 : Boolean(a.silenced_by),
    // a silent rule's alert (notify: false) is shown here and never sent
    silent: a.notify === false,
    // one alert per series (a disk's mount, a check's name): its labels, `{mount=/}`
    series: a.series ?? '',
  };
}

/** A rule as the API lists it ({ name, source, spec, error }) flattened to its spec plus those. */
export function normRule(r) {
  return { ...(r.spec ?? r), name: r.name ?? r.spec?.name, source: r.source ?? 'api', enabled: r.enabled ?? r.spec?.enabled ?? true, error: r.error ?? null };
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
  return p ? listOf(await api(p, { signal })).map(normRule) : null;
}
export async function listSilences(signal) {
  const p = await silencesPath();
  return p ? listOf(await api(p, { signal })) : null;
}

/** Numbers a rule gives for its warning and critical levels, wherever it keeps them. */
export function ruleLevels(rule) {
  const num = (v) => (typeof v === 'number' ? v : typeof v === 'string' && v !== '' && !Number.isNaN(Number(v)) ? Number(v) : undefined);
  const pick = (obj, k) => (obj && typeof obj === 'object' ? obj[k] : undefined);
  if (rule.kind !== undefined && rule.kind !== 'metric') return { warning: undefined, critical: undefined };
  const warning = num(rule.warning) ?? num(pick(rule.levels, 'warning'));
  const critical = num(rule.critical) ?? num(pick(rule.levels, 'critical'));
  return { warning, critical };
}

export function ruleMetric(rule) {
  return rule.metric ?? null;
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

// Alerts page: what fires and what is pending (and since when), the history, the rules (admins
// create, edit, disable and enable them) and the silences (admins add and expire them).
import { api, ApiError, available } from './api.js';
import { alertHistory, activeAlerts, listRules, listSilences, ruleEnabled, ruleLevels, ruleMetric, rulesPath, silencesPath } from './alerts-api.js';
import { h, link, toast } from './dom.js';
import { ago, fmtTime } from './format.js';
import { href } from './router.js';

const RULE_TEMPLATE = {
  name: 'high-cpu',
  type: 'metric',
  metric: 'cpu.usage_percent',
  host: '*',
  warning: 80,
  critical: 95,
  for: '2m',
  enabled: true,
};

const when = (t) => (t ? h('time', { datetime: new Date(t).toISOString(), title: fmtTime(t) }, ago(t)) : '–');

function alertRow(a, history = false) {
  return h('tr', { class: `alert-row ${a.state} ${a.severity}`, dataset: { rule: String(a.rule), host: a.host } },
    h('td', {}, h('span', { class: `badge alert ${a.state} ${a.severity}` }, a.state)),
    h('td', {}, a.severity || '–'),
    h('td', {}, String(a.rule)),
    h('td', {}, a.host ? link(href(['host', a.host]), a.host) : '–'),
    h('td', {}, when(a.since)),
    history ? h('td', {}, when(a.until)) : null,
    h('td', { class: 'msg' }, a.summary || (a.value !== null ? `value ${a.value}` : '')));
}

function table(id, heads, rows, empty) {
  if (!rows.length) return h('p', { class: 'muted', id }, empty);
  return h('div', { class: 'table-wrap' }, h('table', { id }, h('thead', {}, h('tr', {}, heads.map((x) => h('th', { scope: 'col' }, x)))), h('tbody', {}, rows)));
}

export function mountAlerts(main, _params, me) {
  const ctl = new AbortController();
  const admin = me?.role === 'admin';
  const active = h('div', { id: 'alerts-active' }, h('p', { class: 'muted' }, 'Loading…'));
  const history = h('div', { id: 'alerts-history' });
  const rules = h('div', { id: 'alerts-rules' });
  const silences = h('div', { id: 'alerts-silences' });
  const editor = h('textarea', { id: 'rule-editor', rows: 10, spellcheck: 'false', 'aria-label': 'Rule as JSON' });
  let editing = null;
  const editorTitle = h('h3', {}, 'New rule');
  const editorForm = h('form', { id: 'rule-form', class: 'card', hidden: true }, editorTitle, editor,
    h('div', { class: 'row' }, h('button', { type: 'submit' }, 'Save rule'), h('button', { type: 'button', class: 'ghost', onclick: () => (editorForm.hidden = true) }, 'Cancel')));
  main.replaceChildren(
    h('section', { class: 'view' },
      h('div', { class: 'toolbar' }, h('h1', {}, 'Alerts')),
      h('h2', {}, 'Firing and pending'), active,
      h('h2', {}, 'Rules'), admin ? h('button', { type: 'button', id: 'new-rule', onclick: () => edit(null) }, 'New rule') : null, editorForm, rules,
      h('h2', {}, 'Silences'), silences,
      h('h2', {}, 'History'), history),
  );

  function edit(rule) {
    editing = rule;
    editorTitle.textContent = rule ? `Edit rule ${rule.name ?? rule.id}` : 'New rule';
    const { id: _id, created_at: _c, updated_at: _u, ...body } = rule ?? RULE_TEMPLATE;
    editor.value = JSON.stringify(body, null, 2);
    editorForm.hidden = false;
    editor.focus();
  }

  editorForm.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    let body;
    try {
      body = JSON.parse(editor.value);
    } catch (err) {
      toast(`The rule is not valid JSON: ${err.message}`);
      return;
    }
    const base = await rulesPath();
    try {
      if (editing) await api(`${base}/${encodeURIComponent(editing.id ?? editing.name)}`, { method: 'PUT', body });
      else await api(base, { method: 'POST', body });
      editorForm.hidden = true;
      toast('Rule saved.');
      load();
    } catch (err) {
      toast(`Could not save: ${err.message}`);
    }
  });

  async function setEnabled(rule, enabled) {
    const base = await rulesPath();
    const url = `${base}/${encodeURIComponent(rule.id ?? rule.name)}`;
    try {
      await api(url, { method: 'PATCH', body: { enabled } });
    } catch (err) {
      if (!(err instanceof ApiError) || (err.status !== 404 && err.status !== 405 && err.status !== 400)) throw err;
      const { id: _id, created_at: _c, updated_at: _u, ...body } = rule;
      await api(url, { method: 'PUT', body: { ...body, enabled } });
    }
    load();
  }

  async function expireSilence(s) {
    const base = await silencesPath();
    try {
      await api(`${base}/${encodeURIComponent(s.id)}`, { method: 'DELETE' });
      load();
    } catch (err) {
      toast(`Could not expire: ${err.message}`);
    }
  }

  function silenceForm() {
    const matchers = h('input', { name: 'matchers', placeholder: 'host=web-1 rule=high-cpu', 'aria-label': 'Matchers (label=value …)', required: true });
    const hours = h('input', { name: 'hours', type: 'number', min: '0.1', step: '0.1', value: '2', 'aria-label': 'Duration in hours' });
    const comment = h('input', { name: 'comment', placeholder: 'why', 'aria-label': 'Comment' });
    const form = h('form', { id: 'silence-form', class: 'row' }, matchers, hours, h('span', {}, 'h'), comment, h('button', { type: 'submit' }, 'Add silence'));
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const m = {};
      for (const part of matchers.value.trim().split(/\s+/)) {
        const eq = part.indexOf('=');
        if (eq > 0) m[part.slice(0, eq)] = part.slice(eq + 1);
      }
      const now = Date.now();
      try {
        await api(await silencesPath(), { method: 'POST', body: { matchers: m, starts_at: now, ends_at: now + Number(hours.value) * 3600_000, comment: comment.value } });
        toast('Silence added.');
        load();
      } catch (err) {
        toast(`Could not add the silence: ${err.message}`);
      }
    });
    return form;
  }

  async function load() {
    if (!(await available('/api/v1/alerts'))) {
      active.replaceChildren(h('p', { class: 'muted' }, 'This collector has no alerts API yet (GET /api/v1/alerts).'));
      return;
    }
    try {
      const [cur, hist, rl, sl] = await Promise.all([
        activeAlerts(ctl.signal),
        alertHistory(ctl.signal).catch(() => []),
        listRules(ctl.signal).catch(() => null),
        listSilences(ctl.signal).catch(() => null),
      ]);
      const order = { firing: 0, pending: 1 };
      const current = cur.filter((a) => a.state !== 'resolved' && a.state !== 'ok').sort((a, b) => (order[a.state] ?? 2) - (order[b.state] ?? 2) || (a.since ?? 0) - (b.since ?? 0));
      active.replaceChildren(table('active-table', ['State', 'Severity', 'Rule', 'Host', 'Since', 'Summary'], current.map((a) => alertRow(a)), 'Nothing is firing or pending.'));
      history.replaceChildren(table('history-table', ['State', 'Severity', 'Rule', 'Host', 'Since', 'Until', 'Summary'], hist.slice(0, 200).map((a) => alertRow(a, true)), 'No history yet.'));
      rules.replaceChildren(rl === null ? h('p', { class: 'muted' }, 'No rules API on this collector.') :
        table('rules-table', ['Rule', 'Kind', 'Metric / query', 'Hosts', 'Warning', 'Critical', 'Enabled', admin ? 'Actions' : ''], rl.map((r) => {
          const lv = ruleLevels(r);
          const on = ruleEnabled(r);
          return h('tr', { class: on ? '' : 'disabled', dataset: { rule: String(r.name ?? r.id) } },
            h('td', {}, String(r.name ?? r.id)),
            h('td', {}, String(r.type ?? r.kind ?? '')),
            h('td', {}, String(ruleMetric(r) ?? r.query ?? '')),
            h('td', {}, typeof (r.host ?? r.hosts) === 'string' ? r.host ?? r.hosts : JSON.stringify(r.host ?? r.hosts ?? '*')),
            h('td', {}, lv.warning ?? '–'),
            h('td', {}, lv.critical ?? '–'),
            h('td', {}, on ? 'yes' : 'no'),
            h('td', {}, admin ? [h('button', { type: 'button', class: 'ghost', onclick: () => edit(r) }, 'Edit'), ' ',
              h('button', { type: 'button', class: 'ghost', onclick: () => setEnabled(r, !on).catch((e) => toast(e.message)) }, on ? 'Disable' : 'Enable')] : ''));
        }), 'No rules.'));
      silences.replaceChildren(
        sl === null ? h('p', { class: 'muted' }, 'No silences API on this collector.') :
          table('silences-table', ['Matchers', 'From', 'Until', 'Comment', ''], sl.map((s) => h('tr', {},
            h('td', {}, Object.entries(s.matchers ?? {}).map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : v}`).join(' ') || JSON.stringify(s.matchers ?? '')),
            h('td', {}, s.starts_at ? fmtTime(s.starts_at) : '–'),
            h('td', {}, s.ends_at ? fmtTime(s.ends_at) : '–'),
            h('td', {}, String(s.comment ?? '')),
            h('td', {}, admin ? h('button', { type: 'button', class: 'ghost', onclick: () => expireSilence(s) }, 'Expire') : ''))), 'No silences.'),
        admin && sl !== null ? silenceForm() : null);
      active.dataset.ready = 'true';
    } catch (err) {
      if (err.name !== 'AbortError') active.replaceChildren(h('p', { class: 'error' }, `Could not load alerts: ${err.message}`));
    }
  }
  load();
  const timer = setInterval(() => {
    if (editorForm.hidden) load();
  }, 10_000);
  return () => {
    ctl.abort();
    clearInterval(timer);
  };
}

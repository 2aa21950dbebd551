// Alerts page: what fires and what is pending (and since when), the history of transitions,
// the rules (admins create, edit, disable, enable and delete them) and the silences (admins add
// and expire them). Rules from the collector's configuration file are read-only here (their
// `enabled` is set in the file); viewers see every rule's state.
import { api, available } from './api.js';
import { alertHistory, activeAlerts, listRules, listSilences, ruleEnabled, ruleLevels, ruleMetric, RULE_PATHS, SILENCE_PATHS } from './alerts-api.js';
import { h, link, toast } from './dom.js';
import { ago, fmtTime } from './format.js';
import { href } from './router.js';

const RULE_TEMPLATE = {
  kind: 'metric',
  name: 'cpu-high',
  metric: 'cpu.user',
  op: 'above',
  warning: 80,
  critical: 95,
  for: '2m',
  annotations: { summary: '{{ $labels.host }}: CPU at {{ $value }}%' },
};

const when = (t) => (t ? h('time', { datetime: new Date(t).toISOString(), title: fmtTime(t) }, ago(t)) : '–');

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
  const editor = h('textarea', { id: 'rule-editor', rows: 12, spellcheck: 'false', 'aria-label': 'Rule as JSON (see docs/alerts.md)' });
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
    editorTitle.textContent = rule ? `Edit rule ${rule.name}` : 'New rule';
    const { source: _s, error: _e, ...spec } = rule ?? RULE_TEMPLATE;
    editor.value = JSON.stringify(spec, null, 2);
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
    if (typeof body?.name !== 'string') return toast('The rule needs a "name".');
    try {
      await api(`${RULE_PATHS[0]}/${encodeURIComponent(body.name)}`, { method: 'PUT', body });
      editorForm.hidden = true;
      toast(`Rule ${body.name} saved.`);
      load();
    } catch (err) {
      toast(`Could not save: ${err.message}`);
    }
  });

  const act = (fn, done) => async () => {
    try {
      await fn();
      toast(done);
    } catch (err) {
      toast(`Failed: ${err.message}`);
    }
    load();
  };
  const removeRule = (r) => act(() => api(`${RULE_PATHS[0]}/${encodeURIComponent(r.name)}`, { method: 'DELETE' }), `Rule ${r.name} deleted.`);
  // A disabled rule is not evaluated and its alerts resolve (PATCH { enabled }).
  const setEnabled = (r, enabled) => act(() => api(`${RULE_PATHS[0]}/${encodeURIComponent(r.name)}`, { method: 'PATCH', body: { enabled } }), `Rule ${r.name} ${enabled ? 'enabled' : 'disabled'}.`);
  const expire = (s) => act(() => api(`${SILENCE_PATHS[0]}/${encodeURIComponent(s.id)}`, { method: 'DELETE' }), 'Silence expired.');

  function silenceForm() {
    const matchers = h('input', { name: 'matchers', id: 'silence-matchers', placeholder: 'host=web-1 rule=cpu-high', 'aria-label': 'Matchers (label=value, label=~regex)', required: true });
    const hours = h('input', { name: 'hours', type: 'number', min: '0.1', step: '0.1', value: '2', 'aria-label': 'Duration in hours' });
    const comment = h('input', { name: 'comment', placeholder: 'why', 'aria-label': 'Comment', required: true });
    const form = h('form', { id: 'silence-form', class: 'row' }, matchers, hours, h('span', {}, 'h'), comment, h('button', { type: 'submit' }, 'Add silence'));
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const list = [];
      for (const part of matchers.value.trim().split(/\s+/)) {
        const m = /^([A-Za-z_][A-Za-z0-9_]*)(=~|=)(.*)$/.exec(part);
        if (!m) return toast(`Not a matcher: ${part} (use label=value or label=~regex)`);
        list.push({ name: m[1], value: m[3], ...(m[2] === '=~' ? { regex: true } : {}) });
      }
      await act(() => api(SILENCE_PATHS[0], { method: 'POST', body: { matchers: list, ends_at: Date.now() + Number(hours.value) * 3600_000, comment: comment.value } }), 'Silence added.')();
    });
    return form;
  }

  async function load() {
    if (!(await available('/api/v1/alerts'))) {
      active.replaceChildren(h('p', { class: 'muted' }, 'This collector has no alerts API (GET /api/v1/alerts).'));
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
      const current = cur.sort((a, b) => (order[a.state] ?? 2) - (order[b.state] ?? 2) || (a.since ?? 0) - (b.since ?? 0));
      active.replaceChildren(table('active-table', ['State', 'Severity', 'Rule', 'Host', 'Since', 'Value', 'Summary'], current.map((a) =>
        h('tr', { class: `alert-row ${a.state} ${a.severity}`, dataset: { rule: a.rule, host: a.host, state: a.state } },
          h('td', {}, h('span', { class: `badge alert ${a.state} ${a.severity}` }, a.state), a.silenced ? h('span', { class: 'badge muted' }, 'silenced') : null, a.silent ? h('span', { class: 'badge muted', title: 'shown here, not sent to webhooks' }, 'silent') : null),
          h('td', {}, a.severity || '–'),
          h('td', {}, a.series ? `${a.rule} ${a.series}` : a.rule),
          h('td', {}, a.host ? link(href(['host', a.host]), a.host) : '–'),
          h('td', {}, when(a.since)),
          h('td', {}, a.value ?? '–'),
          h('td', { class: 'msg' }, a.summary))), 'Nothing is firing or pending.'));
      history.replaceChildren(table('history-table', ['When', 'Event', 'Severity', 'Rule', 'Host', 'Value'], hist.slice(0, 200).map((a) =>
        h('tr', {}, h('td', {}, a.since ? fmtTime(a.since) : '–'), h('td', {}, h('span', { class: `badge alert ${a.state} ${a.severity}` }, a.state)),
          h('td', {}, a.severity || '–'), h('td', {}, a.rule), h('td', {}, a.host ? link(href(['host', a.host]), a.host) : '–'), h('td', {}, a.value ?? '–'))), 'No history yet.'));
      rules.replaceChildren(rl === null ? h('p', { class: 'muted' }, 'No rules API on this collector.') :
        table('rules-table', ['Rule', 'Kind', 'Metric / query', 'Hosts', 'Warning', 'Critical', 'State', admin ? 'Actions' : ''], rl.map((r) => {
          const lv = ruleLevels(r);
          const off = !ruleEnabled(r);
          const fromConfig = r.source === 'config';
          // a default rule can be edited (replaced by an API rule of its name) and switched off, not deleted
          const isDefault = r.source === 'default';
          return h('tr', { class: off ? 'disabled' : '', dataset: { rule: r.name } },
            h('td', {}, r.name),
            h('td', {}, r.kind ?? ''),
            h('td', {}, ruleMetric(r) ?? r.query ?? r.check ?? (r.kind === 'absence' ? `${r.seconds} s` : '')),
            h('td', {}, r.host ?? 'all'),
            h('td', {}, lv.warning ?? '–'),
            h('td', {}, lv.critical ?? '–'),
            h('td', { class: 'rule-state' }, off ? 'disabled' : r.error ? h('span', { class: 'error' }, r.error) : 'enabled'),
            h('td', {}, !admin ? '' : [
              fromConfig ? h('span', { class: 'muted small' }, 'from config') : h('button', { type: 'button', class: 'ghost', onclick: () => edit(r) }, 'Edit'), ' ',
              fromConfig ? null : h('button', { type: 'button', class: 'ghost', onclick: setEnabled(r, off) }, off ? 'Enable' : 'Disable'), ' ',
              fromConfig ? null : isDefault ? h('span', { class: 'muted small' }, 'default') : h('button', { type: 'button', class: 'ghost', onclick: removeRule(r) }, 'Delete')]));
        }), 'No rules.'));
      const shown = (sl ?? []).filter((s) => s.active !== false);
      silences.replaceChildren(
        sl === null ? h('p', { class: 'muted' }, 'No silences API on this collector.') :
          table('silences-table', ['Matchers', 'From', 'Until', 'Comment', 'By', ''], shown.map((s) => h('tr', {},
            h('td', {}, (s.matchers ?? []).map((m) => `${m.name}${m.regex ? '=~' : '='}${m.value}`).join(' ')),
            h('td', {}, s.starts_at ? fmtTime(s.starts_at) : '–'),
            h('td', {}, s.ends_at ? fmtTime(s.ends_at) : '–'),
            h('td', {}, s.comment ?? ''),
            h('td', {}, s.created_by ?? ''),
            h('td', {}, admin ? h('button', { type: 'button', class: 'ghost', onclick: expire(s) }, 'Expire') : ''))), 'No active silences.'),
        admin && sl !== null ? silenceForm() : null);
      active.dataset.ready = 'true';
    } catch (err) {
      if (err.name !== 'AbortError') active.replaceChildren(h('p', { class: 'error' }, `Could not load alerts: ${err.message}`));
    }
  }
  load();
  const timer = setInterval(() => {
    if (editorForm.hidden) load();
  }, 5_000);
  return () => {
    ctl.abort();
    clearInterval(timer);
  };
}

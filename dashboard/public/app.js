// Minimal dashboard: hosts and the newest log lines, refreshed every 2 s.
// Log text is data: it is only ever placed with textContent, never parsed as HTML.
'use strict';
const TOKEN_KEY = 'ringtail.token';
const $ = (sel) => document.querySelector(sel);

async function api(path) {
  const res = await fetch(path, { headers: { authorization: 'Bearer ' + sessionStorage.getItem(TOKEN_KEY) } });
  if (res.status === 401) {
    sessionStorage.removeItem(TOKEN_KEY);
    show();
    throw new Error('signed out');
  }
  if (!res.ok) throw new Error((await res.json()).message);
  return res.json();
}

function row(cells) {
  const tr = document.createElement('tr');
  for (const text of cells) {
    const td = document.createElement('td');
    td.textContent = text;
    tr.append(td);
  }
  return tr;
}

async function refresh() {
  const hosts = await api('/api/v1/hosts');
  $('#hosts tbody').replaceChildren(...hosts.items.map((h) => row([h.host, new Date(h.last_seen).toISOString()])));
  const q = $('#q').value.trim();
  const logs = await api('/api/v1/logs?limit=200' + (q ? '&q=' + encodeURIComponent(q) : ''));
  $('#logs tbody').replaceChildren(
    ...logs.items.map((l) => {
      const tr = row([new Date(l.ts).toISOString(), l.host, l.source, l.message]);
      tr.className = 'sev' + l.severity;
      return tr;
    }),
  );
}

let timer;
function show() {
  const signedIn = Boolean(sessionStorage.getItem(TOKEN_KEY));
  $('#login').hidden = signedIn;
  $('#view').hidden = !signedIn;
  clearInterval(timer);
  if (signedIn) {
    refresh().catch(() => {});
    timer = setInterval(() => refresh().catch(() => {}), 2000);
  }
}

$('#login-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const token = $('#token').value.trim();
  const res = await fetch('/api/v1/hosts', { headers: { authorization: 'Bearer ' + token } });
  if (!res.ok) {
    $('#login-error').textContent = 'That token was not accepted.';
    return;
  }
  sessionStorage.setItem(TOKEN_KEY, token);
  $('#login-error').textContent = '';
  show();
});
$('#filters').addEventListener('submit', (ev) => {
  ev.preventDefault();
  refresh().catch(() => {});
});
show();

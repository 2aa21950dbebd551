// Boot: theme, session check, then the router mounts one view at a time into <main>; each view
// returns an unmount function that closes its streams, timers and charts.
import { api, setCsrf } from './api.js';
import { mountAlerts } from './alerts.js';
import { mountHost } from './host.js';
import { mountHosts } from './hosts.js';
import { mountLogin } from './login.js';
import { mountLogs } from './logs.js';
import { current, onRoute, start } from './router.js';
import { initTheme } from './theme.js';

const main = document.getElementById('main');
const nav = document.getElementById('nav');
const who = document.getElementById('who');
const logout = document.getElementById('logout');
let me = null;
let unmount = () => {};

const VIEWS = {
  hosts: (p) => mountHosts(main, p.params),
  host: (p) => mountHost(main, p.path[1] ?? '', p.params),
  logs: (p) => mountLogs(main, p.params),
  alerts: (p) => mountAlerts(main, p.params, me),
};

function show(route) {
  unmount();
  unmount = () => {};
  if (!me) {
    signedOut();
    return;
  }
  const name = VIEWS[route.path[0]] ? route.path[0] : 'hosts';
  for (const a of nav.querySelectorAll('a')) a.toggleAttribute('aria-current', a.dataset.route === name);
  document.title = `ringtail · ${name === 'host' ? route.path[1] : name}`;
  unmount = VIEWS[name](route) ?? (() => {});
  document.body.dataset.view = name;
}

function signedIn(session) {
  me = session;
  setCsrf(session.csrf);
  who.textContent = `${session.name} (${session.role})`;
  nav.hidden = false;
  logout.hidden = false;
  show(current());
}

function signedOut() {
  me = null;
  unmount();
  nav.hidden = true;
  logout.hidden = true;
  who.textContent = '';
  document.body.dataset.view = 'login';
  unmount = mountLogin(main, signedIn);
}

logout.addEventListener('click', async () => {
  try {
    await api('/api/v1/session', { method: 'DELETE' });
  } finally {
    signedOut();
  }
});
window.addEventListener('rt:unauthorized', () => {
  if (me) signedOut();
});
initTheme(document.getElementById('theme'));
onRoute(show);

api('/api/v1/session').then(
  (session) => (session.via === 'cookie' ? signedIn(session) : signedOut()),
  () => signedOut(),
);

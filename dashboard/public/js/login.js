// The sign-in page: a viewer or admin token is traded for an HttpOnly session cookie; the token
// itself is never stored by the page.
import { api, ApiError, setCsrf } from './api.js';
import { h } from './dom.js';

export function mountLogin(main, onSignedIn) {
  const error = h('p', { id: 'login-error', role: 'alert', class: 'error' });
  const input = h('input', { id: 'token', name: 'token', type: 'password', autocomplete: 'current-password', required: true, spellcheck: 'false' });
  const button = h('button', { type: 'submit' }, 'Sign in');
  const form = h(
    'form',
    { id: 'login-form', class: 'card login' },
    h('h1', {}, 'Sign in to ringtail'),
    h('label', { for: 'token' }, 'Token (viewer or admin)'),
    input,
    button,
    error,
    h('p', { class: 'muted small' }, 'Create one with ', h('code', {}, 'ringtail token create --role viewer'), '.'),
  );
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    error.textContent = '';
    button.disabled = true;
    try {
      const me = await api('/api/v1/session', { method: 'POST', body: { token: input.value.trim() } });
      input.value = '';
      setCsrf(me.csrf);
      onSignedIn(me);
    } catch (err) {
      if (err instanceof ApiError && err.status === 429) error.textContent = `Too many failed attempts. ${err.message}.`;
      else if (err instanceof ApiError && err.status === 401) error.textContent = `That token was not accepted (${err.message}).`;
      else error.textContent = `Sign-in failed: ${err.message}`;
    } finally {
      button.disabled = false;
    }
  });
  main.replaceChildren(form);
  input.focus();
  return () => {};
}

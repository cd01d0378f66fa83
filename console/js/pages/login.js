// pages/login.js — the sign-in form: checks a pasted token with GET
// /api/v1/whoami and keeps it in sessionStorage (api.js); shows why the
// previous session ended, if it did.

import { api, setToken } from '../api.js';

let bound = false;
let onSignedIn = null;

export function render(form, message, signedIn) {
  onSignedIn = signedIn;
  const box = document.getElementById('login-message');
  const input = document.getElementById('login-token');
  box.hidden = !message;
  box.className = 'alert' + (message === 'Signed out.' ? ' info' : '');
  box.textContent = message || '';
  input.value = '';
  setTimeout(() => input.focus(), 0);
  if (bound) return;
  bound = true;
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const token = input.value.trim();
    const button = document.getElementById('login-submit');
    if (!token) return;
    button.disabled = true;
    box.hidden = true;
    try {
      const who = await api('whoami', { token });
      setToken(token);
      onSignedIn(who);
    } catch (e) {
      box.hidden = false;
      box.className = 'alert';
      box.textContent = e.status === 401
        ? 'This token is not accepted (unknown, revoked or expired): ' + e.message
        : 'Sign-in failed: ' + e.code + (e.status ? ' (HTTP ' + e.status + ')' : '') + ': ' + e.message;
    } finally {
      button.disabled = false;
    }
  });
}

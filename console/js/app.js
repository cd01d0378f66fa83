// app.js — the console's entry point: signs in (login page), shows the
// shell (sidebar, who am I, live indicator), starts the event stream and
// maps each hash route to its page module. Each page renders into a fresh
// container and registers cleanups (timers, event subscriptions) that run
// when the route changes.

import { api, clearToken, getToken, onUnauthorized, session } from './api.js';
import * as events from './events.js';
import { current } from './router.js';
import { clearToasts, errorBox, fill, h } from './ui.js';
import * as login from './pages/login.js';
import * as fleet from './pages/fleet.js';
import * as agents from './pages/agents.js';
import * as agent from './pages/agent.js';
import * as tasks from './pages/tasks.js';
import * as campaigns from './pages/campaigns.js';
import * as campaign from './pages/campaign.js';
import * as profiles from './pages/profiles.js';
import * as rejections from './pages/rejections.js';

const PAGES = { fleet, agents, agent, tasks, campaigns, campaign, profiles, profile: profiles, rejections };

const $ = (id) => document.getElementById(id);
let cleanups = [];
let signedIn = false;

function runCleanups() {
  for (const fn of cleanups.splice(0)) {
    try {
      fn();
    } catch (e) {
      console.error('cleanup', e);
    }
  }
}

function showLogin(message) {
  signedIn = false;
  runCleanups();
  events.stop();
  $('shell').hidden = true;
  $('login').hidden = false;
  document.title = 'Sign in — uspc console';
  login.render($('login-form'), message, signedInAs);
}

// The token was accepted (whoami answered): show the shell.
function signedInAs(who) {
  session.name = who.name || '';
  session.role = who.role || '';
  session.token_id = who.token_id === undefined ? null : who.token_id;
  signedIn = true;
  $('login').hidden = true;
  $('shell').hidden = false;
  $('who-name').textContent = session.name;
  const role = $('who-role');
  role.textContent = session.role;
  role.className = 'role ' + session.role;
  events.start(signOut);
  route();
}

function signOut(message) {
  clearToken();
  session.name = session.role = '';
  showLogin(message);
}

function route() {
  if (!signedIn) return;
  runCleanups();
  clearToasts();
  const r = current();
  const page = PAGES[r.name] || null;
  for (const a of document.querySelectorAll('#nav a')) {
    a.classList.toggle('active', a.dataset.route.split(' ').includes(r.name));
  }
  const view = $('view');
  const root = h('div', { class: 'page', dataset: { page: r.name } });
  fill(view, root);
  window.scrollTo(0, 0);
  const ctx = {
    setTitle(t) {
      $('page-title').textContent = t;
      document.title = t + ' — uspc console';
    },
    cleanup(fn) {
      cleanups.push(fn);
    },
  };
  if (!page) {
    ctx.setTitle('Not found');
    root.appendChild(errorBox({ code: 'not_found', message: 'no page "' + r.name + '" in the console' }));
    return;
  }
  Promise.resolve()
    .then(() => page.render(root, r, ctx))
    .catch((e) => {
      console.error(e);
      root.appendChild(errorBox(e, 'The page failed'));
    });
}

async function boot() {
  onUnauthorized(signOut);
  $('logout').addEventListener('click', () => signOut('Signed out.'));
  events.onStatus((state, text) => {
    const live = $('live');
    live.className = 'live ' + state;
    $('live-text').textContent = state === 'on' ? 'live updates' : text;
  });
  window.addEventListener('hashchange', route);
  if (!getToken()) {
    showLogin();
    return;
  }
  try {
    signedInAs(await api('whoami'));
  } catch (e) {
    if (e.status !== 401) showLogin('Could not check the saved token: ' + e.code + ': ' + e.message);
  }
}

boot();

// pages/agent.js — one agent: its inventory (GET /api/v1/agents/{eid},
// show_agent), tags (add and remove, operator), the actions, diagnostics
// and data-model cards (agent-actions.js, agent-diag.js, agent-tree.js),
// its recent notifications and tasks. The event stream's task and
// notification events for this agent refresh the two lists.

import { api, can, seg } from '../api.js';
import * as events from '../events.js';
import { link } from '../router.js';
import { badge, card, chip, errorBox, fill, gatedButton, h, kvTable, loading, onlineDot, rawJson, table, time } from '../ui.js';
import { responseView } from '../results.js';
import { actionsCard } from './agent-actions.js';
import { diagCard } from './agent-diag.js';
import { treeCard } from './agent-tree.js';

const INVENTORY = [
  ['Manufacturer', 'manufacturer'], ['Model', 'model_name'], ['Software version', 'software_version'],
  ['Hardware version', 'hardware_version'], ['Serial number', 'serial_number'], ['Product class', 'product_class'],
  ['OUI', 'oui'], ['MQTT version', 'mqtt_version'], ['Reply topic', 'reply_topic'],
];
const TIMES = [['Online since', 'online_since'], ['Last seen', 'last_seen'], ['First seen', 'first_seen'], ['Onboarded', 'onboarded_at']];

export async function render(root, route, ctx) {
  const eid = route.arg;
  ctx.setTitle('Agent ' + eid);
  const head = h('div', { class: 'agent-head' }, h('span', { class: 'eid', dataset: { test: 'agent-eid' } }, eid));
  const inv = h('div', null, loading());
  const tagsEl = h('div');
  const notes = h('div', { class: 'feed' }, loading());
  const tasksEl = h('div', { class: 'feed' }, loading());
  const arrived = h('div', { dataset: { test: 'task-arrived' } });
  const tree = treeCard(eid);
  const reloadTasks = () => loadTasks(eid, tasksEl);
  const actions = actionsCard(eid, reloadTasks);
  const diag = diagCard(eid, ctx);

  root.append(head, h('div', { class: 'grid two' },
    card('Inventory', { dataset: { test: 'inventory' } }, inv, tagsEl),
    h('div', { class: 'stack' }, actions.el, diag.el),
    tree.el,
    card('Recent notifications', null, notes),
    card('Recent tasks', { actions: h('a', { href: link('tasks', '', { agent: eid }), class: 'small' }, 'all tasks →') }, arrived, tasksEl)));

  // A task of this agent ended: the list again, and its answer (the fleet
  // stream's task events are brief: the task is read whole).
  ctx.cleanup(events.focus(eid)); // this agent's events, whole
  ctx.cleanup(events.on('task', (t) => {
    if (t && t.eid === eid) {
      reloadTasks();
      showArrived(arrived, t);
    }
  }));
  ctx.cleanup(events.on('notification', (n) => { if (n && n.eid === eid) loadNotes(eid, notes); }));
  ctx.cleanup(events.on('lagged', () => { reloadTasks(); loadNotes(eid, notes); }));

  let a;
  try {
    a = await api('agents/' + seg(eid));
  } catch (e) {
    fill(inv, errorBox(e, 'Agent'));
    fill(tasksEl);
    fill(notes);
    fill(tree.el);
    return;
  }
  showHead(head, a);
  showInventory(inv, a);
  showTags(tagsEl, eid, a.tags || []);
  await Promise.all([tree.reload(), loadNotes(eid, notes), reloadTasks()]);
}

// The answer of a task that just ended, above the list.
async function showArrived(el, brief) {
  let t = brief;
  if (brief.brief || brief.result === undefined) {
    try {
      t = await api('tasks/' + encodeURIComponent(brief.id));
    } catch (e) {
      fill(el, errorBox(e, 'Task #' + brief.id));
      return;
    }
  }
  fill(el, h('div', { class: 'alert info flash' },
    h('b', null, 'Task #' + t.id + ' (' + t.op + ') ended: '), badge(t.state), ' ', time(t.finished_at),
    t.error_message ? h('div', null, t.error_message) : null,
    h('div', { style: 'max-height:260px;overflow:auto' }, responseView(t.result)), h('button', { type: 'button', class: 'btn small', style: 'margin-top:6px', onclick: () => fill(el) }, 'Dismiss')));
}

function showHead(head, a) {
  fill(head, h('span', { class: 'eid', dataset: { test: 'agent-eid' } }, onlineDot(a.online), a.eid),
    badge(a.online ? 'online' : 'offline', a.online ? 'ok' : 'off'),
    a.onboarded_at ? null : badge('not onboarded', 'warn'),
    h('span', { class: 'muted' }, [a.model_name, a.software_version].filter(Boolean).join(' · ')));
}

function showInventory(el, a) {
  const tasks = a.tasks && typeof a.tasks === 'object'
    ? Object.entries(a.tasks).map(([s, n]) => h('span', { style: 'margin-right:6px' }, badge(s + ' ' + n))) : null;
  const subs = Array.isArray(a.subscriptions) ? a.subscriptions : [];
  fill(el, kvTable([
    ...INVENTORY.map(([label, k]) => [label, a[k] === undefined || a[k] === null ? null : String(a[k])]),
    ...TIMES.map(([label, k]) => [label, a[k] ? time(a[k]) : null]),
    ['Tasks', tasks && tasks.length ? tasks : null],
    ['Subscriptions', subs.length ? h('div', { class: 'small' }, subs.map((x) => h('div', { title: x.instance_path || '' },
      h('span', { class: 'badge ' + (x.enabled === false ? 'off' : 'info') }, x.notif_type || '?'), ' ',
      h('span', { class: 'mono' }, String(x.reference_list || x.sub_id || ''))))) : null],
  ]), rawJson(a, 'Everything the inventory holds'));
}

function showTags(el, eid, tags) {
  const mayEdit = can('operator');
  const input = h('input', { placeholder: 'new tag', spellcheck: 'false', style: 'width:150px', 'aria-label': 'new tag', disabled: !mayEdit });
  const msg = h('div');
  const set = (t) => showTags(el, eid, t);
  const add = gatedButton('operator', 'Add tag', { class: 'btn small' }, async () => {
    const t = input.value.trim();
    if (!t) return;
    try {
      const r = await api('agents/' + seg(eid) + '/tags', { method: 'POST', body: { tags: [t] } });
      set(r.tags || []);
    } catch (e) {
      fill(msg, errorBox(e, 'Tag'));
    }
  });
  input.addEventListener('keydown', (ev) => { if (ev.key === 'Enter') add.click(); });
  const remove = (t) => async () => {
    try {
      const r = await api('agents/' + seg(eid) + '/tags/' + seg(t), { method: 'DELETE' });
      set(r.tags || []);
    } catch (e) {
      fill(msg, errorBox(e, 'Untag'));
    }
  };
  fill(el, h('h3', null, 'Tags'),
    h('div', { class: 'row', dataset: { test: 'tags' } },
      tags.length ? tags.map((t) => chip(t, remove(t), !mayEdit)) : h('span', { class: 'muted' }, 'no tag'),
      h('span', { class: 'grow' }), input, add),
    msg);
}

function noteSummary(n) {
  const p = n.payload || n.notification || null;
  if (p && p.value_change) return p.value_change.param_path + ' = ' + p.value_change.param_value;
  if (p && p.oper_complete) {
    const o = p.oper_complete;
    return (o.obj_path || '') + (o.command_name || '') + ' ' +
      (o.cmd_failure ? 'failed: ' + (o.cmd_failure.err_code || '') + ' ' + (o.cmd_failure.err_msg || '') : 'complete');
  }
  if (p && p.event) return (p.event.obj_path || '') + (p.event.event_name || '');
  return n.path || '';
}

async function loadNotes(eid, el) {
  try {
    const page = await api('agents/' + seg(eid) + '/notifications', { query: { limit: 50 } });
    fill(el, table([
      { label: 'When', cell: (n) => time(n.received_at || n.stored_at || n.at) },
      { label: 'Kind', cell: (n) => badge(n.kind || '?', 'info') },
      { label: 'What', cell: (n) => h('span', { class: 'mono small' }, noteSummary(n)) },
    ], page.items || [], { empty: 'No notification stored.', testid: 'notifications', onRow: (n, tr) => toggleRaw(tr, n, 3) }));
  } catch (e) {
    fill(el, errorBox(e, 'Notifications'));
  }
}

// Click a row: show its JSON in a row below it (click again: hide).
function toggleRaw(tr, obj, cols) {
  const next = tr.nextElementSibling;
  if (next && next.classList.contains('raw-row')) {
    next.remove();
    return;
  }
  tr.after(h('tr', { class: 'raw-row' }, h('td', { colspan: String(cols) }, h('pre', { class: 'json' }, JSON.stringify(obj, null, 2)))));
}

async function loadTasks(eid, el) {
  try {
    const page = await api('agents/' + seg(eid) + '/tasks', { query: { limit: 20 } });
    fill(el, table([
      { label: 'Task', cell: (t) => h('a', { href: link('tasks', '', { agent: eid, task: t.id }) }, '#' + t.id) },
      { label: 'Op', cell: (t) => t.op },
      { label: 'State', cell: (t) => badge(t.parked && t.state === 'queued' ? 'parked' : t.state) },
      { label: 'Created', cell: (t) => time(t.created_at) },
      { label: 'Error', cell: (t) => h('span', { class: 'small' }, t.error_message || '') },
    ], page.items || [], { empty: 'No task for this agent.', testid: 'agent-tasks' }));
  } catch (e) {
    fill(el, errorBox(e, 'Tasks'));
  }
}

// pages/tasks.js — the task list: GET /api/v1/tasks with filters (state,
// op, agent) and keyset pages (before), newest first; a click shows the
// task (GET /api/v1/tasks/{id}: times, request and result JSON) with
// Cancel for a queued one (operator). Ended tasks from the event stream
// refresh the first page.

import { api } from '../api.js';
import * as events from '../events.js';
import { go, link } from '../router.js';
import { responseView } from '../results.js';
import { badge, busy, card, confirmDialog, errorBox, fill, gatedButton, h, jsonBlock, kvTable, loading, table, time, toast } from '../ui.js';

const STATES = ['', 'queued', 'sent', 'done', 'failed', 'expired', 'canceled', 'unknown'];
const OPS = ['', 'get', 'set', 'add', 'delete', 'operate', 'get_instances', 'get_supported_dm', 'get_supported_protocol', 'subscribe', 'unsubscribe'];
const PAGE = 50;
const trail = { key: '', befores: [] };

export async function render(root, route, ctx) {
  ctx.setTitle('Tasks');
  const q = route.query;
  const filters = { state: q.get('state') || '', op: q.get('op') || '', agent: q.get('agent') || '', batch: q.get('batch') || '' };
  const before = q.get('before') || '';
  const selected = q.get('task') || '';
  const key = JSON.stringify(filters);
  if (trail.key !== key || !before) {
    trail.key = key;
    trail.befores = [];
  }
  const nav = (extra) => go('tasks', '', { ...filters, ...extra });

  const state = h('select', { name: 'state' }, STATES.map((s) => h('option', { value: s }, s || 'any')));
  state.value = filters.state;
  const op = h('select', { name: 'op' }, OPS.map((s) => h('option', { value: s }, s || 'any')));
  op.value = filters.op;
  const agent = h('input', { name: 'agent', value: filters.agent, placeholder: 'Endpoint ID', spellcheck: 'false' });
  const form = h('form', { class: 'filters' },
    h('label', { class: 'field' }, h('span', null, 'State'), state),
    h('label', { class: 'field' }, h('span', null, 'Op'), op),
    h('label', { class: 'field wide' }, h('span', null, 'Agent'), agent),
    h('button', { type: 'submit', class: 'btn primary' }, 'Filter'),
    filters.batch ? h('span', { class: 'chip' }, 'batch ' + filters.batch) : null);
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    go('tasks', '', { state: state.value, op: op.value, agent: agent.value.trim() });
  });

  const list = h('div', null, loading());
  const pager = h('div', { class: 'pager' });
  const detail = h('div', { dataset: { test: 'task-detail' } });
  root.append(h('div', { class: 'stack' }, card('Filter', null, form),
    h('div', { class: 'grid two' }, card('Tasks, newest first', null, list, pager), detail)));

  async function load() {
    let page;
    try {
      page = await api('tasks', { query: { ...filters, limit: PAGE, before } });
    } catch (e) {
      fill(list, errorBox(e, 'Task list'));
      return;
    }
    const items = page.items || [];
    fill(list, table([
      { label: 'Task', cell: (t) => '#' + t.id },
      { label: 'Agent', cell: (t) => h('a', { href: link('agent', t.eid), class: 'mono small' }, t.eid) },
      { label: 'Op', cell: (t) => t.op },
      { label: 'State', cell: (t) => badge(t.parked && t.state === 'queued' ? 'parked' : t.state) },
      { label: 'Created', cell: (t) => time(t.created_at) },
    ], items, {
      empty: 'No task matches.',
      testid: 'tasks',
      rowClass: (t) => (String(t.id) === selected ? 'selected' : ''),
      onRow: (t) => nav({ before, task: t.id }),
    }));
    fill(pager,
      before ? h('button', { type: 'button', class: 'btn small', onclick: () => nav({ before: trail.befores.pop() || '' }) },
        trail.befores.length ? '← Newer' : '← Newest') : null,
      page.next ? h('button', { type: 'button', class: 'btn small', onclick: () => {
        trail.befores.push(before);
        nav({ before: page.next });
      } }, 'Older →') : null);
  }

  if (!before) {
    let timer = null;
    ctx.cleanup(events.on('task', () => {
      clearTimeout(timer);
      timer = setTimeout(load, 1000);
    }));
    ctx.cleanup(() => clearTimeout(timer));
  }
  await Promise.all([load(), selected ? showTask(detail, selected, load) : fill(detail, card('Task', null,
    h('p', { class: 'muted' }, 'Click a task to see its request and result.')))]);
}

async function showTask(el, id, reloadList) {
  fill(el, card('Task #' + id, null, loading()));
  let t;
  try {
    t = await api('tasks/' + encodeURIComponent(id));
  } catch (e) {
    fill(el, card('Task #' + id, null, errorBox(e, 'Task')));
    return;
  }
  const cancel = t.state === 'queued' ? gatedButton('operator', 'Cancel task', { class: 'btn danger small', dataset: { test: 'cancel' } }, async () => {
    const ok = await confirmDialog({ title: 'Cancel task #' + t.id + '?', body: h('p', null, 'It has not been sent yet; it will never be.'), confirm: 'Cancel task', danger: true });
    if (!ok) return;
    await busy(cancel, async () => {
      try {
        await api('tasks/' + encodeURIComponent(t.id) + '/cancel', { method: 'POST' });
        toast('Task #' + t.id + ' canceled');
      } catch (e) {
        toast(e.code + ': ' + e.message, true);
      }
    });
    reloadList();
    showTask(el, id, reloadList);
  }) : null;
  fill(el, card('Task #' + t.id, { actions: cancel },
    kvTable([
      ['Agent', h('a', { href: link('agent', t.eid), class: 'mono' }, t.eid)],
      ['Op', t.op],
      ['State', badge(t.parked && t.state === 'queued' ? 'parked' : t.state)],
      ['Attempts', t.attempts === undefined ? null : String(t.attempts)],
      ['Batch', t.batch_id ? h('a', { href: link('tasks', '', { batch: t.batch_id }), class: 'mono small' }, t.batch_id) : null],
      ['Created', t.created_at ? time(t.created_at) : null],
      ['Sent', t.sent_at ? time(t.sent_at) : null],
      ['Finished', t.finished_at ? time(t.finished_at) : null],
      ['Expires', t.expires_at ? time(t.expires_at) : null],
      ['Daemon', t.claimed_by || null],
      ['Error', t.error_message ? h('span', { class: 'badge bad' }, (t.error_code ? t.error_code + ': ' : '') + t.error_message) : null],
    ]),
    h('h3', null, 'Request'), jsonBlock(t.request || {}),
    t.result ? [h('h3', null, 'Result'), responseView(t.result), jsonBlock(t.result)] : null));
}

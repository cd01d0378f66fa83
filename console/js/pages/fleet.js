// pages/fleet.js — the home page: GET /api/v1/fleet (fleet_summary) as
// counts (online, ready, offline, tasks waiting, rejections in the last
// hour), versions per model, recent onboardings, and the selector filter
// that leads to the agent list. Refreshed by the event stream (debounced)
// and every 30 s.

import { api } from '../api.js';
import * as events from '../events.js';
import { go, link } from '../router.js';
import { selectorForm } from '../selector.js';
import { card, errorBox, fill, fmtNum, h, loading, onlineDot, segBar, table, time } from '../ui.js';

export async function render(root, route, ctx) {
  ctx.setTitle('Fleet');
  const stats = h('div', { class: 'grid stats' }, loading());
  const updated = h('span', { class: 'updated', dataset: { test: 'fleet-updated' } });
  const problems = h('div');
  const versions = h('div', null, loading());
  const recent = h('div', null, loading());
  root.append(
    h('div', { class: 'stack' },
      problems,
      stats,
      card('Find agents', null,
        h('p', { class: 'muted small' }, 'A selector over the inventory; all keys must match. The Endpoint ID takes a glob (* and ?).'),
        selectorForm({}, (sel) => go('agents', '', sel), { submitLabel: 'Show agents' })),
      h('div', { class: 'grid two' },
        card('Versions per model', { actions: updated }, versions),
        card('Recent onboardings', null, recent))));

  let timer = null;
  let last = 0;
  async function load() {
    last = Date.now();
    try {
      const f = await api('fleet');
      fill(problems);
      showStats(stats, f);
      fill(versions, versionsTable(f.models || []));
      fill(recent, recentTable(f.recent_onboardings || []));
      updated.textContent = 'updated ' + new Date().toLocaleTimeString();
    } catch (e) {
      fill(problems, errorBox(e, 'Fleet summary'));
    }
  }
  // Events: at most one reload every 3 s.
  const soon = () => {
    if (timer) return;
    timer = setTimeout(() => { timer = null; load(); }, Math.max(0, 3000 - (Date.now() - last)));
  };
  // Campaign and notification events (not every task result: a fleet-wide
  // fan-out would send each open console 10,000 of them); the counts of
  // tasks waiting come with the 30 s refresh.
  ctx.cleanup(events.on('campaign', soon));
  ctx.cleanup(events.on('notification', soon));
  const every = setInterval(load, 30000);
  ctx.cleanup(() => { clearInterval(every); clearTimeout(timer); });
  await load();
}

function stat(label, value, kind, sub, href, test) {
  const inner = [h('div', { class: 'label' }, label),
    h('div', { class: 'value', dataset: test ? { test } : undefined }, fmtNum(value)),
    sub ? h('div', { class: 'sub' }, sub) : null];
  return href ? h('a', { class: 'stat ' + kind, href }, inner) : h('div', { class: 'stat ' + kind }, inner);
}

function showStats(el, f) {
  const a = f.agents || {};
  const t = f.tasks || {};
  const r = f.rejections || {};
  const waiting = (t.queued || 0) + (t.parked || 0);
  fill(el,
    stat('Online', a.online, 'ok', 'of ' + fmtNum(a.total) + ' agents', link('agents', '', { online: 'true' }), 'online-count'),
    stat('Ready', a.ready, 'info', 'online and onboarded', null, 'ready-count'),
    stat('Offline', a.offline, 'off', 'not connected now', link('agents', '', { online: 'false' }), 'offline-count'),
    stat('Tasks waiting', waiting, waiting ? 'warn' : 'info',
      fmtNum(t.queued) + ' queued (' + fmtNum(t.parked) + ' parked), ' + fmtNum(t.sent) + ' sent', link('tasks', '', { state: 'queued' }), 'tasks-waiting'),
    stat('Rejected senders', r.senders_last_hour, r.senders_last_hour ? 'bad' : 'off',
      'in the last hour (' + fmtNum(r.rows) + ' rows kept)', link('rejections', '', { since: '3600' }), 'rejected-senders'));
}

function versionsTable(models) {
  const max = models.reduce((m, v) => Math.max(m, v.agents || 0), 0);
  return table([
    { label: 'Model', cell: (v) => v.model || '(none reported)' },
    { label: 'Version', cell: (v) => h('span', { class: 'mono' }, v.software_version || '(none)') },
    { label: 'Agents', class: 'num', cell: (v) => fmtNum(v.agents) },
    { label: 'Online', class: 'num', cell: (v) => fmtNum(v.online) },
    { label: '', cell: (v) => h('div', { style: 'width:' + Math.max(8, (100 * (v.agents || 0)) / (max || 1)).toFixed(1) + '%' },
      segBar([{ n: v.online, cls: 'seg-ok', label: 'online' }, { n: (v.agents || 0) - (v.online || 0), cls: 'seg-off', label: 'offline' }])),
    class: 'grow' },
  ], models, {
    empty: 'No agent has onboarded yet.',
    testid: 'versions',
    onRow: (v) => go('agents', '', { model: v.model, software_version: v.software_version }),
  });
}

function recentTable(rows) {
  return table([
    { label: 'Agent', cell: (r) => h('a', { href: link('agent', r.eid), class: 'mono' }, r.online === undefined ? null : onlineDot(r.online), r.eid) },
    { label: 'Model', cell: (r) => r.model_name || '—' },
    { label: 'Version', cell: (r) => r.software_version || '—' },
    { label: 'Onboarded', cell: (r) => time(r.onboarded_at) },
  ], rows, { empty: 'No onboarding yet.', testid: 'recent' });
}

// pages/campaign.js — one campaign (GET /api/v1/campaigns/{id},
// campaign_status): state and reason, a progress bar of device counts, per
// wave, failures and top faults, thresholds, window, recent events; pause,
// resume, abort and retry failed for operators (POST .../{action}).
// Refreshed by the stream's campaign events and every 5 s while it runs.

import { api, seg } from '../api.js';
import * as events from '../events.js';
import { link } from '../router.js';
import { badge, busy, card, confirmDialog, duration, errorBox, fill, fmtNum, gatedButton, h, kvTable, legend, loading, rawJson, segBar, table, time, toast } from '../ui.js';
import { campaignSegments } from './campaigns.js';

const ACTIONS = [
  { action: 'pause', label: 'Pause', when: ['running', 'waiting_window'] },
  { action: 'resume', label: 'Resume', when: ['paused'] },
  { action: 'abort', label: 'Abort…', when: ['running', 'waiting_window', 'paused'], danger: true,
    confirm: 'Abort the campaign? Every pending device is canceled and devices in flight that have not activated are stopped. This cannot be undone.' },
  { action: 'retry_failed', label: 'Retry failed', when: ['running', 'waiting_window', 'paused', 'finished'] },
];

export async function render(root, route, ctx) {
  const id = route.arg;
  ctx.setTitle('Campaign ' + id);
  const body = h('div', null, loading());
  root.append(body);
  let st = null;
  async function load() {
    try {
      st = await api('campaigns/' + seg(id));
    } catch (e) {
      fill(body, errorBox(e, 'Campaign'));
      return;
    }
    ctx.setTitle('Campaign ' + (st.name || id));
    fill(body, view(st, load));
  }
  let timer = null;
  ctx.cleanup(events.on('campaign', (c) => {
    if (!c || String(c.campaign) === String(id) || c.name === id) {
      clearTimeout(timer);
      timer = setTimeout(load, 300);
    }
  }));
  const every = setInterval(() => { if (st && !st.settled) load(); }, 5000);
  ctx.cleanup(() => { clearTimeout(timer); clearInterval(every); });
  await load();
}

function view(st, reload) {
  const segs = campaignSegments(st.counts);
  const buttons = ACTIONS.map((a) => {
    const b = gatedButton('operator', a.label, { class: 'btn small' + (a.danger ? ' danger' : ''), dataset: { test: 'campaign-' + a.action },
      disabled: !a.when.includes(st.state) }, async () => {
      if (a.confirm && !(await confirmDialog({ title: a.label.replace('…', '') + ' ' + st.name + '?', body: h('p', null, a.confirm), confirm: a.label.replace('…', ''), danger: true }))) return;
      await busy(b, async () => {
        try {
          const r = await api('campaigns/' + seg(st.campaign) + '/' + a.action, { method: 'POST' });
          toast(st.name + ': ' + (r.before || '') + ' → ' + (r.state || '') + (r.changed === false ? ' (no change)' : ''));
        } catch (e) {
          toast(e.code + ': ' + e.message, true);
        }
      });
      reload();
    });
    return b;
  });
  const c = st.counts || {};
  return h('div', { class: 'stack' },
    card(st.name || 'Campaign', { actions: h('div', { class: 'row' }, buttons) },
      h('div', { class: 'row' }, badge(st.state), h('span', { class: 'muted' }, st.reason || ''),
        h('span', { class: 'grow' }), h('span', { class: 'muted' }, 'wave ' + (st.wave || '—') + ' of ' + (st.waves || '—'))),
      h('div', { style: 'margin-top:14px' }, segBar(segs, st.targets, true)),
      legend(segs),
      h('div', { class: 'grid stats', style: 'margin-top:14px' },
        stat('Targets', st.targets), stat('Succeeded', c.succeeded, 'ok'), stat('Failed', (c.failed || 0) + (c.timed_out || 0), 'bad'),
        stat('In progress', c.in_progress, 'info'), stat('Pending', c.pending),
        stat('ETA', null, '', st.eta_s === null || st.eta_s === undefined ? '—' : duration(st.eta_s)))),
    h('div', { class: 'grid two' },
      card('Waves', null, table([
        { label: 'Wave', cell: (w) => String(w.wave) },
        { label: 'Progress', class: 'grow', cell: (w) => segBar(campaignSegments(w.counts)) },
        { label: 'Succeeded', class: 'num', cell: (w) => fmtNum((w.counts || {}).succeeded) },
        { label: 'Failed', class: 'num', cell: (w) => fmtNum(((w.counts || {}).failed || 0) + ((w.counts || {}).timed_out || 0)) },
      ], st.per_wave || [], { empty: 'No wave.' })),
      card('Failures', null,
        table([{ label: 'Reason', cell: (r) => badge(r[0], 'bad') }, { label: 'Devices', class: 'num', cell: (r) => fmtNum(r[1]) }],
          Object.entries(st.failures || {}), { empty: 'No failure.' }),
        (st.top_faults || []).length ? [h('h3', null, 'Top faults'), table([
          { label: 'Detail', cell: (f) => f.detail }, { label: 'Count', class: 'num', cell: (f) => fmtNum(f.count) }], st.top_faults)] : null,
        h('p', { class: 'small' }, h('a', { href: link('campaigns') }, '← all campaigns'))),
      card('Details', null, kvTable([
        ['Id', String(st.campaign)], ['Created', time(st.created_at)], ['Finished', st.finished_at ? time(st.finished_at) : null],
        ['Seed', st.seed === undefined ? null : String(st.seed)],
        ['Rate', st.rate ? st.rate.starts_per_min + ' starts/min, ' + st.rate.successes_per_min + ' successes/min' : null],
        ['Image failures', st.thresholds && st.thresholds.image ? threshold(st.thresholds.image) : null],
        ['Infrastructure failures', st.thresholds && st.thresholds.infra ? threshold(st.thresholds.infra) : null],
        ['Window', st.window ? st.window.timezone + ': ' + (st.window.open ? 'open, ' + duration(st.window.left_s) + ' left' : 'closed, opens in ' + duration(st.window.opens_in_s)) : 'none'],
        ['Firmware', st.spec && st.spec.firmware ? (st.spec.firmware.version || '') + ' ' + (st.spec.firmware.url || '') : null],
      ]), rawJson(st, 'Full status')),
      card('Recent events', null, table([
        { label: 'When', cell: (e) => time(e.at) },
        { label: 'Kind', cell: (e) => badge(e.kind, 'info') },
        { label: 'By', cell: (e) => h('span', { class: 'small' }, e.actor || '') },
        { label: 'Message', cell: (e) => e.message || '' },
      ], (st.recent_events || []).slice().reverse(), { empty: 'No event.' }))));
}

function stat(label, value, kind, text) {
  return h('div', { class: 'stat ' + (kind || '') }, h('div', { class: 'label' }, label), h('div', { class: 'value' }, text || fmtNum(value)));
}

function threshold(t) {
  return t.failed + ' of ' + t.finished + ' (' + t.percent + ' %, limit ' + t.limit + ' % after ' + t.min_sample + ')' +
    (t.consecutive_limit ? '; ' + t.consecutive + ' in a row of ' + t.consecutive_limit : '');
}

// pages/rejections.js — "Why is my agent not showing?": the records the
// daemons rejected (GET /api/v1/rejections), one row per sender and
// reason, searched by sender glob, reason and age, each with a
// plain-language explanation (reasons.js); a glossary of every reason below.

import { api } from '../api.js';
import { go } from '../router.js';
import { REASONS, explain } from '../reasons.js';
import { badge, card, errorBox, fill, fmtNum, h, loading, table, time } from '../ui.js';

const SINCE = [['', 'any time'], ['3600', 'last hour'], ['86400', 'last day'], ['604800', 'last week']];

export async function render(root, route, ctx) {
  ctx.setTitle('Why is my agent not showing?');
  const q = route.query;
  const cur = { sender: q.get('sender') || '', reason: q.get('reason') || '', since: q.get('since') || '' };

  const sender = h('input', { name: 'sender', value: cur.sender, placeholder: 'os::00D09E-* (a glob)', spellcheck: 'false', dataset: { test: 'rej-sender' } });
  const reason = h('select', { name: 'reason' }, h('option', { value: '' }, 'any'), Object.keys(REASONS).sort().map((r) => h('option', { value: r }, r)));
  reason.value = cur.reason;
  const since = h('select', { name: 'since' }, SINCE.map(([v, l]) => h('option', { value: v }, l)));
  since.value = cur.since;
  const form = h('form', { class: 'filters' },
    h('label', { class: 'field wide' }, h('span', null, 'Sender (Endpoint ID or glob)'), sender),
    h('label', { class: 'field' }, h('span', null, 'Reason'), reason),
    h('label', { class: 'field' }, h('span', null, 'Seen'), since),
    h('button', { type: 'submit', class: 'btn primary', dataset: { test: 'rej-search' } }, 'Search'));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    go('rejections', '', { sender: sender.value.trim(), reason: reason.value, since: since.value });
  });

  const list = h('div', null, loading());
  root.append(h('div', { class: 'stack' },
    card('Search the rejected records', null,
      h('p', { class: 'muted' }, 'An agent that connects but never appears in the inventory is usually refused by the daemons: every refused record is counted here, per sender and reason, with the topic and detail of the last one.'),
      form),
    card('Rejected senders', null, list),
    card('What the reasons mean', null, glossary())));

  let page;
  try {
    page = await api('rejections', { query: { sender: cur.sender, reason: cur.reason, since: cur.since, limit: 200 } });
  } catch (e) {
    fill(list, errorBox(e, 'Rejections'));
    return;
  }
  fill(list, table([
    { label: 'Sender', cell: (r) => h('span', { class: 'mono', dataset: { test: 'rej-sender-cell' } }, r.sender) },
    { label: 'Reason and what it means', cell: (r) => h('div', { style: 'max-width:520px' }, badge(r.reason, 'bad'),
      h('div', { class: 'small', style: 'margin-top:4px' }, explain(r.reason))) },
    { label: 'Count', class: 'num', cell: (r) => fmtNum(r.count) },
    { label: 'Last topic and detail', cell: (r) => h('div', { class: 'mono small', style: 'max-width:340px;word-break:break-all' },
      r.topic || '—', r.detail && r.detail !== r.topic ? h('div', { class: 'muted' }, r.detail) : null) },
    { label: 'Last', cell: (r) => time(r.last_at) },
    { label: 'First', cell: (r) => time(r.first_at) },
    { label: 'Daemon', cell: (r) => h('span', { class: 'small' }, r.node || '—') },
  ], page.items || [], {
    empty: 'No rejected record matches: if the agent is still missing, it may not reach the broker at all (check its MQTT settings and the broker log).',
    testid: 'rejections',
  }));
}

function glossary() {
  return h('div', { class: 'table-wrap' }, h('table', { class: 't kv' }, h('tbody', null,
    Object.entries(REASONS).map(([k, v]) => h('tr', null, h('td', { class: 'mono' }, k), h('td', null, v))))));
}

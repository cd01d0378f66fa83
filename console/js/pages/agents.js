// pages/agents.js — the agent list: GET /api/v1/agents with the selector
// in the hash query, keyset pages ("next" cursor passed back as after),
// online dot, model, version, tags, last seen; a row leads to the agent.

import { api } from '../api.js';
import { go, link } from '../router.js';
import { selectorForm, selectorFrom } from '../selector.js';
import { card, chip, errorBox, fill, h, loading, onlineDot, table, time } from '../ui.js';

const PAGE = 50;
// Cursors of the pages before this one, per filter, for "Previous".
const trail = { key: '', afters: [] };

export async function render(root, route, ctx) {
  ctx.setTitle('Agents');
  const sel = selectorFrom(route.query);
  const after = route.query.get('after') || '';
  const key = JSON.stringify(sel);
  if (trail.key !== key || !after) {
    trail.key = key;
    trail.afters = [];
  }
  const body = h('div', null, loading());
  const pager = h('div', { class: 'pager' });
  root.append(h('div', { class: 'stack' },
    card('Filter', null, selectorForm(sel, (s) => go('agents', '', s), { clear: true })),
    card(Object.keys(sel).length ? 'Agents matching the filter' : 'All agents', null, body, pager)));

  let page;
  try {
    page = await api('agents', { query: { ...sel, limit: PAGE, after } });
  } catch (e) {
    fill(body, errorBox(e, 'Agent list'));
    return;
  }
  const items = page.items || [];
  fill(body, table([
    { label: '', class: 'dotcol', cell: (a) => onlineDot(a.online) },
    { label: 'Endpoint ID', cell: (a) => h('a', { href: link('agent', a.eid), class: 'mono', dataset: { test: 'agent-link' } }, a.eid) },
    { label: 'Model', cell: (a) => a.model_name || '—' },
    { label: 'Version', cell: (a) => a.software_version || '—' },
    { label: 'Tags', cell: (a) => (a.tags && a.tags.length ? a.tags.map((t) => chip(t)) : h('span', { class: 'muted' }, '—')) },
    { label: 'Last seen', cell: (a) => time(a.last_seen) },
  ], items, {
    empty: Object.keys(sel).length ? 'No agent matches this filter.' : 'No agent in the inventory yet.',
    testid: 'agents',
    onRow: (a) => go('agent', a.eid),
  }));
  fill(pager,
    h('span', { class: 'muted small' }, items.length + ' shown' + (after ? ' (not the first page)' : '')),
    after ? h('button', { type: 'button', class: 'btn small', onclick: () => {
      const prev = trail.afters.pop();
      go('agents', '', { ...sel, after: prev || '' });
    } }, trail.afters.length ? '← Previous' : '← First page') : null,
    page.next ? h('button', { type: 'button', class: 'btn small', dataset: { test: 'next' }, onclick: () => {
      trail.afters.push(after);
      go('agents', '', { ...sel, after: page.next });
    } }, 'Next →') : null);
}

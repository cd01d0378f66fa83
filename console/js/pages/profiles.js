// pages/profiles.js — provisioning profiles: the list (GET
// /api/v1/profiles, profile_list rows) and one profile (GET
// /api/v1/profiles/{name}, profile_status: verdict counts, behind, the
// definition). Route "profiles" is the list, "profile/<name>" one profile.

import { api, seg } from '../api.js';
import { go, link } from '../router.js';
import { badge, card, errorBox, fill, fmtNum, h, jsonBlock, kvTable, legend, loading, segBar, table, time } from '../ui.js';

function segments(c) {
  const n = (k) => (c && c[k]) || 0;
  return [
    { n: n('compliant'), cls: 'seg-ok', label: 'compliant' },
    { n: n('drifted'), cls: 'seg-warn', label: 'drifted' },
    { n: n('failed'), cls: 'seg-bad', label: 'failed' },
    { n: n('contested'), cls: 'seg-warn', label: 'contested' },
    { n: n('pending'), cls: 'seg-info', label: 'pending' },
    { n: n('not_applicable'), cls: 'seg-off', label: 'not applicable' },
  ];
}

export async function render(root, route, ctx) {
  if (route.name === 'profile') return renderOne(root, route.arg, ctx);
  ctx.setTitle('Profiles');
  const list = h('div', null, loading());
  root.append(card('Provisioning profiles', null, list));
  let page;
  try {
    page = await api('profiles');
  } catch (e) {
    fill(list, errorBox(e, 'Profiles'));
    return;
  }
  fill(list, table([
    { label: 'Profile', cell: (p) => h('a', { href: link('profile', p.name) }, p.name) },
    { label: 'Version', class: 'num', cell: (p) => String(p.version) },
    { label: 'Priority', class: 'num', cell: (p) => String(p.priority) },
    { label: 'Mode', cell: (p) => (p.deleted ? badge('deleted') : badge(p.mode)) },
    { label: 'Agents', class: 'grow', cell: (p) => h('div', { style: 'min-width:200px' }, segBar(segments(p.counts), (p.counts || {}).targeted)) },
    { label: 'Compliant', class: 'num', cell: (p) => fmtNum((p.counts || {}).compliant) + ' / ' + fmtNum((p.counts || {}).targeted) },
    { label: 'Updated', cell: (p) => time(p.updated_at) },
  ], page.items || [], {
    empty: 'No profile yet (uspctl profile_put, or PUT /api/v1/profiles/{name} as admin).',
    testid: 'profiles',
    onRow: (p) => go('profile', p.name),
  }));
}

async function renderOne(root, name, ctx) {
  ctx.setTitle('Profile ' + name);
  const body = h('div', null, loading());
  root.append(body);
  let p;
  try {
    p = await api('profiles/' + seg(name));
  } catch (e) {
    fill(body, errorBox(e, 'Profile'));
    return;
  }
  const c = p.counts || {};
  const segs = segments(c);
  fill(body, h('div', { class: 'stack' },
    card(p.name, null,
      h('div', { class: 'row' }, p.deleted ? badge('deleted') : badge(p.mode), h('span', { class: 'muted' }, 'version ' + p.version + ', priority ' + p.priority),
        h('span', { class: 'grow' }), h('span', { class: 'muted' }, fmtNum(c.targeted) + ' agents targeted')),
      h('div', { style: 'margin-top:14px' }, segBar(segs, c.targeted, true)),
      legend(segs)),
    h('div', { class: 'grid two' },
      card('Details', null, kvTable([
        ['Agents behind', p.behind ? fmtNum(p.behind) + ' (still on an older version: the engine has not reached them yet)' : '0'],
        ['Created', time(p.created_at)], ['Created by', p.created_by || null],
        ['Selector', p.definition && p.definition.selector ? h('code', null, JSON.stringify(p.definition.selector)) : null],
        ['Triggers', p.definition && p.definition.triggers ? p.definition.triggers.join(', ') : null],
        ['Steps', p.definition && p.definition.steps ? String(p.definition.steps.length) : null],
      ]), h('p', { class: 'small' }, h('a', { href: link('profiles') }, '← all profiles'))),
      card('Definition', null, jsonBlock(p.definition || {})))));
}

// pages/campaigns.js — the campaign list (GET /api/v1/campaigns,
// campaign_list rows): state, progress bar, wave, targets; refreshed by the
// stream's campaign events. The shared progress segments live here too.

import { api } from '../api.js';
import * as events from '../events.js';
import { go, link } from '../router.js';
import { badge, card, errorBox, fill, fmtNum, h, loading, segBar, table, time } from '../ui.js';

// Device counts as bar segments (campaign_list and campaign_status counts).
export function campaignSegments(c) {
  const n = (k) => (c && c[k]) || 0;
  return [
    { n: n('succeeded'), cls: 'seg-ok', label: 'succeeded' },
    { n: n('failed') + n('timed_out'), cls: 'seg-bad', label: 'failed / timed out' },
    { n: n('in_progress'), cls: 'seg-info', label: 'in progress' },
    { n: n('pending'), cls: 'seg-idle', label: 'pending' },
    { n: n('skipped') + n('canceled'), cls: 'seg-off', label: 'skipped / canceled' },
  ];
}

export async function render(root, route, ctx) {
  ctx.setTitle('Campaigns');
  const list = h('div', null, loading());
  root.append(card('Firmware campaigns', null, list));
  async function load() {
    let page;
    try {
      page = await api('campaigns');
    } catch (e) {
      fill(list, errorBox(e, 'Campaigns'));
      return;
    }
    fill(list, table([
      { label: 'Campaign', cell: (c) => h('a', { href: link('campaign', c.campaign) }, c.name || '#' + c.campaign) },
      { label: 'State', cell: (c) => badge(c.state) },
      { label: 'Progress', class: 'grow', cell: (c) => h('div', { style: 'min-width:220px' }, segBar(campaignSegments(c.counts), c.targets)) },
      { label: 'Done', class: 'num', cell: (c) => fmtNum((c.counts || {}).succeeded) + ' / ' + fmtNum(c.targets) },
      { label: 'Wave', class: 'num', cell: (c) => (c.wave || '—') + ' / ' + (c.waves || '—') },
      { label: 'Created', cell: (c) => time(c.created_at) },
      { label: 'Reason', cell: (c) => h('span', { class: 'small muted' }, c.reason || '') },
    ], page.items || [], {
      empty: 'No campaign yet (create one with uspctl campaign_create or POST /api/v1/campaigns).',
      testid: 'campaigns',
      onRow: (c) => go('campaign', c.campaign),
    }));
  }
  let timer = null;
  ctx.cleanup(events.on('campaign', () => {
    clearTimeout(timer);
    timer = setTimeout(load, 500);
  }));
  ctx.cleanup(() => clearTimeout(timer));
  await load();
}

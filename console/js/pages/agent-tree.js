// pages/agent-tree.js — the agent's data model as the database last saw it
// (GET /api/v1/agents/{eid}/snapshot), as a collapsible tree by object
// path; objects open lazily (a large model stays fast). Refresh asks the
// agent (a Get of Device. through POST /api/v1/tasks, operator) and then
// reads the snapshot again; Re-read only reads the snapshot.

import { api, seg, submitTask } from '../api.js';
import { busy, card, errorBox, fill, gatedButton, h, loading, time, toast } from '../ui.js';

const MAX_MATCHES = 500;
const OPEN_DEPTH = 2; // Device. and its objects start open

function newNode(name, path) {
  return { name, path, objs: new Map(), params: [], count: 0 };
}

// Build the tree: "Device.WiFi.SSID.1.SSID" -> Device > WiFi > SSID > 1 > SSID.
export function buildTree(snapshot) {
  const root = newNode('', '');
  for (const full of Object.keys(snapshot).sort(naturalCompare)) {
    const parts = full.split('.');
    const leaf = parts.pop();
    let n = root;
    n.count++;
    let path = '';
    for (const p of parts) {
      path += p + '.';
      if (!n.objs.has(p)) n.objs.set(p, newNode(p, path));
      n = n.objs.get(p);
      n.count++;
    }
    n.params.push([leaf, snapshot[full], full]);
  }
  return root;
}

// Instance numbers sort as numbers: SSID.2 before SSID.10.
function naturalCompare(a, b) {
  return a.localeCompare(b, undefined, { numeric: true });
}

function paramRow(name, v) {
  const val = v && typeof v === 'object' ? v.value : v;
  return h('div', { class: 'param', dataset: { path: name } },
    h('span', { class: 'pname', title: name }, name),
    h('span', { class: 'pval' }, val === undefined || val === null ? '' : String(val)),
    h('span', { class: 'ptime' }, v && v.updated_at ? time(v.updated_at) : ''));
}

function objNode(node, depth) {
  const body = h('div');
  const d = h('details', { dataset: { path: node.path } },
    h('summary', null, node.name + '.', h('span', { class: 'count' }, String(node.count))), body);
  let rendered = false;
  const renderBody = () => {
    if (rendered) return;
    rendered = true;
    for (const [name, v] of node.params) body.appendChild(paramRow(name, v));
    for (const child of node.objs.values()) body.appendChild(objNode(child, depth + 1));
  };
  d.addEventListener('toggle', () => { if (d.open) renderBody(); });
  if (depth < OPEN_DEPTH) {
    d.open = true;
    renderBody();
  }
  return d;
}

function renderTree(el, snapshot, filter) {
  const keys = Object.keys(snapshot);
  if (!keys.length) {
    fill(el, h('div', { class: 'empty' }, 'No value stored for this agent yet: Refresh asks it for its data model.'));
    return;
  }
  const f = (filter || '').trim().toLowerCase();
  if (f) {
    const hits = keys.filter((k) => k.toLowerCase().includes(f) ||
      String(snapshot[k] && snapshot[k].value).toLowerCase().includes(f)).sort(naturalCompare);
    fill(el, hits.length ? null : h('div', { class: 'empty' }, 'Nothing matches “' + filter + '”.'),
      hits.slice(0, MAX_MATCHES).map((k) => paramRow(k, snapshot[k])),
      hits.length > MAX_MATCHES ? h('div', { class: 'muted small' }, (hits.length - MAX_MATCHES) + ' more: narrow the filter') : null);
    return;
  }
  const root = buildTree(snapshot);
  fill(el, [...root.objs.values()].map((n) => objNode(n, 0)),
    root.params.map(([name, v]) => paramRow(name, v)));
}

export function treeCard(eid) {
  const treeEl = h('div', { class: 'tree', dataset: { test: 'tree' } }, loading());
  const status = h('div');
  const filter = h('input', { type: 'search', placeholder: 'Filter paths or values', class: 'grow', 'aria-label': 'filter the data model' });
  let snapshot = {};

  async function reload() {
    try {
      snapshot = (await api('agents/' + seg(eid) + '/snapshot')) || {};
      fill(status);
      renderTree(treeEl, snapshot, filter.value);
    } catch (e) {
      fill(status, errorBox(e, 'Snapshot'));
      fill(treeEl);
    }
  }
  filter.addEventListener('input', () => renderTree(treeEl, snapshot, filter.value));

  const refresh = gatedButton('operator', 'Refresh', { class: 'btn primary small', dataset: { test: 'refresh' },
    title: 'Ask the agent for its whole data model (a Get of Device.), then show it' }, () => busy(refresh, async () => {
    refresh.textContent = 'Asking the agent…';
    fill(status, h('div', { class: 'alert info' }, 'Get of Device. sent; waiting up to 15 s for the agent…'));
    try {
      const line = await submitTask({ op: 'get', targets: eid, paths: ['Device.'], wait: 15 });
      if (!line.ok) fill(status, errorBox(line.error || {}, 'Refresh'));
      else fill(status);
    } catch (e) {
      fill(status, errorBox(e, 'Refresh'));
      return;
    }
    await reload();
    toast('Data model refreshed');
  }));
  const reread = h('button', { type: 'button', class: 'btn small', title: 'Read the stored snapshot again (the agent is not asked)',
    onclick: () => busy(reread, reload) }, 'Re-read');

  const el = card('Data model', { class: 'span-all', actions: h('div', { class: 'row' }, reread, refresh), dataset: { test: 'datamodel' } },
    h('div', { class: 'form-row' }, filter), status, treeEl);
  return { el, reload };
}

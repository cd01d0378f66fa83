// ui.js — shared widgets, all built with createElement/textContent (never
// innerHTML with data): h() the element builder, cards, tables, status dots
// and badges, segmented bars, error boxes, the confirmation dialog, toasts,
// JSON blocks, times, and the role gate for operator-only buttons.

import { can } from './api.js';

// h('a', {href, class, onclick, dataset, title}, child, ...): children may be
// strings, numbers, nodes, arrays, or null/undefined/false (skipped).
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k === 'style') el.style.cssText = v;
    else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'value') el.value = v;
    else if (v === true) el.setAttribute(k, '');
    else el.setAttribute(k, String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === undefined || c === null || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else if (c instanceof Node) el.appendChild(c);
    else el.appendChild(document.createTextNode(String(c)));
  }
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

// Replace el's children with the given ones.
export function fill(el, ...children) {
  clear(el);
  append(el, children);
  return el;
}

export function card(title, opts, ...children) {
  const o = opts || {};
  return h('section', { class: 'card' + (o.class ? ' ' + o.class : ''), dataset: o.dataset },
    title || o.actions ? h('div', { class: 'card-head' }, h('h2', null, title), o.actions || null) : null,
    children);
}

export function loading(text) {
  return h('div', { class: 'loading' }, text || 'Loading…');
}

// An error shown plainly: its code, HTTP status and message.
export function errorBox(err, prefix) {
  const code = err && err.code ? err.code : 'error';
  const status = err && err.status ? ' (HTTP ' + err.status + ')' : '';
  const msg = err && err.message ? err.message : String(err);
  return h('div', { class: 'alert', role: 'alert', dataset: { test: 'error' } },
    prefix ? prefix + ': ' : null, h('span', { class: 'code' }, code + status), msg);
}

export function empty(text) {
  return h('div', { class: 'empty' }, text);
}

// ---- times -------------------------------------------------------------

export function parseTime(iso) {
  if (!iso) return null;
  const t = Date.parse(iso);
  return Number.isNaN(t) ? null : new Date(t);
}

export function ago(iso) {
  const d = parseTime(iso);
  if (!d) return iso ? String(iso) : '—';
  const s = Math.round((Date.now() - d.getTime()) / 1000);
  if (s < -5) return 'in ' + span(-s);
  if (s < 5) return 'just now';
  return span(s) + ' ago';
}

function span(s) {
  if (s < 60) return s + ' s';
  if (s < 3600) return Math.round(s / 60) + ' min';
  if (s < 86400) return Math.round(s / 3600) + ' h';
  return Math.round(s / 86400) + ' d';
}

export function fullTime(iso) {
  const d = parseTime(iso);
  return d ? d.toLocaleString() : iso ? String(iso) : '—';
}

// A relative time, the exact one in its tooltip.
export function time(iso) {
  return h('span', { class: 'nowrap', title: iso ? fullTime(iso) + ' (' + iso + ')' : null }, ago(iso));
}

export function duration(s) {
  if (s === null || s === undefined) return '—';
  s = Math.round(s);
  if (s < 60) return s + ' s';
  const m = Math.floor(s / 60);
  if (m < 60) return m + 'm ' + (s % 60) + 's';
  return Math.floor(m / 60) + 'h ' + (m % 60) + 'm';
}

// ---- status ------------------------------------------------------------

export function onlineDot(online) {
  return h('span', { class: 'dot' + (online ? ' on' : ''), title: online ? 'online' : 'offline' });
}

const STATE_KIND = {
  online: 'ok', done: 'ok', succeeded: 'ok', complete: 'ok', compliant: 'ok', finished: 'ok', running: 'info',
  ok: 'ok', enforce: 'info',
  failed: 'bad', timed_out: 'bad', aborted: 'bad', unknown: 'bad', drifted: 'warn', contested: 'warn',
  queued: 'info', sent: 'info', pending: 'info', downloading: 'info', downloaded: 'info', activating: 'info',
  rebooting: 'info', verifying: 'info', requested: 'info', in_progress: 'info',
  paused: 'warn', waiting_window: 'warn', parked: 'warn', expired: 'warn',
  offline: 'off', canceled: 'off', skipped: 'off', not_applicable: 'off', audit: 'off', deleted: 'off',
};

export function stateKind(state) {
  return STATE_KIND[state] || 'off';
}

export function badge(text, kind) {
  return h('span', { class: 'badge ' + (kind || stateKind(text)) }, String(text === null || text === undefined ? '—' : text));
}

export function chip(text, onRemove, removeDisabled) {
  return h('span', { class: 'chip' }, text,
    onRemove ? h('button', { type: 'button', title: 'Remove tag ' + text, 'aria-label': 'remove ' + text,
      disabled: removeDisabled, onclick: onRemove }, '×') : null);
}

// segBar([{n, cls, label}], total, big): a bar of coloured segments with
// their counts in the tooltip.
export function segBar(segments, total, big) {
  const sum = total || segments.reduce((a, s) => a + (s.n || 0), 0);
  const title = segments.filter((s) => s.n).map((s) => s.label + ' ' + s.n).join(', ');
  return h('div', { class: 'bar' + (big ? ' big' : ''), title: title || 'nothing yet', role: 'img', 'aria-label': title },
    sum > 0 ? segments.filter((s) => s.n > 0).map((s) =>
      h('span', { class: s.cls, style: 'width:' + ((100 * s.n) / sum).toFixed(3) + '%' })) : null);
}

export function legend(segments) {
  return h('div', { class: 'legend' }, segments.map((s) =>
    h('span', null, h('i', { class: s.cls }), s.label + ' ', h('b', null, String(s.n || 0)))));
}

// ---- tables ------------------------------------------------------------

// table(columns, rows, {onRow, empty, rowClass, testid}): columns are
// {label, cell(row) -> node|string, class}.
export function table(columns, rows, opts) {
  const o = opts || {};
  if (!rows || !rows.length) return empty(o.empty || 'Nothing to show.');
  return h('div', { class: 'table-wrap' },
    h('table', { class: 't', dataset: o.testid ? { test: o.testid } : undefined },
      h('thead', null, h('tr', null, columns.map((c) => h('th', { class: c.class || null }, c.label)))),
      h('tbody', null, rows.map((r) => {
        const tr = h('tr', { class: (o.onRow ? 'click ' : '') + (o.rowClass ? o.rowClass(r) || '' : '') },
          columns.map((c) => h('td', { class: c.class || null }, c.cell(r))));
        if (o.onRow) tr.addEventListener('click', (ev) => {
          if (ev.target.closest('a, button, input')) return;
          o.onRow(r, tr);
        });
        return tr;
      }))));
}

// kvTable([[label, value], ...]) for an object's fields.
export function kvTable(pairs) {
  return h('table', { class: 't kv' }, h('tbody', null,
    pairs.filter((p) => p).map(([k, v]) => h('tr', null, h('td', null, k), h('td', null, v === undefined || v === null || v === '' ? '—' : v)))));
}

export function jsonBlock(obj) {
  return h('pre', { class: 'json' }, JSON.stringify(obj, null, 2));
}

export function rawJson(obj, label) {
  return h('details', { class: 'raw' }, h('summary', null, label || 'Raw JSON'), jsonBlock(obj));
}

// ---- buttons -----------------------------------------------------------

// A button the role must allow: disabled with a tooltip otherwise.
export function gatedButton(role, label, attrs, onClick) {
  const allowed = can(role);
  const b = h('button', { type: 'button', class: 'btn', ...attrs,
    disabled: !allowed || (attrs && attrs.disabled),
    title: allowed ? (attrs && attrs.title) || null : 'Needs the ' + role + ' role (you are signed in with a lower one)' },
  label);
  if (onClick) b.addEventListener('click', onClick);
  return b;
}

// busy(button, promiseFn): disable the button while the work runs.
export async function busy(button, fn) {
  const text = button.textContent;
  button.disabled = true;
  button.classList.add('busy');
  try {
    return await fn();
  } finally {
    button.disabled = false;
    button.classList.remove('busy');
    button.textContent = text;
  }
}

// ---- dialog and toasts ---------------------------------------------------

// confirmDialog({title, body, confirm, danger}) -> Promise<boolean>.
export function confirmDialog(o) {
  return new Promise((resolve) => {
    const ok = h('button', { type: 'button', class: 'btn ' + (o.danger ? 'danger solid' : 'primary'), dataset: { test: 'confirm-ok' } },
      o.confirm || 'Confirm');
    const cancel = h('button', { type: 'button', class: 'btn', dataset: { test: 'confirm-cancel' } }, 'Cancel');
    const dlg = h('dialog', { class: 'confirm', dataset: { test: 'confirm' } },
      h('div', { class: 'd-body' }, h('h2', null, o.title), o.body),
      h('div', { class: 'd-foot' }, cancel, ok));
    let answered = false;
    const done = (v) => {
      if (answered) return;
      answered = true;
      dlg.close();
      dlg.remove();
      resolve(v);
    };
    ok.addEventListener('click', () => done(true));
    cancel.addEventListener('click', () => done(false));
    dlg.addEventListener('cancel', (ev) => { ev.preventDefault(); done(false); });
    document.body.appendChild(dlg);
    dlg.showModal();
    cancel.focus();
  });
}

let toastBox = null;

export function toast(text, bad) {
  if (!toastBox) {
    toastBox = h('div', { class: 'toast-box', 'aria-live': 'polite' });
    document.body.appendChild(toastBox);
  }
  const t = h('div', { class: 'toast' + (bad ? ' bad' : '') }, text);
  toastBox.appendChild(t);
  setTimeout(() => t.remove(), bad ? 8000 : 4000);
}

// Route changes drop the toasts of the page left.
export function clearToasts() {
  if (toastBox) clear(toastBox);
}

export function fmtNum(n) {
  return n === undefined || n === null ? '—' : Number(n).toLocaleString();
}

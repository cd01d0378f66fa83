// selector.js — the agent selector filter (tag, model, manufacturer,
// software_version, online, eid glob) shared by the fleet and agents pages:
// the form, and reading a selector out of the hash query.

import { h } from './ui.js';

export const SELECTOR_KEYS = ['tag', 'model', 'manufacturer', 'software_version', 'online', 'eid'];

// The selector named in a URLSearchParams (only the selector keys).
export function selectorFrom(query) {
  const sel = {};
  for (const k of SELECTOR_KEYS) {
    const v = query.get(k);
    if (v !== null && v !== '') sel[k] = v;
  }
  return sel;
}

// selectorForm(initial, onSubmit(selector), {submitLabel}) -> a <form>.
export function selectorForm(initial, onSubmit, opts) {
  const o = opts || {};
  const sel = initial || {};
  const input = (key, label, placeholder, wide) =>
    h('label', { class: 'field' + (wide ? ' wide' : '') }, h('span', null, label),
      h('input', { name: key, value: sel[key] || '', placeholder, spellcheck: 'false', dataset: { test: 'sel-' + key } }));
  const online = h('select', { name: 'online', dataset: { test: 'sel-online' } },
    h('option', { value: '' }, 'any'),
    h('option', { value: 'true' }, 'online'),
    h('option', { value: 'false' }, 'offline'));
  online.value = sel.online || '';
  const form = h('form', { class: 'filters', dataset: { test: 'selector' } },
    input('eid', 'Endpoint ID (glob)', 'os::00D09E-*', true),
    input('tag', 'Tag', 'beta'),
    input('model', 'Model', 'SIM-GW-1000'),
    input('manufacturer', 'Manufacturer', ''),
    input('software_version', 'Software version', '1.0.0'),
    h('label', { class: 'field' }, h('span', null, 'Connection'), online),
    h('button', { type: 'submit', class: 'btn primary', dataset: { test: 'sel-submit' } }, o.submitLabel || 'Filter'),
    o.clear ? h('button', { type: 'reset', class: 'btn' }, 'Clear') : null);
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const out = {};
    for (const k of SELECTOR_KEYS) {
      const v = form.elements[k].value.trim();
      if (v) out[k] = v;
    }
    onSubmit(out);
  });
  form.addEventListener('reset', () => setTimeout(() => onSubmit({}), 0));
  return form;
}

// pages/agent-actions.js — the agent page's action card: Get (a path; the
// answer as a table), Set (path and value, after a confirmation) and Reboot
// (operate Device.Reboot(), after a confirmation). Each is one task through
// POST /api/v1/tasks with wait 15; Set and Reboot need the operator role.

import { can, submitTask } from '../api.js';
import { lineView } from '../results.js';
import { busy, card, confirmDialog, errorBox, fill, gatedButton, h } from '../ui.js';

export function actionsCard(eid, onDone) {
  const out = h('div', { dataset: { test: 'action-result' } });

  async function run(label, command) {
    fill(out, h('div', { class: 'loading' }, label + ': waiting up to 15 s for the agent…'));
    try {
      const line = await submitTask({ ...command, targets: eid, wait: 15 });
      fill(out, h('p', { class: 'result-title' }, label), lineView(line));
    } catch (e) {
      fill(out, errorBox(e, label));
    }
    if (onDone) onDone();
  }

  const getPath = h('input', { class: 'path', value: 'Device.DeviceInfo.', spellcheck: 'false', 'aria-label': 'path to get', dataset: { test: 'get-path' } });
  const getBtn = gatedButton('operator', 'Get', { class: 'btn primary', dataset: { test: 'get' } },
    () => busy(getBtn, () => run('Get ' + getPath.value.trim(), { op: 'get', paths: [getPath.value.trim()] })));
  getPath.addEventListener('keydown', (ev) => { if (ev.key === 'Enter' && !getBtn.disabled) getBtn.click(); });

  const setPath = h('input', { class: 'path', placeholder: 'Device.WiFi.SSID.1.SSID', spellcheck: 'false', 'aria-label': 'parameter to set', dataset: { test: 'set-path' } });
  const setValue = h('input', { placeholder: 'value', spellcheck: 'false', 'aria-label': 'value', dataset: { test: 'set-value' } });
  const setBtn = gatedButton('operator', 'Set', { class: 'btn', dataset: { test: 'set' } }, async () => {
    const path = setPath.value.trim();
    if (!path) {
      fill(out, errorBox({ code: 'bad_field', message: 'name the parameter to set (a full path such as Device.Time.NTPServer1)' }));
      return;
    }
    const ok = await confirmDialog({
      title: 'Set a parameter?',
      body: h('p', null, 'Set ', h('code', null, path), ' to ', h('code', null, '“' + setValue.value + '”'), ' on ', h('code', null, eid), '?'),
      confirm: 'Set',
    });
    if (ok) await busy(setBtn, () => run('Set ' + path, { op: 'set', params: { [path]: setValue.value } }));
  });

  const rebootBtn = gatedButton('operator', 'Reboot…', { class: 'btn danger', dataset: { test: 'reboot' } }, async () => {
    const ok = await confirmDialog({
      title: 'Reboot this agent?',
      body: h('p', null, h('code', null, eid), ' restarts (operate Device.Reboot()); it is offline until it is back.'),
      confirm: 'Reboot', danger: true,
    });
    if (ok) await busy(rebootBtn, () => run('Reboot', { op: 'operate', command: 'Device.Reboot()' }));
  });

  const el = card('Actions', { dataset: { test: 'actions' } },
    can('operator') ? null : h('p', { class: 'muted small' }, 'Signed in as a viewer: actions need the operator role.'),
    h('div', { class: 'form-row' }, getPath, getBtn),
    h('div', { class: 'form-row' }, setPath, setValue, setBtn),
    h('div', { class: 'form-row' }, h('span', { class: 'muted small grow' }, 'Each action is a task; its result also shows under Recent tasks.'), rebootBtn),
    out);
  return { el };
}

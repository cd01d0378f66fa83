// pages/agent-diag.js — the diagnostics panel: IPPing or TraceRoute as an
// asynchronous operate (command, args, a command_key of its own,
// wait_complete) and its OperationComplete result. The task waits up to
// 60 s for the completion; if it answers before the completion came, the
// panel polls GET .../operation-results for the command_key (and looks
// again at once when the event stream brings the agent's notification).

import { api, seg, submitTask } from '../api.js';
import * as events from '../events.js';
import { completionsView, lineView } from '../results.js';
import { busy, card, errorBox, fill, gatedButton, h, table } from '../ui.js';

const TESTS = {
  IPPing: { command: 'Device.IP.Diagnostics.IPPing()', reps: true },
  TraceRoute: { command: 'Device.IP.Diagnostics.TraceRoute()', reps: false },
};
const POLL_MS = 2000;
const POLL_FOR_MS = 120000;

function outputs(row) {
  const args = row.output || row.output_args || {};
  return table([
    { label: 'Output', cell: (r) => r[0] },
    { label: 'Value', cell: (r) => h('span', { class: 'mono' }, typeof r[1] === 'object' ? JSON.stringify(r[1]) : String(r[1])) },
  ], Object.entries(args), { empty: 'No output arguments.', testid: 'diag-outputs' });
}

export function diagCard(eid, ctx) {
  const kind = h('select', { 'aria-label': 'diagnostic', dataset: { test: 'diag-kind' } },
    Object.keys(TESTS).map((k) => h('option', { value: k }, k)));
  const host = h('input', { value: '192.0.2.1', placeholder: 'host', spellcheck: 'false', 'aria-label': 'host', dataset: { test: 'diag-host' } });
  const reps = h('input', { type: 'number', min: '1', max: '100', value: '3', style: 'width:80px', 'aria-label': 'repetitions', title: 'NumberOfRepetitions' });
  const repsField = h('label', { class: 'row small muted' }, 'repetitions', reps);
  kind.addEventListener('change', () => { repsField.hidden = !TESTS[kind.value].reps; });
  const out = h('div', { class: 'diag-out', dataset: { test: 'diag-result' } });
  let stopPoll = null;
  ctx.cleanup(() => stopPoll && stopPoll());

  // Poll operation-results until the command_key's row is final.
  function poll(key) {
    return new Promise((resolve) => {
      const until = Date.now() + POLL_FOR_MS;
      let timer = null;
      let done = false;
      const finish = (row) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        off();
        stopPoll = null;
        resolve(row);
      };
      const look = async () => {
        clearTimeout(timer);
        try {
          const page = await api('agents/' + seg(eid) + '/operation-results', { query: { command_key: key, limit: 10 } });
          const row = (page.items || []).find((r) => r.state === 'complete' || r.state === 'failed');
          if (row) return finish(row);
        } catch (e) {
          fill(out, errorBox(e, 'Operation results'));
        }
        if (Date.now() > until) return finish(null);
        timer = setTimeout(look, POLL_MS);
      };
      const off = events.on('notification', (n) => { if (n && n.eid === eid) look(); });
      stopPoll = () => finish(null);
      look();
    });
  }

  const run = gatedButton('operator', 'Run', { class: 'btn primary', dataset: { test: 'diag-run' } }, () => busy(run, async () => {
    const t = TESTS[kind.value];
    const key = 'console-' + kind.value.toLowerCase() + '-' + Date.now().toString(36);
    const args = { Host: host.value.trim() };
    if (t.reps) args.NumberOfRepetitions = Number(reps.value) || 1;
    const started = Date.now();
    fill(out, h('div', { class: 'loading' }, kind.value + ' ' + args.Host + ' running on the agent…'));
    let line;
    try {
      line = await submitTask({ op: 'operate', targets: eid, command: t.command, args, command_key: key, wait_complete: true, wait: 60 });
    } catch (e) {
      fill(out, errorBox(e, kind.value));
      return;
    }
    if (line.completions && line.completions.length) {
      fill(out, h('p', null, kind.value + ' finished in ' + ((Date.now() - started) / 1000).toFixed(1) + ' s'),
        completionsView(line.completions), lineView({ ...line, completions: undefined }));
      return;
    }
    const e = line.error || {};
    if (!line.ok && e.code !== 'timeout') {
      fill(out, lineView(line));
      return;
    }
    fill(out, h('div', { class: 'loading' }, 'The agent accepted the command; waiting for its OperationComplete…'), lineView(line));
    const row = await poll(key);
    if (!row) {
      fill(out, errorBox({ code: 'timeout', message: 'no OperationComplete for ' + key + ' within ' + POLL_FOR_MS / 1000 + ' s (it may still come: see Recent notifications)' }));
      return;
    }
    fill(out, h('p', null, kind.value + ' ', row.state, ' after ', ((Date.now() - started) / 1000).toFixed(1), ' s'),
      row.err_code ? errorBox({ code: 'usp ' + row.err_code, message: row.err_msg || '' }) : null, outputs(row));
  }));

  const el = card('Diagnostics', { dataset: { test: 'diagnostics' } },
    h('div', { class: 'form-row' }, kind, host, repsField, run),
    h('p', { class: 'muted small' }, 'Runs on the agent (an asynchronous operate); the result arrives as an OperationComplete notification.'),
    out);
  return { el };
}

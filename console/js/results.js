// results.js — shows what an agent answered: one uspctl result line
// ({agent, ok, task, result | error}) or a task's stored result, as tables
// of parameters (GetResp), updated values (SetResp), command outputs
// (OperateResp, OperationComplete) or a plain error, always with the raw
// JSON beside it.

import { link } from './router.js';
import { errorBox, h, rawJson, table } from './ui.js';

function valueTable(rows, testid) {
  return table([
    { label: 'Path', cell: (r) => r[0] },
    { label: 'Value', cell: (r) => h('span', { dataset: { test: 'value' } }, r[1]) },
  ], rows, { empty: 'No value in the answer.', testid });
}

// Parameter values of a GetResp: [[path, value], ...] and path errors.
export function getRespRows(res) {
  const rows = [];
  const errs = [];
  for (const rp of res.req_path_results || []) {
    if (rp.err_code) errs.push({ code: 'usp ' + rp.err_code, message: rp.requested_path + ': ' + (rp.err_msg || '') });
    for (const rr of rp.resolved_path_results || []) {
      for (const [k, v] of Object.entries(rr.result_params || {})) rows.push([(rr.resolved_path || '') + k, v]);
    }
  }
  return { rows, errs };
}

function setRespRows(res) {
  const rows = [];
  const errs = [];
  for (const u of res.updated_obj_results || []) {
    const st = u.oper_status || {};
    if (st.oper_success) {
      for (const ir of st.oper_success.updated_inst_results || []) {
        for (const [k, v] of Object.entries(ir.updated_params || {})) rows.push([(ir.affected_path || '') + k, v]);
        for (const pe of ir.param_errs || []) errs.push({ code: 'usp ' + pe.err_code, message: pe.param + ': ' + (pe.err_msg || '') });
      }
    }
    if (st.oper_failure) {
      errs.push({ code: 'usp ' + st.oper_failure.err_code, message: u.requested_path + ': ' + (st.oper_failure.err_msg || '') });
    }
  }
  return { rows, errs };
}

function argsTable(args, testid) {
  return valueTable(Object.entries(args || {}), testid);
}

// The completions uspctl adds to an async operate (wait_complete).
export function completionsView(completions) {
  return (completions || []).map((c) => h('div', { class: 'result' },
    h('p', null, h('b', null, (c.obj_path || '') + (c.command_name || '')), ' ', c.state || '',
      c.err_code ? ' — error ' + c.err_code + ': ' + (c.err_msg || '') : ''),
    c.output_args ? argsTable(c.output_args, 'outputs') : null));
}

// The body of a USP response object (result of a task).
export function responseView(res) {
  if (!res || typeof res !== 'object') return null;
  const parts = [];
  if (res.type === 'get_resp') {
    const { rows, errs } = getRespRows(res);
    errs.forEach((e) => parts.push(errorBox(e)));
    parts.push(valueTable(rows, 'get-values'));
  } else if (res.type === 'set_resp') {
    const { rows, errs } = setRespRows(res);
    errs.forEach((e) => parts.push(errorBox(e)));
    if (rows.length) parts.push(h('p', null, 'Set:'), valueTable(rows, 'set-values'));
  } else if (res.type === 'operate_resp') {
    for (const r of res.operation_results || []) {
      parts.push(h('p', null, h('b', null, r.executed_command || 'command'), ' ',
        r.req_obj_path ? 'started (asynchronous: ' + r.req_obj_path + ')' : r.cmd_failure ? 'failed' : 'done'));
      if (r.cmd_failure) parts.push(errorBox({ code: 'usp ' + r.cmd_failure.err_code, message: r.cmd_failure.err_msg || '' }));
      if (r.req_output_args && Object.keys(r.req_output_args).length) parts.push(argsTable(r.req_output_args, 'outputs'));
    }
  } else if (res.type === 'error') {
    parts.push(errorBox({ code: 'usp ' + res.err_code, message: res.err_msg || '' }));
    for (const pe of res.param_errs || []) parts.push(errorBox({ code: 'usp ' + pe.err_code, message: pe.param_path + ': ' + (pe.err_msg || '') }));
  }
  return parts;
}

// One result line of POST /api/v1/tasks.
export function lineView(line) {
  const parts = [];
  if (line.task) parts.push(h('p', { class: 'muted small' }, 'Task ', h('a', { href: link('tasks', '', { task: line.task }) }, '#' + line.task)));
  if (!line.ok) {
    const e = line.error || {};
    parts.push(errorBox({ code: e.code, message: (e.message || '') + (e.usp_err_code ? ' (USP error ' + e.usp_err_code + ')' : '') }));
  } else if (line.result && line.result.state === 'queued') {
    parts.push(h('p', null, 'Queued: the agent gets it when it is online.'));
  }
  parts.push(responseView(line.result));
  if (line.completions) parts.push(completionsView(line.completions));
  parts.push(rawJson(line));
  return h('div', { class: 'result' }, parts);
}

// events.js — owns the one live connection to GET /api/v1/events
// (Server-Sent Events). EventSource cannot send the Authorization header,
// so the stream is read with fetch and a ReadableStream and parsed here.
// Pages subscribe with on(type, fn) and unsubscribe with the function it
// returns; types are the API's (task, notification, campaign, lagged) plus
// "any". The stream asks only for what the open page listens to (types=,
// and agent= when the page follows one agent: focus(eid)), and is opened
// again when that changes: a console on the fleet page does not receive
// every task result of a fleet-wide fan-out. Reconnects with backoff (1 s
// doubling to 30 s); a 401 ends it and goes back to login through api.js's
// handler.

import { apiUrl, authHeaders, errorFrom, getToken } from './api.js';

const listeners = new Map(); // type -> Set of fn(data, type)
const statusListeners = new Set();
const STREAM_TYPES = ['task', 'notification', 'campaign'];
let controller = null;
let retryTimer = null;
let rescopeTimer = null;
let backoff = 1000;
let running = false;
let unauthorized = null;
let focused = null; // the Endpoint ID the open page follows, or null
let openQuery = null; // the query of the open stream

export function on(type, fn) {
  if (!listeners.has(type)) listeners.set(type, new Set());
  listeners.get(type).add(fn);
  rescope();
  return () => {
    listeners.get(type).delete(fn);
    rescope();
  };
}

// focus(eid): the open page follows one agent (its events only, whole);
// returns the function that ends that.
export function focus(eid) {
  focused = eid;
  rescope();
  return () => {
    if (focused === eid) focused = null;
    rescope();
  };
}

// The stream's query for the listeners now registered; null: no stream.
function query() {
  const has = (t) => listeners.has(t) && listeners.get(t).size > 0;
  const types = has('any') ? STREAM_TYPES : STREAM_TYPES.filter(has);
  if (!types.length) return null;
  let q = 'types=' + types.join(',');
  if (focused) q += '&agent=' + encodeURIComponent(focused);
  return q;
}

// After the listeners changed (a page opened or closed): open the stream
// again if it should ask for something else. Debounced: a page registers
// its listeners one after the other.
function rescope() {
  if (!running) return;
  clearTimeout(rescopeTimer);
  rescopeTimer = setTimeout(() => {
    if (query() === openQuery) return;
    if (controller) controller.abort();
    controller = null;
    connect();
  }, 50);
}

// onStatus(fn): fn('on' | 'retry' | 'off', text) when the connection changes.
export function onStatus(fn) {
  statusListeners.add(fn);
}

function setStatus(state, text) {
  for (const fn of statusListeners) fn(state, text);
}

function emit(type, data) {
  for (const key of [type, 'any']) {
    const set = listeners.get(key);
    if (!set) continue;
    for (const fn of [...set]) {
      try {
        fn(data, type);
      } catch (e) {
        console.error('event listener', type, e);
      }
    }
  }
}

// One SSE event block: "event:" and "data:" lines (data lines joined by \n).
function dispatch(block) {
  let type = 'message';
  const data = [];
  for (const line of block) {
    if (!line || line.startsWith(':')) continue; // comment (keep-alive)
    const i = line.indexOf(':');
    const field = i < 0 ? line : line.slice(0, i);
    let value = i < 0 ? '' : line.slice(i + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') type = value;
    else if (field === 'data') data.push(value);
  }
  if (!data.length) return;
  const text = data.join('\n');
  let parsed = text;
  try {
    parsed = JSON.parse(text);
  } catch (_) { /* keep the text */ }
  emit(type, parsed);
}

async function connect() {
  clearTimeout(retryTimer);
  if (!running || !getToken()) return;
  const q = query();
  openQuery = q;
  if (q === null) {
    setStatus('on', 'live');
    return;
  }
  const mine = new AbortController();
  controller = mine;
  const opened = Date.now();
  let gotData = false;
  try {
    const res = await fetch(apiUrl('events') + '?' + q, {
      headers: { Accept: 'text/event-stream', ...authHeaders() },
      signal: mine.signal,
      cache: 'no-store',
    });
    if (res.status === 401) {
      const err = await errorFrom(res);
      running = false;
      setStatus('off', 'signed out');
      if (unauthorized) unauthorized('The API refused the token (' + err.message + '). Sign in again.');
      return;
    }
    if (!res.ok || !res.body) {
      const err = await errorFrom(res);
      throw new Error(err.code + ': ' + err.message);
    }
    setStatus('on', 'live');
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let buf = '';
    let block = [];
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      gotData = true;
      buf += value;
      const lines = buf.split(/\r\n|\r|\n/);
      buf = lines.pop(); // an unfinished line waits for the next chunk
      for (const line of lines) {
        if (line === '') {
          dispatch(block);
          block = [];
        } else {
          block.push(line);
        }
      }
    }
    throw new Error('the stream ended');
  } catch (e) {
    if (!running || controller !== mine) return; // stopped, or opened again by rescope

    if (gotData || Date.now() - opened > 10000) backoff = 1000;
    const wait = backoff;
    backoff = Math.min(backoff * 2, 30000);
    setStatus('retry', 'reconnecting in ' + Math.round(wait / 1000) + ' s');
    console.warn('events:', e && e.message ? e.message : e);
    retryTimer = setTimeout(connect, wait);
  }
}

// start(onUnauthorized): open the stream (again) for the current token.
export function start(onUnauthorizedFn) {
  unauthorized = onUnauthorizedFn;
  stop();
  running = true;
  backoff = 1000;
  setStatus('retry', 'connecting');
  connect();
}

export function stop() {
  running = false;
  clearTimeout(retryTimer);
  clearTimeout(rescopeTimer);
  openQuery = null;
  if (controller) controller.abort();
  controller = null;
  setStatus('off', 'off');
}

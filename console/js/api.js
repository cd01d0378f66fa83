// api.js — owns every HTTP call to uspc-api: the token (sessionStorage),
// the Authorization header, URLs relative to the page, JSON in and out,
// and turning an error answer ({"error":{"code","message"}}) or a network
// failure into an ApiError. A 401 calls the handler app.js registers
// (back to the login page); nothing here touches the DOM.

const TOKEN_KEY = 'uspc.console.token';

let unauthorizedHandler = null;

export class ApiError extends Error {
  constructor(status, code, message, extra) {
    super(message);
    this.name = 'ApiError';
    this.status = status; // HTTP status, 0 when the server could not be reached
    this.code = code;
    this.extra = extra || null; // the rest of the error object (usp_err_code, ...)
  }
}

export function getToken() {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function setToken(token) {
  sessionStorage.setItem(TOKEN_KEY, token);
}

export function clearToken() {
  sessionStorage.removeItem(TOKEN_KEY);
}

// onUnauthorized(fn): fn(message) runs when the API answers 401.
export function onUnauthorized(fn) {
  unauthorizedHandler = fn;
}

// An Endpoint ID or a name as one path segment (":" kept readable).
export function seg(s) {
  return encodeURIComponent(String(s)).replace(/%3A/gi, ':');
}

// apiUrl('agents', {tag: 'beta'}) -> URL of api/v1/agents?tag=beta, relative
// to the page. Query values that are undefined, null or '' are left out;
// an array value repeats the key.
export function apiUrl(path, query) {
  const url = new URL('api/v1/' + path, document.baseURI);
  for (const [k, v] of Object.entries(query || {})) {
    if (v === undefined || v === null || v === '') continue;
    if (Array.isArray(v)) v.forEach((x) => url.searchParams.append(k, String(x)));
    else url.searchParams.set(k, String(v));
  }
  return url;
}

export function authHeaders(token) {
  const t = token === undefined ? getToken() : token;
  return t ? { Authorization: 'Bearer ' + t } : {};
}

// Read an error answer into an ApiError (whatever the body is).
export async function errorFrom(res) {
  let code = 'http_' + res.status;
  let message = res.statusText || 'HTTP ' + res.status;
  let extra = null;
  try {
    const text = await res.text();
    try {
      const j = JSON.parse(text);
      if (j && j.error) {
        code = j.error.code || code;
        message = j.error.message || message;
        extra = j.error;
      } else if (text) {
        message = text.slice(0, 300);
      }
    } catch (_) {
      if (text) message = text.slice(0, 300);
    }
  } catch (_) { /* body unreadable: keep the status line */ }
  return new ApiError(res.status, code, message, extra);
}

// api(path, {method, query, body, token, signal}) -> the parsed JSON answer.
// Throws ApiError. A 401 also calls the unauthorized handler (unless a
// token was given explicitly, as the login page does).
export async function api(path, opts = {}) {
  const headers = { Accept: 'application/json', ...authHeaders(opts.token) };
  const init = { method: opts.method || 'GET', headers, signal: opts.signal, cache: 'no-store' };
  if (opts.body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(opts.body);
  }
  let res;
  try {
    res = await fetch(apiUrl(path, opts.query), init);
  } catch (e) {
    if (e && e.name === 'AbortError') throw e;
    throw new ApiError(0, 'network_error', 'cannot reach uspc-api: ' + (e && e.message ? e.message : e));
  }
  if (!res.ok) {
    const err = await errorFrom(res);
    if (res.status === 401 && opts.token === undefined && unauthorizedHandler) {
      unauthorizedHandler('The API refused the token (' + err.message + '). Sign in again.');
    }
    throw err;
  }
  if (res.status === 204) return null;
  const text = await res.text();
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch (_) {
    throw new ApiError(res.status, 'bad_answer', 'the API answered something that is not JSON: ' + text.slice(0, 200));
  }
}

// The signed-in token's identity ({token_id, name, role}), set by app.js.
export const session = { name: '', role: '', token_id: null };

const RANK = { viewer: 1, operator: 2, admin: 3 };

// can('operator'): the signed-in role is at least that.
export function can(role) {
  return (RANK[session.role] || 0) >= (RANK[role] || 99);
}

// One uspctl command as a task (POST /api/v1/tasks); returns the first
// result line of the answer ({agent, ok, task, result | error}).
export async function submitTask(command) {
  const ans = await api('tasks', { method: 'POST', body: command });
  const lines = (ans && ans.results) || [];
  if (!lines.length) throw new ApiError(200, 'bad_answer', 'the API answered without a result line');
  return lines[0];
}

// HTTP authentication as CWMP uses it (RFC 7616/2617 Digest with MD5 and
// qop=auth, and Basic): a client that answers 401 challenges and a server
// side for the connection request listener.
import { createHash, randomBytes } from 'node:crypto';

export const md5 = (s) => createHash('md5').update(s).digest('hex');
const hex = (n) => randomBytes(n).toString('hex');

// Splits header values into challenges or credentials (auth-params only, no
// token68 forms, which CWMP does not need):
// 'Basic realm="a", Digest realm="b", qop="auth,auth-int"' gives
// [{scheme: 'basic', params: {realm: 'a'}}, {scheme: 'digest', params: {...}}].
export function parseAuth(values) {
  const out = [];
  for (const value of [].concat(values || [])) {
    const re = /\s*([^\s=,]+)(?:\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*)))?\s*,?/gy;
    let m;
    let cur = null;
    while (re.lastIndex < value.length && (m = re.exec(value)) && m[0] !== '') {
      if (m[2] === undefined && m[3] === undefined) out.push((cur = { scheme: m[1].toLowerCase(), params: {} }));
      else if (cur) cur.params[m[1].toLowerCase()] = m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : m[3];
    }
  }
  return out;
}

function digestResponse({ username, password, realm, nonce, cnonce, nc, qop, method, uri, algorithm }) {
  let ha1 = md5(`${username}:${realm}:${password}`);
  if (/^MD5-sess$/i.test(algorithm || '')) ha1 = md5(`${ha1}:${nonce}:${cnonce}`);
  const ha2 = md5(`${method}:${uri}`);
  return qop ? md5(`${ha1}:${nonce}:${nc}:${cnonce}:${qop}:${ha2}`) : md5(`${ha1}:${nonce}:${ha2}`);
}

const quote = (v) => `"${String(v).replace(/["\\]/g, '\\$&')}"`;

// One per CWMP session: after a challenge it keeps authenticating every later
// request preemptively (Digest with the same nonce and nc + 1).
export class AuthClient {
  constructor(username, password) {
    this.username = username;
    this.password = password;
    this.scheme = null; // 'basic' | 'digest' once challenged
    this.challenge = null;
    this.nc = 0;
  }

  // Takes the WWW-Authenticate values of a 401; true when a retry makes sense.
  onChallenge(values) {
    if (this.username === undefined || this.username === null) return false;
    const all = parseAuth(values);
    const digest = all.find((c) => c.scheme === 'digest');
    if (digest) {
      const alg = digest.params.algorithm || 'MD5';
      if (!/^MD5(-sess)?$/i.test(alg)) return false;
      const qops = (digest.params.qop || '').split(',').map((s) => s.trim()).filter(Boolean);
      if (qops.length && !qops.includes('auth')) return false;
      // A second challenge without stale=true means the credentials were refused.
      if (this.scheme !== null && digest.params.stale?.toLowerCase() !== 'true') return false;
      this.scheme = 'digest';
      this.challenge = { ...digest.params, qop: qops.length ? 'auth' : undefined, algorithm: alg };
      this.nc = 0;
      return true;
    }
    if (all.some((c) => c.scheme === 'basic') && this.scheme === null) {
      this.scheme = 'basic';
      return true;
    }
    return false;
  }

  // The Authorization header for the next request, or undefined.
  header(method, uri) {
    if (this.scheme === 'basic') {
      return 'Basic ' + Buffer.from(`${this.username}:${this.password}`).toString('base64');
    }
    if (this.scheme !== 'digest') return undefined;
    const c = this.challenge;
    this.nc += 1;
    const nc = this.nc.toString(16).padStart(8, '0');
    const cnonce = hex(8);
    const response = digestResponse({ ...c, username: this.username, password: this.password, cnonce, nc, method, uri });
    const parts = [
      `username=${quote(this.username)}`,
      `realm=${quote(c.realm ?? '')}`,
      `nonce=${quote(c.nonce ?? '')}`,
      `uri=${quote(uri)}`,
      `algorithm=${c.algorithm}`,
      `response=${quote(response)}`,
    ];
    if (c.qop) parts.push(`qop=${c.qop}`, `nc=${nc}`, `cnonce=${quote(cnonce)}`);
    if (c.opaque !== undefined) parts.push(`opaque=${quote(c.opaque)}`);
    return 'Digest ' + parts.join(', ');
  }
}

// Server side: issues nonces and checks Digest (MD5, qop=auth) credentials,
// refusing replays (nc must grow for each nonce). `creds()` is read on every
// check, so the credentials may change while the server runs.
export class DigestServer {
  constructor(realm, creds, nonceLifeMs = 300_000) {
    this.realm = realm;
    this.creds = creds;
    this.nonceLifeMs = nonceLifeMs;
    this.opaque = hex(8);
    this.nonces = new Map(); // nonce -> {born, lastNc}
  }

  challenge(stale = false) {
    const now = Date.now();
    for (const [n, v] of this.nonces) if (now - v.born > this.nonceLifeMs) this.nonces.delete(n);
    const nonce = hex(16);
    this.nonces.set(nonce, { born: now, lastNc: 0 });
    return `Digest realm=${quote(this.realm)}, qop="auth", nonce=${quote(nonce)}, ` +
      `opaque=${quote(this.opaque)}, algorithm=MD5${stale ? ', stale=true' : ''}`;
  }

  // 'ok', 'stale' (good credentials, unknown or expired nonce) or a reason.
  check(method, url, authorization) {
    const cred = parseAuth(authorization).find((c) => c.scheme === 'digest');
    if (!cred) return 'no Digest credentials';
    const p = cred.params;
    const { username, password } = this.creds();
    if (p.username !== username || p.realm !== this.realm) return 'wrong username or realm';
    if (p.uri !== url) return 'uri does not match the request';
    if (p.qop !== 'auth' || !p.cnonce || !/^[0-9a-f]{8}$/i.test(p.nc || '')) return 'qop=auth, nc and cnonce required';
    if (p.algorithm && p.algorithm.toUpperCase() !== 'MD5') return 'algorithm must be MD5';
    const want = digestResponse({ username, password, realm: this.realm, nonce: p.nonce, cnonce: p.cnonce, nc: p.nc, qop: 'auth', method, uri: p.uri });
    if (p.response !== want) return 'wrong response (password)';
    const state = this.nonces.get(p.nonce);
    if (!state || Date.now() - state.born > this.nonceLifeMs) return 'stale';
    const nc = parseInt(p.nc, 16);
    if (nc <= state.lastNc) return 'replayed nc';
    state.lastNc = nc;
    return 'ok';
  }
}

// One simulated TR-069 CPE: CWMP sessions towards an ACS over Node's http
// client, a connection request listener, periodic informs, and a transcript
// of everything for tests to assert on. Run as a program it is the CLI
// (cli.mjs).
import dgram from 'node:dgram';
import http from 'node:http';
import https from 'node:https';
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { pathToFileURL } from 'node:url';
import { el, arrayType, child, children, textOf, envelope, faultBody, readEnvelope, cwmpNamespace, ProtocolError } from './soap.mjs';
import { AuthClient, DigestServer } from './digest.mjs';
import { CwmpFault, DataModel, defaultModel, modelMethods } from './model.mjs';

// The Inform's parameters, under the data model's root ('Device.' for
// TR-181, 'InternetGatewayDevice.' for a TR-098 CPE: opts.root).
const INFORM_PARAMS = ['RootDataModelVersion', 'DeviceInfo.HardwareVersion', 'DeviceInfo.SoftwareVersion',
  'DeviceInfo.ProvisioningCode', 'ManagementServer.ConnectionRequestURL', 'ManagementServer.ParameterKey',
  'ManagementServer.PeriodicInformInterval', 'ManagementServer.UDPConnectionRequestAddress'];
const CPE_METHODS = ['GetRPCMethods', 'SetParameterValues', 'GetParameterValues', 'GetParameterNames', 'SetParameterAttributes',
  'GetParameterAttributes', 'AddObject', 'DeleteObject', 'Reboot', 'Download', 'FactoryReset'];
const UNKNOWN_TIME = '0001-01-01T00:00:00Z';
const now = () => new Date().toISOString().replace(/\.\d+Z$/, 'Z');
const delay = (ms) => new Promise((r) => setTimeout(r, ms));

// A session that ended without a protocol violation but did not succeed.
class SessionEnd extends Error {
  constructor(outcome, message) {
    super(message);
    this.outcome = outcome;
  }
}

const normEvent = (e) => (typeof e === 'string' ? { code: e, commandKey: '' } : { code: e.code, commandKey: e.commandKey ?? '' });
const isTransferEvent = (e) => e.code === '7 TRANSFER COMPLETE' || e.code === 'M Download';

export class Cpe extends EventEmitter {
  constructor(opts = {}) {
    super();
    this.opts = {
      namespace: 'cwmp-1-0', events: ['1 BOOT'], retryCount: 0, quirks: {}, faults: {}, cpeRequests: [],
      timeoutMs: 30_000, rebootDelayMs: 50, downloadDelayMs: 100, download: {}, connReq: {}, recordBodies: true, ...opts,
    };
    const id = (this.deviceId = { manufacturer: 'uspc-test', oui: '00D09E', productClass: 'cwmp-peer', serial: '0001', ...opts.deviceId });
    this.ns = cwmpNamespace(this.opts.namespace);
    const variant = this.opts.quirks.emptyPostVariant;
    if (variant && !['empty', 'chunked-empty', 'whitespace'].includes(variant)) throw new Error(`unknown emptyPostVariant ${variant}`);
    this.root = this.opts.root ?? 'Device.';
    this.ms = `${this.root}ManagementServer.`;
    const params = { ...defaultModel(id, this.root), ...this.opts.model };
    for (const k of Object.keys(params)) if (params[k] === null) delete params[k];
    const cr = { username: 'cpe', password: 'cr-secret', ...this.opts.connReq };
    params[`${this.ms}ConnectionRequestUsername`] = { ...params[`${this.ms}ConnectionRequestUsername`], value: cr.username };
    params[`${this.ms}ConnectionRequestPassword`] = { ...params[`${this.ms}ConnectionRequestPassword`], value: cr.password };
    this.model = new DataModel(params, this.root);
    this.pending = [];
    this.addEvents(this.opts.events);
    this.retryCount = this.opts.retryCount;
    this.transfers = []; // finished transfers awaiting their TransferComplete
    this.sessions = [];
    this.crLog = [];
    this.active = 0; // sessions queued or running
    this.tasks = new Set();
    this.queue = Promise.resolve();
    this.nextId = 1;
  }

  addEvents(list) {
    for (const e of [].concat(list || []).map(normEvent)) {
      const multi = e.code.startsWith('M ');
      if (!this.pending.some((p) => p.code === e.code && (!multi || p.commandKey === e.commandKey))) this.pending.push(e);
    }
  }

  // Starts the connection request listener and the periodic timer.
  async start() {
    if (this.opts.connReq !== false && this.opts.connReq.http !== false) await this._listen();
    if (this.opts.udpConnReq) await this._listenUdp();
    if (this.opts.periodicInterval) this._periodic(this.opts.periodicInterval);
    return this;
  }

  async stop() {
    this.stopped = true;
    clearInterval(this.periodicTimer);
    if (this.server) await new Promise((r) => this.server.close(r));
    if (this.udp) await new Promise((r) => this.udp.close(r));
    await this.idle();
  }

  // Waits until no session is queued or running and no follow-up is due.
  async idle() {
    while (this.tasks.size) await Promise.allSettled([...this.tasks]);
  }

  _track(p) {
    this.tasks.add(p);
    p.finally(() => this.tasks.delete(p)).catch(() => {});
    return p;
  }

  // Queues one session carrying the pending events plus `events`; resolves
  // with its record. Follow-up sessions (reboot, download) come on their own.
  runSession(events = []) {
    this.addEvents(events);
    this.active++;
    const p = (this.queue = this.queue.then(() => this._session()).finally(() => this.active--));
    return this._track(p);
  }

  // A change made on the CPE side: notifies per the parameter's attributes.
  setValue(path, value) {
    this.model.set(path, value);
    const n = this.model.attrs.get(path)?.notification ?? 0;
    if (n === 0) return;
    this.model.changed.add(path);
    if (n === 2) this.runSession(['4 VALUE CHANGE']);
    else this.addEvents(['4 VALUE CHANGE']);
  }

  _periodic(seconds) {
    clearInterval(this.periodicTimer);
    if (!(seconds > 0) || this.stopped) return;
    this.periodicTimer = setInterval(() => this.runSession(['2 PERIODIC']), seconds * 1000);
    this.periodicTimer.unref?.();
  }

  // Side effects of SetParameterValues on the CPE itself.
  onSet(names) {
    if (this.periodicTimer && names.some((n) => n.startsWith(`${this.ms}PeriodicInform`))) {
      const on = /^(1|true)$/.test(this.model.get(`${this.ms}PeriodicInformEnable`));
      if (on) this._periodic(Number(this.model.get(`${this.ms}PeriodicInformInterval`)));
      else clearInterval(this.periodicTimer);
    }
  }

  // ---- one session ----------------------------------------------------------
  async _session() {
    const events = this.pending.slice();
    const rec = {
      type: 'session', n: this.sessions.length + 1, serial: this.deviceId.serial, startedAt: new Date().toISOString(),
      events, retryCount: this.retryCount, ok: false, outcome: null, error: null, ms: 0,
      acsRpcs: [], warnings: [], connections: 0, exchanges: [],
    };
    this.sessions.push(rec);
    const q = this.opts.quirks;
    const s = {
      rec, t0: performance.now(), auth: new AuthClient(this.opts.username, this.opts.password), cookies: new Map(),
      agent: q.newConnectionPerRequest ? false : new http.Agent({ keepAlive: true, maxSockets: 1 }),
      socketIds: new WeakMap(), after: [],
    };
    if (this.opts.acsUrl?.startsWith('https:') && s.agent) s.agent = new https.Agent({ keepAlive: true, maxSockets: 1, rejectUnauthorized: !this.opts.insecure });
    try {
      await this._converse(s, events);
      rec.ok = true;
      rec.outcome = 'done';
    } catch (e) {
      rec.outcome = e instanceof ProtocolError ? 'violation' : e.outcome ?? 'error';
      rec.error = e.message;
    } finally {
      if (s.agent) s.agent.destroy();
    }
    rec.ms = Math.round(performance.now() - s.t0);
    this.retryCount = rec.ok ? 0 : this.retryCount + 1;
    for (const f of s.after) this._track(delay(f.delayMs).then(() => this._followUp(f)));
    this.emit('session', rec);
    return rec;
  }

  async _followUp(f) {
    if (this.stopped) return;
    if (this.sessions.length >= (this.opts.maxSessions ?? Infinity)) {
      this.emit('limit', `no follow-up session: maxSessions ${this.opts.maxSessions} reached`);
      return;
    }
    if (f.action === 'factoryReset') {
      this.model.reset();
      this.model.set(`${this.ms}ConnectionRequestURL`, this.crUrl ?? '');
      this.pending = [];
      this.transfers = [];
    }
    if (f.transfer) {
      this.transfers.push({ ...f.transfer, completeTime: now() });
      if (!f.transfer.fault.code && this.opts.download.newVersion) this.model.set(`${this.root}DeviceInfo.SoftwareVersion`, this.opts.download.newVersion);
    }
    await this.runSession(f.events);
  }

  async _converse(s, events) {
    const { rec } = s;
    const informId = this._newId();
    let r = await this._post(s, envelope(this.ns, informId, this._inform(events)), 'Inform', informId);
    const ir = this._expect(s, r, 'InformResponse', informId);
    if (textOf(ir.msg, 'MaxEnvelopes').trim() !== '1') rec.warnings.push(`MaxEnvelopes is "${textOf(ir.msg, 'MaxEnvelopes')}", expected 1`);
    this.pending = this.pending.filter((e) => !events.includes(e) || isTransferEvent(e));
    this.model.changed.clear();
    const hold = /^(1|true)$/.test(ir.hold ?? '');
    if (hold) rec.warnings.push('ACS sent HoldRequests: no CPE requests sent');
    for (const t of hold ? [] : this.transfers.slice()) {
      const id = this._newId();
      const body = el('cwmp:TransferComplete', null, el('CommandKey', null, t.commandKey),
        el('FaultStruct', null, el('FaultCode', null, t.fault.code), el('FaultString', null, t.fault.string)),
        el('StartTime', null, t.startTime), el('CompleteTime', null, t.completeTime));
      r = await this._post(s, envelope(this.ns, id, body), 'TransferComplete', id, { commandKey: t.commandKey, faultCode: t.fault.code });
      this._expect(s, r, 'TransferCompleteResponse', id);
      this.transfers.splice(this.transfers.indexOf(t), 1);
    }
    if (!this.transfers.length) this.pending = this.pending.filter((e) => !isTransferEvent(e));
    for (const method of hold ? [] : this.opts.cpeRequests) {
      const id = this._newId();
      r = await this._post(s, envelope(this.ns, id, el(`cwmp:${method}`, null)), method, id);
      const m = this._expect(s, r, `${method}Response`, id);
      if (method === 'GetRPCMethods') s.last.response.methods = children(child(m.msg, 'MethodList'), 'string').map((c) => c.text);
    }
    r = await this._post(s, null, 'empty');
    for (;;) {
      const text = r.body.toString('utf8');
      if (r.status === 204) {
        if (r.body.length) throw new ProtocolError(`204 with a ${r.body.length}-byte body`);
        return;
      }
      if (r.status !== 200) throw new SessionEnd('http-status', `ACS answered HTTP ${r.status} during the session`);
      if (!text.trim()) throw new ProtocolError('ACS ended the session with 200 and an empty body, expected 204 No Content');
      const m = this._read(s, r);
      if (m.method === 'Fault' || m.method.endsWith('Response')) throw new ProtocolError(`expected an ACS request, got ${m.method}`);
      if (m.id === null) rec.warnings.push(`${m.method} without cwmp:ID`);
      rec.acsRpcs.push(m.method);
      const a = this._answer(s, m);
      r = await this._post(s, envelope(this.ns, m.id, a.body), a.kind, m.id, a.detail);
    }
  }

  _newId() {
    return `cpe-${this.deviceId.serial}-${this.nextId++}`;
  }

  _inform(events) {
    const d = this.deviceId;
    const names = [...new Set([...INFORM_PARAMS.map((n) => this.root + n), ...this.model.changed])].filter((p) => this.model.params.has(p));
    return el('cwmp:Inform', null,
      el('DeviceId', null, el('Manufacturer', null, d.manufacturer), el('OUI', null, d.oui),
        el('ProductClass', null, d.productClass), el('SerialNumber', null, d.serial)),
      el('Event', arrayType('cwmp:EventStruct', events.length),
        events.map((e) => el('EventStruct', null, el('EventCode', null, e.code), el('CommandKey', null, e.commandKey)))),
      el('MaxEnvelopes', null, 1),
      el('CurrentTime', null, now()),
      el('RetryCount', null, this.retryCount),
      el('ParameterList', arrayType('cwmp:ParameterValueStruct', names.length), names.map((p) => this.model.valueStruct(p))));
  }

  // Parses an ACS answer (ProtocolError when it is not a CWMP envelope in our namespace).
  _read(s, r) {
    const m = readEnvelope(r.body.toString('utf8'));
    s.last.response.method = m.method;
    s.last.response.id = m.id;
    if (m.ns !== this.ns) throw new ProtocolError(`ACS answered in namespace ${m.ns}, the CPE uses ${this.ns}`);
    if (!/^text\/xml\b/i.test(r.headers['content-type'] || '')) s.rec.warnings.push(`Content-Type "${r.headers['content-type'] ?? ''}" on a SOAP answer`);
    return m;
  }

  // The answer to one of our requests: 200, the matching response, the same cwmp:ID.
  _expect(s, r, want, id) {
    if (r.status !== 200) {
      if (r.status === 204 || r.status < 300) throw new ProtocolError(`HTTP ${r.status} without ${want}`);
      throw new SessionEnd('http-status', `ACS answered HTTP ${r.status}${r.headers['retry-after'] ? ` (Retry-After ${r.headers['retry-after']})` : ''} instead of ${want}`);
    }
    if (!r.body.toString('utf8').trim()) throw new ProtocolError(`empty body instead of ${want}`);
    const m = this._read(s, r);
    if (m.method === 'Fault') throw new SessionEnd('acs-fault', `ACS answered Fault ${m.fault.code} ${m.fault.string} instead of ${want}`);
    if (m.method !== want) throw new ProtocolError(`expected ${want}, got ${m.method}`);
    if (m.id !== id) throw new ProtocolError(`${want} carries cwmp:ID ${JSON.stringify(m.id)}, the request had ${JSON.stringify(id)}`);
    return m;
  }

  // The CPE's answer to an ACS request: {body, kind, detail}.
  _answer(s, m) {
    const name = m.method;
    try {
      const inject = this.opts.faults[name];
      if (inject) throw new CwmpFault(inject.code, inject.string ?? 'Injected fault');
      if (modelMethods[name]) return { kind: `${name}Response`, ...modelMethods[name](this.model, m.msg, this) };
      const key = textOf(m.msg, 'CommandKey');
      switch (name) {
        case 'GetRPCMethods':
          return { kind: 'GetRPCMethodsResponse', body: el('cwmp:GetRPCMethodsResponse', null,
            el('MethodList', arrayType('xsd:string', CPE_METHODS.length), CPE_METHODS.map((x) => el('string', null, x)))) };
        case 'Reboot':
          s.after.push({ delayMs: this.opts.rebootDelayMs, events: ['1 BOOT', { code: 'M Reboot', commandKey: key }] });
          return { kind: 'RebootResponse', body: el('cwmp:RebootResponse', null), detail: { commandKey: key } };
        case 'FactoryReset':
          s.after.push({ delayMs: this.opts.rebootDelayMs, action: 'factoryReset', events: ['0 BOOTSTRAP', '1 BOOT'] });
          return { kind: 'FactoryResetResponse', body: el('cwmp:FactoryResetResponse', null) };
        case 'Download': {
          const args = Object.fromEntries(m.msg.children.map((c) => [c.name, c.text]));
          const dl = this.opts.download;
          const fault = dl.faultCode ? { code: Number(dl.faultCode), string: dl.faultString ?? 'Download failure' } : { code: 0, string: '' };
          // download.reboot: a good firmware image is booted, so the follow-up Inform also carries 1 BOOT
          const boot = dl.reboot && !fault.code ? ['1 BOOT'] : [];
          s.after.push({ delayMs: this.opts.downloadDelayMs, events: [...boot, '7 TRANSFER COMPLETE', { code: 'M Download', commandKey: key }],
            transfer: { commandKey: key, fault, startTime: now() } });
          return { kind: 'DownloadResponse', detail: args, body: el('cwmp:DownloadResponse', null,
            el('Status', null, 1), el('StartTime', null, UNKNOWN_TIME), el('CompleteTime', null, UNKNOWN_TIME)) };
        }
        default:
          throw new CwmpFault(9000, `Method ${name} not supported`);
      }
    } catch (e) {
      if (!(e instanceof CwmpFault)) throw e;
      return { kind: 'Fault', body: faultBody(e.code, e.string, e.extra), detail: { method: name, faultCode: e.code, faultString: e.string } };
    }
  }

  // ---- HTTP ------------------------------------------------------------------
  // POSTs one message (null = the empty POST), answering 401 challenges, and
  // records the exchange(s). Resolves with {status, headers, body}.
  async _post(s, xml, kind, id = null, detail = undefined) {
    const q = this.opts.quirks;
    const url = new URL(this.opts.acsUrl);
    let payload = xml === null ? (q.emptyPostVariant === 'whitespace' ? '\r\n' : '') : xml;
    payload = Buffer.from(payload, 'utf8');
    const chunked = xml === null ? q.emptyPostVariant === 'chunked-empty' || (q.chunked && payload.length > 0) : !!q.chunked;
    for (;;) {
      const headers = {};
      if (xml !== null) Object.assign(headers, { 'Content-Type': 'text/xml; charset="utf-8"', SOAPAction: '' });
      if (chunked) headers['Transfer-Encoding'] = 'chunked';
      else headers['Content-Length'] = String(payload.length);
      if (s.cookies.size && !q.noCookies) headers.Cookie = [...s.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
      const auth = s.auth.header('POST', url.pathname + url.search);
      if (auth) headers.Authorization = auth;
      if (q.newConnectionPerRequest) headers.Connection = 'close';
      const x = { seq: s.rec.exchanges.length + 1, t: Math.round(performance.now() - s.t0), ms: 0, connection: 0,
        request: { kind, id, headers, body: this.opts.recordBodies ? payload.toString('utf8') : undefined, detail }, response: null };
      s.rec.exchanges.push(x);
      s.last = x;
      const t1 = performance.now();
      const r = await this._send(s, url, headers, payload, chunked, x);
      x.ms = Math.round(performance.now() - t1);
      x.response = { status: r.status, headers: r.headers, body: this.opts.recordBodies ? r.body.toString('utf8') : undefined };
      for (const c of [].concat(r.headers['set-cookie'] || [])) {
        const [pair, ...attrs] = c.split(';');
        const eq = pair.indexOf('=');
        if (eq <= 0) continue;
        const gone = attrs.some((a) => /^\s*max-age\s*=\s*(0|-\d+)\s*$/i.test(a));
        if (gone) s.cookies.delete(pair.slice(0, eq).trim());
        else s.cookies.set(pair.slice(0, eq).trim(), pair.slice(eq + 1).trim());
      }
      if (r.status === 401) {
        const values = [];
        for (let i = 0; i < r.raw.length; i += 2) if (/^www-authenticate$/i.test(r.raw[i])) values.push(r.raw[i + 1]);
        if (s.auth.onChallenge(values)) continue;
        throw new SessionEnd('auth-failed', `ACS answered 401 to ${kind}${values.length ? ` (${values.join(' | ')})` : ''} and the credentials did not satisfy it`);
      }
      const drop = this.opts.dropMidSession;
      if (drop && s.rec.exchanges.length >= drop) {
        r.socket?.destroy();
        throw new SessionEnd('dropped', `connection dropped on purpose after ${drop} exchanges`);
      }
      return r;
    }
  }

  _send(s, url, headers, payload, chunked, x) {
    return new Promise((resolve, reject) => {
      const mod = url.protocol === 'https:' ? https : http;
      const req = mod.request(url, { method: 'POST', headers, agent: s.agent, rejectUnauthorized: !this.opts.insecure });
      req.setTimeout(this.opts.timeoutMs, () => req.destroy(new SessionEnd('timeout', `no answer within ${this.opts.timeoutMs} ms`)));
      req.on('socket', (sock) => {
        if (!s.socketIds.has(sock)) s.socketIds.set(sock, ++s.rec.connections);
        x.connection = s.socketIds.get(sock);
      });
      req.on('error', (e) => reject(e instanceof SessionEnd ? e : new SessionEnd('network', `${x.request.kind}: ${e.message}`)));
      req.on('response', (res) => {
        const parts = [];
        res.on('data', (d) => parts.push(d));
        res.on('error', (e) => reject(new SessionEnd('network', e.message)));
        res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, raw: res.rawHeaders, body: Buffer.concat(parts), socket: res.socket }));
      });
      if (chunked && payload.length > 1) {
        const half = payload.length >> 1; // two chunks, so the peer really has to reassemble
        req.write(payload.subarray(0, half));
        req.end(payload.subarray(half));
      } else req.end(payload.length ? payload : undefined);
    });
  }

  // ---- connection requests ---------------------------------------------------
  async _listen() {
    this.crPath = `/cr/${randomBytes(8).toString('hex')}`;
    this.crAuth = new DigestServer('cwmp-peer', () => ({
      username: this.model.get(`${this.ms}ConnectionRequestUsername`), password: this.model.get(`${this.ms}ConnectionRequestPassword`),
    }));
    this.server = http.createServer((req, res) => this._onConnectionRequest(req, res));
    await new Promise((r, j) => this.server.once('error', j).listen(this.opts.connReq.port ?? 0, '127.0.0.1', r));
    this.crUrl = `http://127.0.0.1:${this.server.address().port}${this.crPath}`;
    this.model.set(`${this.ms}ConnectionRequestURL`, this.crUrl);
  }

  // UDP connection requests (TR-069 Annex G), as a CPE behind NAT gets them
  // at the address its STUN binding reports; here the socket's own address.
  async _listenUdp() {
    this.udp = dgram.createSocket('udp4');
    this.udpSeen = new Set(); // message ids acted on
    this.udpLastTs = 0;
    this.udp.on('message', (buf) => this._onUdpRequest(buf.toString('latin1')));
    await new Promise((r, j) => this.udp.once('error', j).bind(0, '127.0.0.1', r));
    this.model.set(`${this.ms}UDPConnectionRequestAddress`, `127.0.0.1:${this.udp.address().port}`);
  }

  // Checks one datagram as a CPE must: the request line, the username, the
  // HMAC-SHA1 signature with the connection-request password, a message id
  // not seen before and a timestamp not older than the last one accepted.
  _onUdpRequest(text) {
    const entry = { type: 'cr', transport: 'udp', serial: this.deviceId.serial, at: new Date().toISOString(), result: null, reason: null };
    const m = /^GET (http:\/\/[^ ?]+)\?([^ ]*) HTTP\/1\.1\r\nHost: ([^\r]*)\r\n\r\n$/.exec(text);
    const q = m ? new URLSearchParams(m[2]) : null;
    const [ts, id, un, cn, sig] = q ? ['ts', 'id', 'un', 'cn', 'sig'].map((k) => q.get(k)) : [];
    const password = this.model.get(`${this.ms}ConnectionRequestPassword`) ?? '';
    const want = q ? createHmac('sha1', password).update(`${ts}${id}${un}${cn}`).digest('hex') : '';
    if (!m || [ts, id, un, cn, sig].some((v) => v == null)) entry.reason = 'malformed';
    else if (`http://${m[3]}` !== m[1]) entry.reason = 'host differs from the request line';
    else if (un !== this.model.get(`${this.ms}ConnectionRequestUsername`)) entry.reason = 'wrong username';
    else if (sig.length !== want.length || !timingSafeEqual(Buffer.from(sig), Buffer.from(want))) entry.reason = 'bad signature';
    else if (this.udpSeen.has(id)) entry.reason = 'repeated id';
    else if (Number(ts) < this.udpLastTs) entry.reason = 'old timestamp';
    if (entry.reason) entry.result = 'ignored';
    else {
      this.udpSeen.add(id);
      this.udpLastTs = Number(ts);
      entry.result = this.active > 0 || this.stopped ? 'ignored: already in session' : 'session';
    }
    this.crLog.push(entry);
    this.emit('cr', entry);
    if (entry.result === 'session') this.runSession(['6 CONNECTION REQUEST']);
  }

  _onConnectionRequest(req, res) {
    req.resume();
    const entry = { type: 'cr', serial: this.deviceId.serial, at: new Date().toISOString(), method: req.method, url: req.url, status: 0, auth: null, result: null };
    if (req.url !== this.crPath) entry.status = 404;
    else if (req.method !== 'GET') entry.status = 405;
    else {
      entry.auth = req.headers.authorization ? this.crAuth.check(req.method, req.url, req.headers.authorization) : 'no credentials';
      if (entry.auth !== 'ok') {
        entry.status = 401;
        res.setHeader('WWW-Authenticate', this.crAuth.challenge(entry.auth === 'stale'));
      } else {
        entry.status = this.opts.connReq.status ?? 200;
        entry.result = this.active > 0 || this.stopped ? 'ignored: already in session' : 'session';
      }
    }
    res.writeHead(entry.status, { 'Content-Length': '0' }).end();
    this.crLog.push(entry);
    this.emit('cr', entry);
    if (entry.result === 'session') this.runSession(['6 CONNECTION REQUEST']);
  }
}

// `node cpe.mjs ...` runs the CLI (not awaited here: cli.mjs imports this module).
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  import('./cli.mjs').then((cli) => cli.main(process.argv.slice(2)));
}

// Self-test of the CWMP peer against a tiny ACS stand-in written here (regexes
// and string templates, nothing shared with the driver). It only checks the
// driver's own behaviour; the real tests run the driver against uspc-acs.
import test from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { createHash, randomBytes } from 'node:crypto';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Cpe } from './cpe.mjs';

const md5 = (s) => createHash('md5').update(s).digest('hex');
const XSD = 'xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"';
const envelope = (ns, id, inner) => `<?xml version="1.0"?>\n<S:Envelope xmlns:S="http://schemas.xmlsoap.org/soap/envelope/" ` +
  `xmlns:c="${ns}" ${XSD}><S:Header>${id === null ? '' : `<c:ID S:mustUnderstand="1">${id}</c:ID>`}</S:Header>` +
  `<S:Body>${inner}</S:Body></S:Envelope>`;
const strings = (l) => l.map((s) => `<string>${s}</string>`).join('');

// ACS requests, with the cwmp prefix "c".
const rpc = {
  gpv: (...names) => `<c:GetParameterValues><ParameterNames>${strings(names)}</ParameterNames></c:GetParameterValues>`,
  gpn: (path, next) => `<c:GetParameterNames><ParameterPath>${path}</ParameterPath><NextLevel>${next}</NextLevel></c:GetParameterNames>`,
  spv: (list, key) => `<c:SetParameterValues><ParameterList>${list.map(([n, t, v]) =>
    `<ParameterValueStruct><Name>${n}</Name><Value xsi:type="${t}">${v}</Value></ParameterValueStruct>`).join('')}</ParameterList>` +
    `<ParameterKey>${key}</ParameterKey></c:SetParameterValues>`,
  gpa: (...names) => `<c:GetParameterAttributes><ParameterNames>${strings(names)}</ParameterNames></c:GetParameterAttributes>`,
  spa: (name, n) => `<c:SetParameterAttributes><ParameterList><SetParameterAttributesStruct><Name>${name}</Name>` +
    `<NotificationChange>1</NotificationChange><Notification>${n}</Notification><AccessListChange>0</AccessListChange>` +
    '<AccessList></AccessList></SetParameterAttributesStruct></ParameterList></c:SetParameterAttributes>',
  add: (obj, key) => `<c:AddObject><ObjectName>${obj}</ObjectName><ParameterKey>${key}</ParameterKey></c:AddObject>`,
  del: (obj, key) => `<c:DeleteObject><ObjectName>${obj}</ObjectName><ParameterKey>${key}</ParameterKey></c:DeleteObject>`,
  reboot: (key) => `<c:Reboot><CommandKey>${key}</CommandKey></c:Reboot>`,
  reset: () => '<c:FactoryReset/>',
  download: (key) => `<c:Download><CommandKey>${key}</CommandKey><FileType>1 Firmware Upgrade Image</FileType>` +
    '<URL>http://127.0.0.1:1/fw.bin</URL><Username></Username><Password></Password><FileSize>0</FileSize>' +
    '<TargetFileName></TargetFileName><DelaySeconds>0</DelaySeconds><SuccessURL></SuccessURL><FailureURL></FailureURL></c:Download>',
  methods: () => '<c:GetRPCMethods></c:GetRPCMethods>',
};

// The stand-in. o.auth: 'digest' | 'basic'; o.plan(session) -> list of ACS
// requests for the session; o.bad: 'id' | 'ns' | 'xml' | 'end200' | 'no-inform-response';
// o.beforeNext(session) runs before each ACS turn answer.
class Acs {
  constructor(o = {}) {
    this.o = { user: 'acs-user', pass: 'acs-pass', ...o };
    this.log = [];
    this.sessions = [];
    this.nonces = new Map();
  }

  async start() {
    this.server = http.createServer((q, r) => this.handle(q, r).catch((e) => { r.writeHead(500).end(); throw e; }));
    await new Promise((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${this.server.address().port}/acs`;
    return this;
  }

  stop() {
    this.server.closeAllConnections();
    return new Promise((r) => this.server.close(r));
  }

  authorized(req, res, entry) {
    const h = req.headers.authorization || '';
    const { auth, user, pass } = this.o;
    if (auth === 'basic') {
      entry.auth = h.split(' ')[0] || null;
      if (h === `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`) return true;
      res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="acs"', 'Content-Length': 0 }).end();
      return false;
    }
    if (auth !== 'digest') return true;
    const p = Object.fromEntries([...h.matchAll(/(\w+)=(?:"([^"]*)"|([^,\s]*))/g)].map((m) => [m[1], m[2] ?? m[3]]));
    entry.auth = h ? 'Digest' : null;
    entry.nc = p.nc;
    const n = this.nonces.get(p.nonce);
    const ha1 = md5(`${user}:acs:${pass}`);
    const want = md5(`${ha1}:${p.nonce}:${p.nc}:${p.cnonce}:auth:${md5(`POST:${req.url}`)}`);
    const good = h.startsWith('Digest ') && p.username === user && p.uri === req.url && p.qop === 'auth' && p.response === want && p.opaque === 'op1';
    let stale = false;
    if (good && n && parseInt(p.nc, 16) > n.nc) {
      n.nc = parseInt(p.nc, 16);
      if (!this.o.staleAfter || ++n.uses <= this.o.staleAfter) return true;
      stale = true;
    }
    const nonce = randomBytes(8).toString('hex');
    this.nonces.set(nonce, { nc: 0, uses: 0 });
    res.writeHead(401, { 'WWW-Authenticate': `Digest realm="acs", qop="auth,auth-int", nonce="${nonce}", opaque="op1", algorithm=MD5${stale ? ', stale=true' : ''}`, 'Content-Length': 0 }).end();
    return false;
  }

  async handle(req, res) {
    const parts = [];
    for await (const d of req) parts.push(d);
    const body = Buffer.concat(parts).toString('utf8');
    const entry = { headers: req.headers, body, port: req.socket.remotePort, method: null };
    this.log.push(entry);
    if (!this.authorized(req, res, entry)) return;
    const ns = /xmlns:cwmp="([^"]+)"/.exec(body)?.[1];
    const id = /<cwmp:ID[^>]*>([^<]*)</.exec(body)?.[1] ?? null;
    entry.method = body.trim() ? /<(?:[\w-]+:)?Body[^>]*>\s*<(?:[\w-]+:)?(\w+)/.exec(body)?.[1] : 'empty';
    const sid = /sid=(\w+)/.exec(req.headers.cookie || '')?.[1];
    let s = this.sessions.find((x) => x.sid === sid) ?? this.sessions.at(-1);
    entry.cookie = !!sid && sid === s?.sid;
    const send = (xml, headers = {}) => res.writeHead(200, { 'Content-Type': 'text/xml; charset="utf-8"', ...headers }).end(xml);
    const bad = this.o.bad;
    if (entry.method === 'Inform' && this.o.failInforms > 0) {
      this.o.failInforms--;
      return res.writeHead(503, { 'Retry-After': '1', 'Content-Length': 0 }).end();
    }
    if (entry.method === 'Inform') {
      s = { sid: randomBytes(6).toString('hex'), ns, events: [...body.matchAll(/<EventCode>([^<]*)</g)].map((m) => m[1]),
        keys: [...body.matchAll(/<CommandKey>([^<]*)</g)].map((m) => m[1]), retry: Number(/<RetryCount>(\d+)/.exec(body)?.[1]),
        answers: [], n: 0 };
      s.plan = this.o.plan ? this.o.plan(s, this.sessions.length) : [];
      this.sessions.push(s);
      if (bad === 'no-inform-response') return res.writeHead(204).end();
      if (bad === 'fault') {
        return send(envelope(ns, id, '<S:Fault><faultcode>Server</faultcode><faultstring>CWMP fault</faultstring><detail>' +
          '<c:Fault><FaultCode>8005</FaultCode><FaultString>Retry request</FaultString></c:Fault></detail></S:Fault>'));
      }
      const xml = envelope(bad === 'ns' ? 'urn:dslforum-org:cwmp-1-2' : ns, bad === 'id' ? 'other' : id,
        '<c:InformResponse><MaxEnvelopes>1</MaxEnvelopes></c:InformResponse>');
      return send(bad === 'xml' ? xml.replace('</S:Body>', '') : xml, { 'Set-Cookie': `sid=${s.sid}; Path=/; HttpOnly` });
    }
    if (entry.method === 'TransferComplete') {
      s.transfer = { key: /<CommandKey>([^<]*)</.exec(body)[1], fault: Number(/<FaultCode>(\d+)/.exec(body)[1]) };
      return send(envelope(ns, id, '<c:TransferCompleteResponse/>'));
    }
    if (entry.method === 'GetRPCMethods') {
      return send(envelope(ns, id, `<c:GetRPCMethodsResponse><MethodList>${strings(['Inform', 'TransferComplete'])}</MethodList></c:GetRPCMethodsResponse>`));
    }
    if (entry.method !== 'empty') s.answers.push({ method: entry.method, body, fault: Number(/<FaultCode>(\d+)/.exec(body)?.[1] ?? 0) });
    await this.o.beforeNext?.(s);
    const next = s.plan.shift();
    if (next) return send(envelope(s.ns, `acs-${++s.n}`, next));
    if (bad === 'end200') return res.writeHead(200, { 'Content-Length': 0 }).end();
    res.writeHead(204).end();
  }
}

async function withAcs(o, fn) {
  const acs = await new Acs(o).start();
  try {
    return await fn(acs);
  } finally {
    await acs.stop();
  }
}

const device = (serial) => ({ manufacturer: 'Self', oui: '00D09E', productClass: 'Test', serial });

test('Digest, cookies, keep-alive and the data model methods', () => withAcs({
  auth: 'digest',
  staleAfter: 6,
  plan: () => [
    rpc.gpv('Device.DeviceInfo.SoftwareVersion', 'Device.WiFi.SSID.1.'),
    rpc.gpn('Device.', 'true'),
    rpc.gpn('Device.WiFi.', 'false'),
    rpc.spv([['Device.WiFi.SSID.1.SSID', 'xsd:string', 'home &amp; away'], ['Device.ManagementServer.PeriodicInformInterval', 'xsd:unsignedInt', '600']], 'k1'),
    rpc.spv([['Device.WiFi.SSID.1.Enable', 'xsd:string', 'true']], 'k2'),
    rpc.spv([['Device.DeviceInfo.SoftwareVersion', 'xsd:string', 'x']], 'k3'),
    rpc.spv([['Device.No.Such', 'xsd:string', 'x']], 'k4'),
    rpc.spa('Device.WiFi.SSID.1.SSID', 2),
    rpc.gpa('Device.WiFi.SSID.1.'),
    rpc.add('Device.NAT.PortMapping.', 'k5'),
    rpc.add('Device.NAT.PortMapping.', 'k6'),
    rpc.del('Device.NAT.PortMapping.1.', 'k7'),
    rpc.gpv('Device.NAT.'),
    rpc.methods(),
    '<c:X_Vendor_Frobnicate/>',
    rpc.gpv('Device.Nope.'),
  ],
}, async (acs) => {
  const cpe = new Cpe({ acsUrl: acs.url, username: 'acs-user', password: 'acs-pass', deviceId: device('D1'), connReq: false, events: ['1 BOOT'] });
  const rec = await cpe.runSession();
  assert.equal(rec.outcome, 'done', rec.error);
  assert.deepEqual(rec.warnings, []);
  assert.equal(rec.connections, 1, 'one keep-alive connection for the whole session');
  assert.equal(rec.exchanges[0].response.status, 401);
  assert.match(rec.exchanges[1].request.headers.Authorization, /^Digest .*qop=auth, nc=00000001/);
  const ok = acs.log.filter((e) => e.auth === 'Digest' && e.method);
  const stale = acs.log.findIndex((e, i) => i > 1 && !e.method);
  assert.ok(stale > 0, 'the stand-in declared the nonce stale once');
  assert.deepEqual(ok.slice(0, 6).map((e) => e.nc), ['00000001', '00000002', '00000003', '00000004', '00000005', '00000006']);
  assert.equal(acs.log[stale + 1].nc, '00000001', 'a new nonce restarts nc');
  assert.ok(acs.log.slice(2).filter((e) => e.method).every((e) => e.cookie), 'the session cookie comes back on every later POST');
  const s = acs.sessions[0];
  assert.deepEqual(s.events, ['1 BOOT']);
  const a = s.answers.map((x) => `${x.method}${x.fault ? ` ${x.fault}` : ''}`);
  assert.deepEqual(a, ['GetParameterValuesResponse', 'GetParameterNamesResponse', 'GetParameterNamesResponse', 'SetParameterValuesResponse',
    'Fault 9003', 'Fault 9003', 'Fault 9003', 'SetParameterAttributesResponse', 'GetParameterAttributesResponse', 'AddObjectResponse',
    'AddObjectResponse', 'DeleteObjectResponse', 'GetParameterValuesResponse', 'GetRPCMethodsResponse', 'Fault 9000', 'Fault 9005']);
  assert.match(s.answers[0].body, /<Value xsi:type="xsd:string">1\.0\.0<\/Value>/);
  assert.match(s.answers[0].body, /ParameterValueStruct\[4\]/);
  assert.doesNotMatch(s.answers[1].body, /Device\.WiFi\.SSID\./, 'NextLevel true lists children only');
  assert.match(s.answers[1].body, /<Name>Device\.WiFi\.<\/Name>/);
  assert.match(s.answers[2].body, /<Name>Device\.WiFi\.SSID\.1\.Stats\.BytesSent<\/Name><Writable>0<\/Writable>/);
  assert.match(s.answers[4].body, /<SetParameterValuesFault><ParameterName>Device\.WiFi\.SSID\.1\.Enable<\/ParameterName><FaultCode>9006</);
  assert.match(s.answers[5].body, /<FaultCode>9008</);
  assert.match(s.answers[6].body, /<FaultCode>9005</);
  assert.match(s.answers[8].body, /<Name>Device\.WiFi\.SSID\.1\.SSID<\/Name><Notification>2</);
  assert.match(s.answers[9].body, /<InstanceNumber>1</);
  assert.match(s.answers[10].body, /<InstanceNumber>2</);
  assert.doesNotMatch(s.answers[12].body, /PortMapping\.1\./);
  assert.match(s.answers[12].body, /PortMapping\.2\.Enable/);
  assert.equal(cpe.model.get('Device.WiFi.SSID.1.SSID'), 'home & away');
  assert.equal(cpe.model.get('Device.WiFi.SSID.1.Enable'), 'true', 'a faulted SPV changes nothing');
  assert.equal(cpe.model.get('Device.ManagementServer.ParameterKey'), 'k7');
  assert.deepEqual(rec.acsRpcs.slice(0, 2), ['GetParameterValues', 'GetParameterNames']);
  assert.equal(rec.exchanges.at(-1).response.status, 204);
  await cpe.stop();
}));

test('Basic auth, chunked bodies, cwmp-1-4 and CPE requests', () => withAcs({ auth: 'basic', plan: () => [rpc.gpv('Device.Time.')] }, async (acs) => {
  const cpe = new Cpe({ acsUrl: acs.url, username: 'acs-user', password: 'acs-pass', deviceId: device('B1'), namespace: 'cwmp-1-4',
    quirks: { chunked: true, emptyPostVariant: 'chunked-empty' }, cpeRequests: ['GetRPCMethods'], connReq: false });
  const rec = await cpe.runSession();
  assert.equal(rec.outcome, 'done', rec.error);
  const posts = acs.log.filter((e) => e.method);
  assert.deepEqual(posts.map((e) => e.method), ['Inform', 'GetRPCMethods', 'empty', 'GetParameterValuesResponse']);
  assert.ok(posts.every((e) => e.headers['transfer-encoding'] === 'chunked' && !e.headers['content-length']));
  assert.ok(posts.every((e) => e.auth === 'Basic'));
  assert.equal(posts[2].body, '');
  assert.equal(posts[2].headers['content-type'], undefined, 'the empty POST has no Content-Type');
  assert.equal(acs.sessions[0].ns, 'urn:dslforum-org:cwmp-1-4');
  assert.deepEqual(rec.exchanges[2].response.methods, ['Inform', 'TransferComplete']);
  await cpe.stop();
}));

test('no cookies, a connection per request, a whitespace empty POST', () => withAcs({ plan: () => [rpc.gpv('Device.Time.NTPServer1')] }, async (acs) => {
  const cpe = new Cpe({ acsUrl: acs.url, deviceId: device('N1'), connReq: false,
    quirks: { noCookies: true, newConnectionPerRequest: true, emptyPostVariant: 'whitespace' } });
  const rec = await cpe.runSession();
  assert.equal(rec.outcome, 'done', rec.error);
  assert.equal(rec.connections, 3);
  assert.ok(acs.log.every((e) => !e.headers.cookie));
  assert.equal(acs.log[1].body, '\r\n');
  assert.equal(new Set(acs.log.map((e) => e.port)).size, 3);
  await cpe.stop();
}));

test('Reboot, FactoryReset and Download lead to their follow-up sessions', () => withAcs({
  plan: (s, n) => [[rpc.reboot('rb-1')], [rpc.download('dl-1')], [], [rpc.reset()], [], []][n] ?? [],
}, async (acs) => {
  const cpe = new Cpe({ acsUrl: acs.url, deviceId: device('R1'), connReq: false, rebootDelayMs: 10, downloadDelayMs: 10 });
  await cpe.runSession();
  await cpe.idle();
  const ev = acs.sessions.map((s) => s.events.join('+'));
  assert.deepEqual(ev, ['1 BOOT', '1 BOOT+M Reboot', '7 TRANSFER COMPLETE+M Download']);
  assert.equal(acs.sessions[1].keys[1], 'rb-1');
  assert.deepEqual(acs.sessions[2].transfer, { key: 'dl-1', fault: 0 });
  assert.ok(cpe.sessions.every((r) => r.outcome === 'done'));
  await cpe.runSession(['2 PERIODIC']);
  await cpe.idle();
  assert.deepEqual(acs.sessions.slice(3).map((s) => s.events.join('+')), ['2 PERIODIC', '0 BOOTSTRAP+1 BOOT']);
  await cpe.stop();
}));

test('download.reboot: a good Download boots the image (1 BOOT in the follow-up), a failed one does not', () => withAcs({
  plan: (s, n) => [[rpc.download('dl-r')], [], [rpc.download('dl-f')], []][n] ?? [],
}, async (acs) => {
  const cpe = new Cpe({ acsUrl: acs.url, deviceId: device('B1'), connReq: false, downloadDelayMs: 10,
    download: { reboot: true, newVersion: '2.0.0' } });
  await cpe.runSession();
  await cpe.idle();
  assert.equal(cpe.model.get('Device.DeviceInfo.SoftwareVersion'), '2.0.0');
  cpe.opts.download = { reboot: true, faultCode: 9010 };
  await cpe.runSession(['2 PERIODIC']);
  await cpe.idle();
  assert.deepEqual(acs.sessions.map((s) => s.events.join('+')),
    ['1 BOOT', '1 BOOT+7 TRANSFER COMPLETE+M Download', '2 PERIODIC', '7 TRANSFER COMPLETE+M Download']);
  assert.deepEqual(acs.sessions[3].transfer, { key: 'dl-f', fault: 9010 });
  await cpe.stop();
}));

test('a failed Download reports its FaultCode; fault injection; dropMidSession and RetryCount', () => withAcs({
  plan: (s, n) => [[rpc.download('dl-2'), rpc.gpv('Device.Time.')], [], [rpc.gpv('Device.Time.'), rpc.gpv('Device.Time.')], []][n] ?? [],
}, async (acs) => {
  const cpe = new Cpe({ acsUrl: acs.url, deviceId: device('F1'), connReq: false, downloadDelayMs: 10,
    download: { faultCode: 9010, faultString: 'Download failure' }, faults: { GetParameterValues: { code: 9002, string: 'Internal error' } } });
  await cpe.runSession();
  await cpe.idle();
  assert.deepEqual(acs.sessions[0].answers.map((a) => `${a.method} ${a.fault}`), ['DownloadResponse 0', 'Fault 9002']);
  assert.deepEqual(acs.sessions[1].transfer, { key: 'dl-2', fault: 9010 });
  cpe.opts.dropMidSession = 3; // Inform, empty POST, first GPV answer; the second GPV stays unanswered
  cpe.opts.faults = {};
  const dropped = await cpe.runSession(['2 PERIODIC']);
  assert.equal(dropped.outcome, 'dropped');
  assert.equal(acs.sessions[2].answers.length, 1);
  cpe.opts.dropMidSession = 0;
  const again = await cpe.runSession(['2 PERIODIC']);
  assert.equal(again.outcome, 'done');
  assert.equal(acs.sessions[3].retry, 1, 'RetryCount counts the failed session');
  await cpe.stop();
}));

test('an Inform answered 503 keeps its events for the next session, RetryCount + 1', () => withAcs({ failInforms: 1 }, async (acs) => {
  const cpe = new Cpe({ acsUrl: acs.url, deviceId: device('U1'), connReq: false, events: ['0 BOOTSTRAP', '1 BOOT'] });
  const first = await cpe.runSession();
  assert.equal(first.outcome, 'http-status');
  assert.match(first.error, /HTTP 503 \(Retry-After 1\)/);
  const second = await cpe.runSession(['1 BOOT']);
  assert.equal(second.outcome, 'done');
  assert.deepEqual(acs.sessions[0].events, ['0 BOOTSTRAP', '1 BOOT']);
  assert.equal(acs.sessions[0].retry, 1);
  const third = await cpe.runSession(['2 PERIODIC']);
  assert.equal(third.retryCount, 0);
  await cpe.stop();
}));

// A connection request client with its own Digest, as an ACS would do it.
async function connectionRequest(url, user, pass) {
  const get = (headers) => new Promise((resolve, reject) => http.get(url, { headers, agent: false }, (res) => {
    res.resume();
    res.on('end', () => resolve(res));
  }).on('error', reject));
  const first = await get({});
  if (first.statusCode !== 401) return first.statusCode;
  const c = Object.fromEntries([...first.headers['www-authenticate'].matchAll(/(\w+)="?([^",]*)"?/g)].map((m) => [m[1], m[2]]));
  const path = new URL(url).pathname;
  const cnonce = randomBytes(4).toString('hex');
  const resp = md5(`${md5(`${user}:${c.realm}:${pass}`)}:${c.nonce}:00000001:${cnonce}:auth:${md5(`GET:${path}`)}`);
  const auth = `Digest username="${user}", realm="${c.realm}", nonce="${c.nonce}", uri="${path}", qop=auth, nc=00000001, ` +
    `cnonce="${cnonce}", response="${resp}", opaque="${c.opaque}", algorithm=MD5`;
  return (await get({ Authorization: auth })).statusCode;
}

test('connection requests: Digest, wrong credentials, a second one while in session', async () => {
  let crDuringSession = null;
  let cpe;
  await withAcs({
    plan: (s, n) => (n === 1 ? [rpc.gpv('Device.ManagementServer.ConnectionRequestURL')] : []),
    beforeNext: async (s) => {
      if (s.answers.length === 1 && crDuringSession === null) crDuringSession = await connectionRequest(cpe.crUrl, 'cr-user', 'cr-pass');
    },
  }, async (acs) => {
    cpe = new Cpe({ acsUrl: acs.url, deviceId: device('C1'), connReq: { username: 'cr-user', password: 'cr-pass' } });
    await cpe.start();
    await cpe.runSession();
    assert.match(acs.log[0].body, new RegExp(`<Value xsi:type="xsd:string">${cpe.crUrl}</Value>`));
    assert.equal(await connectionRequest(cpe.crUrl, 'cr-user', 'wrong'), 401);
    assert.equal(await connectionRequest(cpe.crUrl.replace(/\/cr\/.*/, '/cr/guess'), 'cr-user', 'cr-pass'), 404);
    assert.equal(await connectionRequest(cpe.crUrl, 'cr-user', 'cr-pass'), 200);
    await cpe.idle();
    assert.equal(crDuringSession, 200);
    assert.deepEqual(acs.sessions.map((s) => s.events.join('+')), ['1 BOOT', '6 CONNECTION REQUEST']);
    const log = cpe.crLog.filter((e) => e.auth !== 'no credentials'); // each client first asks without credentials
    assert.deepEqual(log.map((e) => `${e.status} ${e.result}`), ['401 null', '404 null', '200 session', '200 ignored: already in session']);
    assert.equal(log[0].auth, 'wrong response (password)');
    await cpe.stop();
  });
});

test('periodic informs', () => withAcs({}, async (acs) => {
  const cpe = await new Cpe({ acsUrl: acs.url, deviceId: device('P1'), connReq: false, events: [], periodicInterval: 0.1 }).start();
  await new Promise((r) => setTimeout(r, 350));
  await cpe.stop();
  assert.ok(acs.sessions.length >= 2);
  assert.ok(acs.sessions.every((s) => s.events.join() === '2 PERIODIC'));
}));

for (const [bad, why] of [['id', /cwmp:ID "other"/], ['ns', /namespace urn:dslforum-org:cwmp-1-2/], ['xml', /malformed XML/],
  ['end200', /200 and an empty body/], ['no-inform-response', /HTTP 204 without InformResponse/]]) {
  test(`protocol violation: ${bad}`, () => withAcs({ bad }, async (acs) => {
    const cpe = new Cpe({ acsUrl: acs.url, deviceId: device('V1'), connReq: false });
    const rec = await cpe.runSession();
    assert.equal(rec.outcome, 'violation');
    assert.match(rec.error, why);
    assert.equal(cpe.retryCount, 1);
    await cpe.stop();
  }));
}

test('an ACS Fault instead of InformResponse fails the session without a violation', () => withAcs({ bad: 'fault' }, async (acs) => {
  const cpe = new Cpe({ acsUrl: acs.url, deviceId: device('AF1'), connReq: false });
  const rec = await cpe.runSession();
  assert.equal(rec.outcome, 'acs-fault');
  assert.match(rec.error, /Fault 8005 Retry request/);
  await cpe.stop();
}));

test('a value change on the CPE: active notification opens a 4 VALUE CHANGE session', () => withAcs({
  plan: (s, n) => (n === 0 ? [rpc.spa('Device.WiFi.SSID.1.SSID', 2)] : []),
}, async (acs) => {
  const cpe = new Cpe({ acsUrl: acs.url, deviceId: device('VC1'), connReq: false });
  await cpe.runSession();
  cpe.setValue('Device.WiFi.SSID.1.SSID', 'changed-locally');
  await cpe.idle();
  assert.deepEqual(acs.sessions[1].events, ['4 VALUE CHANGE']);
  assert.match(acs.log.filter((e) => e.method === 'Inform')[1].body, /<Name>Device\.WiFi\.SSID\.1\.SSID<\/Name><Value xsi:type="xsd:string">changed-locally</);
  await cpe.stop();
}));

const cli = (args) => new Promise((resolve) => execFile(process.execPath, [fileURLToPath(new URL('cpe.mjs', import.meta.url)), ...args],
  (err, stdout, stderr) => resolve({ code: err ? err.code : 0, lines: stdout.trim().split('\n').map((l) => JSON.parse(l)), stderr })));

test('CLI: one session as JSON lines, exit 2 on a violation', async () => {
  await withAcs({ plan: (s, n) => (n === 0 ? [rpc.reboot('cli-rb')] : []) }, async (acs) => {
    const r = await cli(['--acs', acs.url, '--serial', 'CLI1', '--events', '1 BOOT,M X_Test=abc', '--no-bodies', '--namespace', 'cwmp-1-2']);
    assert.equal(r.code, 0, r.stderr);
    const sessions = r.lines.filter((l) => l.type === 'session');
    assert.deepEqual(sessions.map((l) => l.events.map((e) => e.code).join('+')), ['1 BOOT+M X_Test', '1 BOOT+M Reboot']);
    assert.equal(sessions[0].events[1].commandKey, 'abc');
    assert.equal(r.lines[0].type, 'cpe');
    assert.equal(acs.sessions[0].ns, 'urn:dslforum-org:cwmp-1-2');
  });
  await withAcs({ bad: 'id' }, async (acs) => {
    const r = await cli(['--acs', acs.url, '--serial', 'CLI2']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /violation: InformResponse carries cwmp:ID/);
  });
});

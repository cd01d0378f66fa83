// acs-scenarios.mjs — several simulated CPEs (cpe.mjs) driven by commands,
// for shell integration tests of an ACS: one JSON command per line on
// stdin, exactly one JSON answer per line on stdout, in order. The CPEs
// live between commands (their connection-request listeners keep
// answering, their follow-up sessions run in the background), so a test
// can interleave CPE sessions with whatever it checks on the ACS side.
// Nothing here knows the ACS under test beyond TR-069 itself.
//
//   node acs-scenarios.mjs [--acs URL] [--key-file F] [--cr-key-file F]
//                          [--username-template T] [--cr-username-template T]
//
// Credentials: a CPE created without username (password) gets derived ones
// when --key-file is given (an explicit one wins): username = the template over the DeviceId
// (%o OUI, %p ProductClass, %s SerialNumber, %% a '%'; default %o-%s),
// password = the first 24 hex digits of HMAC-SHA256(key, username), the key
// being the file's bytes without trailing newlines. --cr-key-file does the
// same for the connection-request listener's credentials.
//
// Commands ({"cmd": ..., "name": CPE name, ...}); every answer has "ok":
//   new      {name, opts}: a Cpe with these options (acsUrl defaults to
//            --acs; "crCreds": "wrong" derives, then spoils, the listener's
//            password); starts it. Answer: username, crUrl, eid-less info.
//   session  {name, events?, set?}: opts in `set` are merged first (e.g.
//            dropMidSession, retryCount, faults, quirks); runs one session
//            and answers its record (compacted, see below) as "session".
//   idle     {name}: waits for follow-up sessions; answers the records of
//            the sessions since the last answered one as "sessions".
//   wait     {name, count, timeoutMs}: until the CPE has run `count`
//            sessions in all (e.g. one a connection request started) and
//            none is running; answers the new records as "sessions".
//   set      {name, opts}: merge options without running a session.
//   crlog    {name}: the connection requests the listener saw.
//   change   {name, path, value}: the value changes on the CPE (notifies
//            per its notification attribute).
//   stop     {name}; quit.
// A session record keeps the transcript with its XML bodies; the answer
// adds per exchange `setCookie` (the ACS set a cookie), `cookie` (the
// request carried one) and `retryAfter`.
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { Cpe } from './cpe.mjs';

const { values: argv } = parseArgs({
  options: {
    acs: { type: 'string' }, 'key-file': { type: 'string' }, 'cr-key-file': { type: 'string' },
    'username-template': { type: 'string' }, 'cr-username-template': { type: 'string' },
  },
});

const readKey = (f) => (f ? readFileSync(f).toString('latin1').replace(/[\r\n]+$/, '') : null);
const cpeKey = readKey(argv['key-file']);
const crKey = readKey(argv['cr-key-file']);

function username(template, id) {
  return template.replace(/%([opse%])/g, (_, c) => ({ o: id.oui, p: id.productClass, s: id.serial, '%': '%' })[c] ?? '');
}
const derive = (key, user) => createHmac('sha256', Buffer.from(key, 'latin1')).update(user).digest('hex').slice(0, 24);

const cpes = new Map(); // name -> {cpe, seen}

function compact(rec) {
  return {
    ...rec,
    exchanges: rec.exchanges.map((x) => ({
      ...x,
      cookie: !!x.request.headers.Cookie,
      setCookie: [].concat(x.response?.headers?.['set-cookie'] || []).join('; ') || null,
      retryAfter: x.response?.headers?.['retry-after'] ?? null,
    })),
  };
}

function newRecords(entry) {
  const out = entry.cpe.sessions.slice(entry.seen).map(compact);
  entry.seen = entry.cpe.sessions.length;
  return out;
}

function get(name) {
  const e = cpes.get(name);
  if (!e) throw new Error(`no CPE named ${name}`);
  return e;
}

const merge = (cpe, o = {}) => {
  for (const [k, v] of Object.entries(o)) {
    cpe.opts[k] = v && typeof v === 'object' && !Array.isArray(v) && typeof cpe.opts[k] === 'object' ? { ...cpe.opts[k], ...v } : v;
  }
};

const commands = {
  async new({ name, opts = {} }) {
    if (cpes.has(name)) throw new Error(`CPE ${name} exists`);
    const o = { acsUrl: argv.acs, recordBodies: true, ...opts };
    const id = { manufacturer: 'uspc-test', oui: '00D09E', productClass: 'cwmp-peer', serial: '0001', ...o.deviceId };
    if (o.username === undefined && cpeKey) o.username = username(argv['username-template'] ?? '%o-%s', id);
    if (o.password === undefined && cpeKey && o.username !== undefined) o.password = derive(cpeKey, o.username);
    if (o.connReq !== false && crKey && !(o.connReq && o.connReq.username)) {
      const u = username(argv['cr-username-template'] ?? '%o-%s', id);
      const spoil = o.crCreds === 'wrong';
      o.connReq = { ...o.connReq, username: u, password: spoil ? `x${derive(crKey, u)}` : derive(crKey, u) };
    }
    delete o.crCreds;
    const cpe = new Cpe(o);
    await cpe.start();
    cpes.set(name, { cpe, seen: 0 });
    return { username: o.username ?? null, crUrl: cpe.crUrl ?? null, namespace: cpe.ns };
  },

  async session({ name, events = [], set }) {
    const e = get(name);
    merge(e.cpe, set);
    const rec = await e.cpe.runSession(events);
    // A session before it in the queue (a follow-up) may have run first.
    const recs = newRecords(e);
    return { session: recs.find((r) => r.n === rec.n) ?? compact(rec), others: recs.filter((r) => r.n !== rec.n) };
  },

  async idle({ name }) {
    const e = get(name);
    await e.cpe.idle();
    return { sessions: newRecords(e) };
  },

  async wait({ name, count, timeoutMs = 20000 }) {
    const e = get(name);
    const end = Date.now() + timeoutMs;
    while ((e.cpe.sessions.length < count || e.cpe.active > 0) && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
    await e.cpe.idle();
    return { sessions: newRecords(e), timedOut: e.cpe.sessions.length < count };
  },

  async set({ name, opts }) {
    merge(get(name).cpe, opts);
    return {};
  },

  async crlog({ name }) {
    return { cr: get(name).cpe.crLog };
  },

  // A value changed on the CPE itself: per the parameter's notification
  // attribute, an active one opens a '4 VALUE CHANGE' session at once
  // (collect it with wait), a passive one waits for the next session.
  async change({ name, path, value }) {
    get(name).cpe.setValue(path, String(value));
    return {};
  },

  async stop({ name }) {
    const e = get(name);
    await e.cpe.stop();
    cpes.delete(name);
    return { sessions: newRecords(e) };
  },
};

const out = (obj) => process.stdout.write(JSON.stringify(obj) + '\n');

const rl = createInterface({ input: process.stdin, crlfDelay: Infinity });
for await (const line of rl) {
  if (!line.trim()) continue;
  let cmd;
  try {
    cmd = JSON.parse(line);
  } catch (e) {
    out({ ok: false, error: `not JSON: ${e.message}` });
    continue;
  }
  if (cmd.cmd === 'quit') {
    out({ ok: true });
    break;
  }
  try {
    const fn = commands[cmd.cmd];
    if (!fn) throw new Error(`unknown command ${cmd.cmd}`);
    out({ ok: true, cmd: cmd.cmd, name: cmd.name, ...(await fn(cmd)) });
  } catch (e) {
    out({ ok: false, cmd: cmd.cmd, name: cmd.name, error: e.message });
  }
}
await Promise.allSettled([...cpes.values()].map((e) => e.cpe.stop()));
process.exit(0);

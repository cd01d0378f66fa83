// Command line of the CWMP peer, for shell integration tests. Prints JSON
// lines on stdout (one per session, one per connection request) and exits
//   0  every session ended as expected (done, or dropped on purpose)
//   1  usage error, network error, timeout
//   2  a protocol violation by the ACS (the message is on stderr)
//   3  a session failed otherwise (401 not satisfied, ACS Fault, HTTP 503, ...)
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { Cpe } from './cpe.mjs';

const USAGE = `usage: node cpe.mjs --acs URL [options]
  --acs URL                 the ACS URL (required)
  --username U --password P CPE->ACS credentials (Basic or Digest, as challenged)
  --manufacturer M --oui OUI --product-class PC --serial S   DeviceId
  --namespace NS            cwmp-1-0 (default) .. cwmp-1-4, or the full URN
  --events LIST             events of the first session, comma separated,
                            "M Reboot=KEY" for a CommandKey (default "1 BOOT")
  --retry-count N           RetryCount of the first Inform
  --model FILE.json         parameters merged onto the default model
                            (path -> {value, type, writable}; null removes)
  --script FILE.json        any Cpe options as JSON (merged under the flags)
  --get-rpc-methods         send GetRPCMethods in the CPE's turn
  --fault METHOD=CODE[:TEXT] answer METHOD with that Fault (repeatable)
  --download-fault CODE     make Downloads complete with this FaultCode
  --drop-after N            destroy the connection after N HTTP exchanges
  --no-cookies --chunked --new-connection --no-partial-paths
  --root InternetGatewayDevice.   a TR-098 CPE (default Device.)
  --empty-post empty|chunked-empty|whitespace
  --cr-username U --cr-password P --cr-status 200|204   connection requests
  --periodic SECONDS        periodic informs (2 PERIODIC)
  --sessions N              run the first session N times (default 1)
  --serve SECONDS           stay up that long, answering connection requests
  --no-follow-ups           do not wait for Reboot/Download follow-up sessions
  --max-sessions N          no follow-up session past N sessions (default 50;
                            reaching it exits 3)
  --no-bodies               leave the XML bodies out of the transcript
  --timeout MS              per HTTP request (default 30000)`;

const flags = {
  acs: { type: 'string' }, username: { type: 'string' }, password: { type: 'string' },
  manufacturer: { type: 'string' }, oui: { type: 'string' }, 'product-class': { type: 'string' }, serial: { type: 'string' },
  namespace: { type: 'string' }, events: { type: 'string', multiple: true }, 'retry-count': { type: 'string' },
  model: { type: 'string' }, script: { type: 'string' }, 'get-rpc-methods': { type: 'boolean' },
  fault: { type: 'string', multiple: true }, 'download-fault': { type: 'string' }, 'drop-after': { type: 'string' },
  'no-cookies': { type: 'boolean' }, chunked: { type: 'boolean' }, 'new-connection': { type: 'boolean' },
  'no-partial-paths': { type: 'boolean' }, root: { type: 'string' },
  'empty-post': { type: 'string' }, 'cr-username': { type: 'string' }, 'cr-password': { type: 'string' },
  'cr-status': { type: 'string' }, periodic: { type: 'string' }, sessions: { type: 'string' }, serve: { type: 'string' },
  'no-follow-ups': { type: 'boolean' }, 'max-sessions': { type: 'string' }, 'no-bodies': { type: 'boolean' }, timeout: { type: 'string' }, help: { type: 'boolean' },
};

const readJson = (f) => JSON.parse(readFileSync(f, 'utf8'));
const num = (v) => (v === undefined ? undefined : Number(v));

function parseEvents(list) {
  return list.flatMap((s) => s.split(',')).map((s) => s.trim()).filter(Boolean).map((s) => {
    const eq = s.indexOf('=');
    return eq < 0 ? s : { code: s.slice(0, eq), commandKey: s.slice(eq + 1) };
  });
}

// Flags -> Cpe options (the --script file underneath, flags win).
export function options(v) {
  const o = v.script ? readJson(v.script) : {};
  const set = (k, val) => { if (val !== undefined) o[k] = val; };
  set('acsUrl', v.acs);
  set('username', v.username);
  set('password', v.password);
  set('namespace', v.namespace);
  set('retryCount', num(v['retry-count']));
  set('timeoutMs', num(v.timeout));
  set('dropMidSession', num(v['drop-after']));
  set('periodicInterval', num(v.periodic));
  o.maxSessions = num(v['max-sessions']) ?? o.maxSessions ?? 50;
  if (v.events) o.events = parseEvents(v.events);
  if (v.model) o.model = { ...o.model, ...readJson(v.model) };
  o.deviceId = { ...o.deviceId };
  for (const [flag, key] of [['manufacturer', 'manufacturer'], ['oui', 'oui'], ['product-class', 'productClass'], ['serial', 'serial']]) {
    if (v[flag] !== undefined) o.deviceId[key] = v[flag];
  }
  o.quirks = { ...o.quirks };
  if (v['no-cookies']) o.quirks.noCookies = true;
  if (v.chunked) o.quirks.chunked = true;
  if (v['new-connection']) o.quirks.newConnectionPerRequest = true;
  if (v['no-partial-paths']) o.quirks.noPartialPaths = true;
  if (v.root) o.root = v.root;
  if (v['empty-post']) o.quirks.emptyPostVariant = v['empty-post'];
  o.connReq = { ...o.connReq };
  if (v['cr-username'] !== undefined) o.connReq.username = v['cr-username'];
  if (v['cr-password'] !== undefined) o.connReq.password = v['cr-password'];
  if (v['cr-status']) o.connReq.status = Number(v['cr-status']);
  if (v['get-rpc-methods']) o.cpeRequests = [...new Set([...(o.cpeRequests || []), 'GetRPCMethods'])];
  o.faults = { ...o.faults };
  for (const f of v.fault || []) {
    const m = /^(\w+)=(\d+)(?::(.*))?$/.exec(f);
    if (!m) throw new Error(`--fault wants METHOD=CODE[:TEXT], got ${f}`);
    o.faults[m[1]] = { code: Number(m[2]), string: m[3] };
  }
  if (v['download-fault']) o.download = { ...o.download, faultCode: Number(v['download-fault']) };
  if (v['no-bodies']) o.recordBodies = false;
  return o;
}

const print = (obj) => process.stdout.write(JSON.stringify(obj) + '\n');
const exitCode = (rec) => (rec.outcome === 'violation' ? 2 : ['done', 'dropped'].includes(rec.outcome) ? 0 : rec.outcome === 'network' || rec.outcome === 'timeout' ? 1 : 3);

export async function main(argv) {
  let v;
  let opts;
  try {
    v = parseArgs({ args: argv, options: flags, strict: true }).values;
    if (v.help) return finish(0, USAGE);
    opts = options(v);
    if (!opts.acsUrl) throw new Error('--acs URL is required');
    new URL(opts.acsUrl);
  } catch (e) {
    return finish(1, `cwmp-peer: ${e.message}\n${USAGE}`);
  }
  const serve = num(v.serve);
  const cpe = new Cpe(opts);
  let worst = 0;
  cpe.on('session', (rec) => {
    print(rec);
    const code = exitCode(rec);
    if (code) process.stderr.write(`cwmp-peer: session ${rec.n} ${rec.outcome}: ${rec.error}\n`);
    worst = worst === 2 || code === 2 ? 2 : Math.max(worst, code);
  });
  cpe.on('cr', (entry) => print(entry));
  cpe.on('limit', (message) => {
    process.stderr.write(`cwmp-peer: ${message}\n`);
    if (worst !== 2) worst = 3;
  });
  await cpe.start();
  print({ type: 'cpe', serial: cpe.deviceId.serial, namespace: cpe.ns, connectionRequestURL: cpe.crUrl ?? null });
  const first = [...cpe.pending];
  for (let i = 0; i < (num(v.sessions) ?? 1); i++) {
    await cpe.runSession(i === 0 ? [] : first);
    if (!v['no-follow-ups']) await cpe.idle();
  }
  if (serve) await new Promise((r) => setTimeout(r, serve * 1000));
  await cpe.stop();
  return finish(worst);
}

function finish(code, message) {
  if (message) (code ? process.stderr : process.stdout).write(message + '\n');
  process.stdout.write('', () => process.exit(code));
  return code;
}

// console-test.mjs — the web console in a real browser (Debian's chromium,
// headless, through puppeteer-core) against a running uspc-api: sign in,
// the fleet's online count, a selector filter, an agent's page, a Get run
// from the page, an IPPing from the diagnostics panel, Refresh of the data
// model, the tasks, rejections, campaign and profile pages, a viewer's
// disabled Set button. It stops at the first step that does not hold, with a message saying which
// and why, and saves a 1366x900 PNG of each page into the artifact dir.
//
// Settings (flags win over the environment):
//   --url URL            USPC_CONSOLE_URL            the console, e.g. http://127.0.0.1:8480/
//   --token T            USPC_CONSOLE_TOKEN          an operator (or admin) token
//   --viewer-token T     USPC_CONSOLE_VIEWER_TOKEN   a viewer token
//   --agent EID          USPC_CONSOLE_AGENT          an online, onboarded agent
//   --online N           USPC_CONSOLE_ONLINE         agents online the fleet page must show
//   --rejected SENDER    USPC_CONSOLE_REJECTED       a sender with a rejections row
//   --get-path P         USPC_CONSOLE_GET_PATH       parameter the Get reads (default Device.DeviceInfo.ModelName)
//   --get-value V        USPC_CONSOLE_GET_VALUE      the value it must show (default: the inventory's model)
//   --artifacts DIR      USPC_CONSOLE_ARTIFACTS      screenshots (default ./console-artifacts)
//   --chromium PATH      USPC_CONSOLE_CHROMIUM       browser (default /usr/bin/chromium)
//   USPC_CONSOLE_DOCS=1  also write docs/img/console-<page>.png (for docs/console.md)
// Exit status: 0 all steps held, 1 a step failed, 2 usage.

import { mkdir } from 'node:fs/promises';
import { copyFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import puppeteer from 'puppeteer-core';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const DOCS_IMG = path.resolve(HERE, '../../docs/img');
const WIDTH = 1366;
const HEIGHT = 900;
const STEP_MS = 30000;

function settings() {
  const flags = {};
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i++) {
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(argv[i]);
    if (!m) usage('unexpected argument ' + argv[i]);
    flags[m[1]] = m[2] !== undefined ? m[2] : argv[++i];
  }
  const env = process.env;
  const s = {
    url: flags.url || env.USPC_CONSOLE_URL,
    token: flags.token || env.USPC_CONSOLE_TOKEN,
    viewerToken: flags['viewer-token'] || env.USPC_CONSOLE_VIEWER_TOKEN,
    agent: flags.agent || env.USPC_CONSOLE_AGENT,
    online: flags.online || env.USPC_CONSOLE_ONLINE,
    rejected: flags.rejected || env.USPC_CONSOLE_REJECTED,
    getPath: flags['get-path'] || env.USPC_CONSOLE_GET_PATH || 'Device.DeviceInfo.ModelName',
    getValue: flags['get-value'] || env.USPC_CONSOLE_GET_VALUE || '',
    artifacts: path.resolve(flags.artifacts || env.USPC_CONSOLE_ARTIFACTS || 'console-artifacts'),
    chromium: flags.chromium || env.USPC_CONSOLE_CHROMIUM || '/usr/bin/chromium',
    docs: env.USPC_CONSOLE_DOCS === '1',
  };
  for (const k of ['url', 'token', 'viewerToken', 'agent', 'rejected']) {
    if (!s[k]) usage('missing setting: ' + k);
  }
  if (!s.url.endsWith('/')) s.url += '/';
  return s;
}

function usage(msg) {
  console.error('console-test: ' + msg + '\n(see the top of console-test.mjs for the settings)');
  process.exit(2);
}

const S = settings();
let browser = null;
let page = null;
const streams = []; // URLs of the event streams the console opened, in order

// The query of the event stream the console opened last (it opens one per
// page that listens, asking only for what that page needs).
async function lastStream(pred, what) {
  const end = Date.now() + STEP_MS;
  for (;;) {
    const u = streams.length ? new URL(streams[streams.length - 1]) : null;
    if (u && pred(u.searchParams)) return u;
    if (Date.now() > end) fail(what + ' (last event stream: ' + (u ? u.search : 'none') + ')');
    await sleep(100);
  }
}
let current = '(start)';
const pageErrors = [];
const consoleLines = [];

function log(msg) {
  console.log('[console-test] ' + msg);
}

class StepFailure extends Error {}

function fail(msg) {
  throw new StepFailure(msg);
}

async function step(name, fn) {
  current = name;
  const t0 = Date.now();
  await fn();
  if (pageErrors.length) fail('uncaught error in the page: ' + pageErrors.join(' | '));
  log('ok: ' + name + ' (' + ((Date.now() - t0) / 1000).toFixed(1) + ' s)');
}

async function shot(name) {
  const file = path.join(S.artifacts, 'console-' + name + '.png');
  await page.screenshot({ path: file, fullPage: false });
  if (S.docs) copyFileSync(file, path.join(DOCS_IMG, 'console-' + name + '.png'));
  log('screenshot ' + file);
}

// waitText(selector, pred, what): until an element matching selector has
// text for which pred holds; fails with what and the text last seen.
async function waitText(selector, pred, what, timeout = STEP_MS) {
  const end = Date.now() + timeout;
  let last = null;
  for (;;) {
    last = await page.$$eval(selector, (els) => els.map((e) => e.textContent.trim())).catch(() => []);
    if (last.some(pred)) return last;
    const errs = await visibleErrors();
    if (errs.length) fail(what + ': the page shows an error: ' + errs.join(' | '));
    if (Date.now() > end) fail(what + ' (after ' + timeout / 1000 + ' s; ' + selector + ' showed ' + JSON.stringify(last.slice(0, 5)) + ')');
    await sleep(200);
  }
}

async function visibleErrors() {
  return page.$$eval('[data-test=error]', (els) => els.filter((e) => e.offsetParent !== null).map((e) => e.textContent.trim())).catch(() => []);
}

async function noErrors(what) {
  await sleep(300);
  const errs = await visibleErrors();
  if (errs.length) fail(what + ': the page shows an error: ' + errs.join(' | '));
}

function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

async function goHash(hash) {
  await page.evaluate((h) => { location.hash = h; }, hash);
}

async function typeInto(selector, text) {
  await page.waitForSelector(selector, { visible: true, timeout: STEP_MS });
  await page.$eval(selector, (e) => { e.value = ''; });
  await page.type(selector, text);
}

async function signIn(token, role) {
  await page.waitForSelector('#login-token', { visible: true, timeout: STEP_MS });
  await typeInto('#login-token', token);
  await page.click('#login-submit');
  await waitText('#who-role', (t) => t === role, 'signed in as ' + role + ': the top bar shows the role');
}

async function main() {
  await mkdir(S.artifacts, { recursive: true });
  if (S.docs) await mkdir(DOCS_IMG, { recursive: true });
  const args = ['--window-size=' + WIDTH + ',' + HEIGHT, '--disable-dev-shm-usage', '--hide-scrollbars', '--font-render-hinting=none'];
  if (process.getuid && process.getuid() === 0) args.push('--no-sandbox'); // root: chromium refuses its sandbox
  browser = await puppeteer.launch({ executablePath: S.chromium, headless: true, args });
  page = await browser.newPage();
  page.on('request', (r) => {
    if (r.url().includes('/api/v1/events')) streams.push(r.url());
  });
  await page.setViewport({ width: WIDTH, height: HEIGHT });
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.on('console', (m) => consoleLines.push(m.type() + ': ' + m.text()));
  page.on('dialog', (d) => d.dismiss());

  await step('the login page loads and refuses a bad token', async () => {
    const res = await page.goto(S.url, { waitUntil: 'load', timeout: STEP_MS });
    if (!res || !res.ok()) fail('GET ' + S.url + ' answered ' + (res ? res.status() : 'nothing'));
    await page.waitForSelector('#login-token', { visible: true, timeout: STEP_MS });
    await shot('login');
    await typeInto('#login-token', 'uspc_not_a_real_token');
    await page.click('#login-submit');
    await waitText('#login-message', (t) => /not accepted|401|unauthori/i.test(t), 'a bad token gets a message on the login page');
  });

  await step('sign in with the operator token', async () => {
    await signIn(S.token, (await whoamiRole(S.token)));
    const name = await page.$eval('#who-name', (e) => e.textContent.trim());
    if (!name) fail('the top bar shows no token name');
  });

  await step('the fleet page shows the online count', async () => {
    await goHash('#/fleet');
    const want = S.online === undefined ? null : String(S.online);
    await waitText('[data-test=online-count]', (t) => (want === null ? /^\d/.test(t) : t.replace(/[^\d]/g, '') === want),
      want === null ? 'the fleet page shows an online count' : 'the fleet page shows ' + want + ' agents online');
    await waitText('[data-test=versions] td', (t) => t.length > 0, 'the fleet page shows versions per model');
    await noErrors('fleet page');
    await lastStream((q) => (q.get('types') || '').split(',').sort().join() === 'campaign,notification' && !q.get('agent'),
      'the fleet page streams campaign and notification events, not every task result');
    await shot('fleet');
  });

  const glob = S.agent.slice(0, -1) + '?';
  await step('the selector filter leads to the agent list', async () => {
    await typeInto('[data-test=sel-eid]', glob);
    await page.select('[data-test=sel-online]', 'true');
    await page.click('[data-test=sel-submit]');
    await page.waitForFunction(() => location.hash.startsWith('#/agents'), { timeout: STEP_MS });
    const eids = await waitText('[data-test=agents] [data-test=agent-link]', (t) => t === S.agent, 'the filtered list shows ' + S.agent);
    const re = new RegExp('^' + glob.replace(/[.*+^${}()|[\]\\]/g, '\\$&').replace(/\?/g, '.') + '$');
    const strays = eids.filter((e) => !re.test(e));
    if (strays.length) fail('the list for eid=' + glob + ' also shows ' + strays.join(', '));
    const hash = await page.evaluate(() => location.hash);
    if (!hash.includes('online=true')) fail('the selector is not in the route: ' + hash);
    await shot('agents');
  });

  let getValue = S.getValue;
  await step('open the agent', async () => {
    const links = await page.$$('[data-test=agents] [data-test=agent-link]');
    let clicked = false;
    for (const l of links) {
      if ((await l.evaluate((e) => e.textContent.trim())) === S.agent) {
        await l.click();
        clicked = true;
        break;
      }
    }
    if (!clicked) fail('no link to ' + S.agent + ' in the list');
    await waitText('[data-test=agent-eid]', (t) => t.includes(S.agent), 'the agent page names ' + S.agent);
    const inv = await waitText('[data-test=inventory] td', (t) => t.length > 0, 'the inventory is shown');
    if (!getValue) {
      const i = inv.indexOf('Model');
      getValue = i >= 0 ? inv[i + 1] : '';
      if (!getValue) fail('the inventory shows no model to compare the Get with');
    }
    await waitText('[data-test=tree] summary, [data-test=tree] .empty', () => true, 'the data-model tree is shown');
    await noErrors('agent page');
    await shot('agent');
  });

  await step('a tag added from the page shows on the agent', async () => {
    await typeInto('[data-test=tags] input', 'console-beta');
    const buttons = await page.$$('[data-test=tags] button');
    let clicked = false;
    for (const b of buttons) {
      if ((await b.evaluate((e) => e.textContent.trim())) === 'Add tag') {
        await b.click();
        clicked = true;
        break;
      }
    }
    if (!clicked) fail('no "Add tag" button on the agent page');
    await waitText('[data-test=tags]', (t) => t.includes('console-beta'), 'the agent shows the tag console-beta');
    await noErrors('tagging');
  });

  await step('a Get from the page shows the value', async () => {
    await typeInto('[data-test=get-path]', S.getPath);
    await page.click('[data-test=get]');
    await waitText('[data-test=get-values] td', (t) => t === S.getPath, 'the Get result names ' + S.getPath);
    await waitText('[data-test=get-values] [data-test=value]', (t) => t === getValue, 'the Get result shows "' + getValue + '"');
    await waitText('[data-test=task-arrived] b', (t) => /\(get\) ended/.test(t), 'the event stream brings the end of the Get to the agent page');
    await lastStream((q) => q.get('agent') === S.agent && (q.get('types') || '').includes('task'),
      "the agent page streams this agent's events");
    await page.$eval('[data-test=action-result]', (e) => e.scrollIntoView({ block: 'center' }));
    await shot('agent-get');
  });

  await step('IPPing from the diagnostics panel shows its OperationComplete', async () => {
    await page.select('[data-test=diag-kind]', 'IPPing');
    await typeInto('[data-test=diag-host]', '192.0.2.1');
    await page.click('[data-test=diag-run]');
    await waitText('[data-test=diag-result] [data-test=value]', (t) => t === 'Complete', 'the IPPing result shows Status Complete', 90000);
    await page.$eval('[data-test=diagnostics]', (e) => e.scrollIntoView({ block: 'center' }));
    await shot('agent-diag');
  });

  await step('Refresh reads the data model and the tree shows the value', async () => {
    await page.$eval('[data-test=refresh]', (e) => e.scrollIntoView({ block: 'start' }));
    await page.click('[data-test=refresh]');
    await page.waitForFunction(() => !document.querySelector('[data-test=refresh]').disabled, { timeout: STEP_MS });
    await typeInto('[data-test=datamodel] input[type=search]', S.getPath);
    await waitText('[data-test=tree] .param .pval', (t) => t === getValue, 'the tree shows ' + S.getPath + ' = "' + getValue + '"');
    await noErrors('data model');
    await page.$eval('[data-test=datamodel] input[type=search]', (e) => { e.value = ''; e.dispatchEvent(new Event('input')); });
    await page.$eval('[data-test=datamodel]', (e) => e.scrollIntoView({ block: 'start' }));
    await shot('agent-tree');
  });

  await step('the tasks page lists the Get', async () => {
    await goHash('#/tasks?agent=' + encodeURIComponent(S.agent));
    await waitText('[data-test=tasks] td', (t) => t === 'get', 'the tasks page shows a get task of ' + S.agent);
    const rows = await page.$$('[data-test=tasks] tbody tr');
    await rows[0].click();
    await waitText('[data-test=task-detail] h3', (t) => t === 'Request', 'a task shows its request');
    await noErrors('tasks page');
    await shot('tasks');
  });

  await step('the rejections page shows the bad record', async () => {
    await goHash('#/rejections');
    await typeInto('[data-test=rej-sender]', S.rejected);
    await page.click('[data-test=rej-search]');
    await page.waitForFunction(() => location.hash.includes('sender='), { timeout: STEP_MS });
    await waitText('[data-test=rejections] [data-test=rej-sender-cell]', (t) => t === S.rejected, 'a rejections row for ' + S.rejected);
    await noErrors('rejections page');
    await shot('rejections');
  });

  await step('the campaigns and profiles pages load', async () => {
    for (const [hash, name, sel] of [['#/campaigns', 'campaigns', '[data-test=campaigns] a'], ['#/profiles', 'profiles', '[data-test=profiles] a']]) {
      await goHash(hash);
      await page.waitForSelector('[data-page=' + name + '] .card .empty, ' + sel, { timeout: STEP_MS });
      await noErrors(name + ' page');
      await shot(name);
      const first = await page.$(sel);
      if (first) {
        await first.click();
        await page.waitForSelector('.stat, .bar.big, [data-test=error]', { timeout: STEP_MS });
        await noErrors(name + ': the first one');
        await shot(name.replace(/s$/, ''));
      }
    }
  });

  await step('a viewer sees Set disabled', async () => {
    await page.click('#logout');
    await page.waitForSelector('#login-token', { visible: true, timeout: STEP_MS });
    await signIn(S.viewerToken, 'viewer');
    await goHash('#/agent/' + S.agent);
    await page.waitForSelector('[data-test=set]', { timeout: STEP_MS });
    await waitText('[data-test=inventory] td', (t) => t.length > 0, 'the viewer sees the inventory');
    const set = await page.$eval('[data-test=set]', (e) => ({ disabled: e.disabled, title: e.title }));
    if (!set.disabled) fail('the Set button is enabled for a viewer');
    if (!/operator/.test(set.title)) fail('the disabled Set button has no tooltip naming the role: "' + set.title + '"');
    for (const b of ['get', 'reboot', 'refresh', 'diag-run']) {
      if (!(await page.$eval('[data-test=' + b + ']', (e) => e.disabled))) fail('the ' + b + ' button is enabled for a viewer');
    }
    await shot('agent-viewer');
  });
}

async function whoamiRole(token) {
  const res = await fetch(new URL('api/v1/whoami', S.url), { headers: { Authorization: 'Bearer ' + token } });
  if (!res.ok) fail('GET api/v1/whoami with the operator token answered ' + res.status + ': ' + (await res.text()).slice(0, 300));
  const who = await res.json();
  if (who.role !== 'operator' && who.role !== 'admin') fail('the operator token has role ' + who.role);
  return who.role;
}

let rc = 0;
try {
  await main();
  log('all steps passed; screenshots in ' + S.artifacts);
} catch (e) {
  rc = 1;
  console.error('[console-test] FAIL at step "' + current + '": ' + (e instanceof StepFailure ? e.message : e && e.stack ? e.stack : e));
  if (consoleLines.length) console.error('[console-test] browser console (last 20):\n  ' + consoleLines.slice(-20).join('\n  '));
  if (page) {
    try {
      console.error('[console-test] page: ' + page.url());
      await page.screenshot({ path: path.join(S.artifacts, 'console-FAILED.png') });
      console.error('[console-test] screenshot of the failure: ' + path.join(S.artifacts, 'console-FAILED.png'));
    } catch (_) { /* the browser is gone */ }
  }
} finally {
  if (browser) await browser.close().catch(() => {});
}
process.exit(rc);

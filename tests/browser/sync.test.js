// sync.test.js: Sync apps in a real browser. Twilio's twilio-sync 4.0.1 browser bundle,
// unmodified, in Debian's headless Chromium (harness.js), on a page served from another origin
// than syncfake-server. Two browser contexts (two users, each its own tab and sessionStorage).
//
// One scenario, in order (each step a test; a failed step fails the ones after it):
// connect both, open/create a stream by name; REST and peer publishes (isLocal); a drop rule on
// one subscriber; an expired token (denied); setTtl + clock advance -> removed; a page reload
// (the tab's descriptor cache is reused); a server restart with the same flags and port (the
// tab's cache of the old run must not hand out dead SIDs); a reset. The page itself mints its
// tokens and moves the clock, adds and removes faults and resets the fake through the control
// API (CORS). The pages' consoles stay free of errors throughout.
//
//   SYNCFAKE_SERVER=build/syncfake-server node --test tests/browser/
'use strict';

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const h = require('./harness');

const SEED = '21';
const QUIET_MS = 500; // how long "nothing more arrives" is watched

let browser = null;
let pageServer = null;
let srv = null;
let port = 0;
let serviceSid = null;
const consoleErrors = [];
const tabs = {}; // name -> page

const serverArgs = () => ['--port', String(port), '--clock', 'manual', '--seed', SEED];

async function newTab(name) {
  const context = await browser.newContext();
  const page = await context.newPage();
  h.watchConsole(page, consoleErrors, name);
  tabs[name] = page;
  await load(page);
  return page;
}

// (Re)loads the page and tells it where the fake is.
async function load(page) {
  await page.goto(pageServer.origin + '/', { timeout: h.WAIT_MS });
  await page.evaluate((c) => window.sf.configure(c), { fake: srv.base, auth: srv.auth, serviceSid });
}

// Runs fn(arg) in a tab; fails after 2 x WAIT_MS (an SDK promise may never settle).
function inTab(name, fn, arg) {
  let timer;
  const limit = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${name}: no answer within ${2 * h.WAIT_MS} ms`)), 2 * h.WAIT_MS);
  });
  return Promise.race([tabs[name].evaluate(fn, arg), limit]).finally(() => clearTimeout(timer));
}
const seen = (name, stream) => inTab(name, (s) => window.sf.seen(s), stream);
const restPublish = (stream, data) =>
  h.call(srv, 'POST', `/v1/Services/${serviceSid}/Streams/${stream}/Messages`, { Data: JSON.stringify(data) });
const restSidOf = async (stream) => (await h.call(srv, 'GET', `/v1/Services/${serviceSid}/Streams/${stream}`)).sid;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function newService() {
  serviceSid = (await h.call(srv, 'POST', '/v1/Services', { FriendlyName: 'browser' })).sid;
}

before(async () => {
  port = await h.freePort();
  srv = await h.startServer(serverArgs());
  pageServer = await h.servePage(path.join(__dirname, 'page'));
  assert.notEqual(new URL(pageServer.origin).port, String(port), 'the page is on another origin than the fake');
  browser = await h.launchBrowser();
  await newService();
  await newTab('alice');
  await newTab('bob');
});

after(async () => {
  if (browser) await browser.close();
  if (pageServer) await pageServer.close();
  if (srv) await srv.stop();
});

test('two contexts connect; one opens a stream by name (creating it), the other by the same name', async () => {
  assert.equal(await inTab('alice', () => window.sf.connect('alice')), 'connected');
  assert.equal(await inTab('bob', () => window.sf.connect('bob')), 'connected');
  const a = await inTab('alice', () => window.sf.open('room'));
  const b = await inTab('bob', () => window.sf.open('room'));
  assert.match(a, /^TO[0-9a-f]{32}$/);
  assert.equal(b, a);
  assert.equal(await restSidOf('room'), a, 'the SDK stream is the REST stream');
});

test('REST and peer publishes reach both tabs; a tab sees its own publish once, as local', async () => {
  await restPublish('room', { n: 1 });
  await inTab('alice', () => window.sf.publish('room', { n: 2 }));
  for (const who of ['alice', 'bob']) await h.until(async () => (await seen(who, 'room')).messages.length >= 2, `${who}: 2 messages`);
  await sleep(QUIET_MS);
  assert.deepEqual((await seen('alice', 'room')).messages, [{ data: { n: 1 }, isLocal: false }, { data: { n: 2 }, isLocal: true }]);
  assert.deepEqual((await seen('bob', 'room')).messages, [{ data: { n: 1 }, isLocal: false }, { data: { n: 2 }, isLocal: false }]);
});

test('a drop rule on one subscriber, added and removed from the page, drops only its deliveries', async () => {
  const sid = await restSidOf('room');
  const journal = await inTab('alice', () => window.sf.control('GET', '/_syncfake/journal'));
  const subs = journal.split('\n').filter(Boolean).map((l) => JSON.parse(l))
    .filter((e) => e.kind === 'subscribed' && e.stream_sid === sid).map((e) => e.subscriber_id);
  assert.equal(subs.length, 2, `two subscribers: ${subs}`);
  const bobId = subs[1]; // bob subscribed second
  const rule = await inTab('alice', (t) => window.sf.control('POST', '/_syncfake/faults',
    { Scope: 'subscriber', Target: t, DropRate: '1' }), String(bobId));
  await restPublish('room', { n: 3 });
  await h.until(async () => (await seen('alice', 'room')).messages.length === 3, 'alice: message 3');
  await sleep(QUIET_MS);
  assert.equal((await seen('bob', 'room')).messages.length, 2, 'bob: message 3 dropped');
  await inTab('alice', (id) => window.sf.control('DELETE', `/_syncfake/faults/${id}`), rule.id);
  await restPublish('room', { n: 4 });
  await h.until(async () => (await seen('bob', 'room')).messages.length === 3, 'bob: message 4');
  assert.deepEqual((await seen('bob', 'room')).messages[2], { data: { n: 4 }, isLocal: false });
});

test('a token expired on the fake clock (moved from the page) is denied', async () => {
  await newTab('carol');
  const token = await inTab('carol', () => window.sf.mint('carol', 60));
  await inTab('carol', () => window.sf.control('POST', '/_syncfake/clock', { AdvanceMs: '61000' }));
  await inTab('carol', (t) => window.sf.start(t), token);
  await h.until(async () => (await inTab('carol', () => window.sf.state())) === 'denied', 'carol: denied');
  const { states, tokenExpired } = await inTab('carol', () => window.sf.states());
  assert.ok(!states.includes('connected'), JSON.stringify(states));
  assert.equal(tokenExpired, 1);
  await inTab('carol', () => window.sf.shutdown());
  assert.equal(await inTab('alice', () => window.sf.state()), 'connected', 'alice is unaffected');
});

test('setTtl, then the clock advanced from the page: both tabs see removed', async () => {
  await inTab('alice', () => window.sf.setTtl('room', 60));
  const clock = await inTab('bob', () => window.sf.control('POST', '/_syncfake/clock', { AdvanceMs: '61000' }));
  assert.equal(clock.instance_id, srv.banner.instance_id);
  for (const who of ['alice', 'bob']) await h.until(async () => (await seen(who, 'room')).removed === 1, `${who}: removed`);
});

test('a page reload keeps the tab cache, and opening by name still finds the live stream', async () => {
  const sid = await inTab('alice', () => window.sf.open('hall'));
  assert.ok(await inTab('alice', () => window.sf.cacheSize()) > 0, 'the SDK cached descriptors in sessionStorage');
  await load(tabs.alice);
  assert.ok(await inTab('alice', () => window.sf.cacheSize()) > 0, 'sessionStorage survived the reload');
  await inTab('alice', () => window.sf.connect('alice'));
  assert.equal(await inTab('alice', () => window.sf.open('hall')), sid);
  await restPublish('hall', { n: 5 });
  await h.until(async () => (await seen('alice', 'hall')).messages.length === 1, 'alice: message 5 after reload');
});

test('a server restart with the same flags: the tab cache of the old run hands out no dead SIDs', async () => {
  const before = { sid: await restSidOf('hall'), service: serviceSid, instance: srv.banner.instance_id };
  for (const who of ['alice', 'bob']) await inTab(who, () => window.sf.shutdown());
  await srv.stop();
  srv = await h.startServer(serverArgs());
  await newService();
  // the same seed gives the same account and service: only the instance id tells the runs apart
  assert.equal(serviceSid, before.service);
  assert.notEqual(srv.banner.instance_id, before.instance);
  await load(tabs.alice); // the same tab: its sessionStorage still holds the old run's cache
  assert.ok(await inTab('alice', () => window.sf.cacheSize()) > 0);
  await inTab('alice', () => window.sf.connect('alice'));
  const sid = await inTab('alice', () => window.sf.open('hall')); // throws if the SDK used a dead SID
  assert.equal(sid, await restSidOf('hall'), 'opened the stream of this run');
  await restPublish('hall', { n: 6 });
  await h.until(async () => (await seen('alice', 'hall')).messages.length === 1, 'alice: message 6 after restart');
  assert.equal((await seen('alice', 'hall')).removed, 0);
  assert.ok(before.sid, 'the old run had the stream');
});

test('POST /_syncfake/reset from the page: a fresh fake, and the tab opens streams of it', async () => {
  await inTab('alice', () => window.sf.shutdown());
  await inTab('alice', () => window.sf.control('POST', '/_syncfake/reset'));
  await newService();
  await load(tabs.alice);
  await inTab('alice', () => window.sf.connect('alice'));
  const sid = await inTab('alice', () => window.sf.open('hall'));
  assert.equal(sid, await restSidOf('hall'));
  await inTab('alice', () => window.sf.shutdown());
});

test('the consoles of every tab stayed free of errors', () => {
  assert.deepEqual(consoleErrors, []);
});

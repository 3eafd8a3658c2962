// sdk.test.js: Twilio's unmodified client SDK (twilio-sync 4.0.1, over twilsock 1.0.2) against
// syncfake-server's Twilsock endpoint /v3/wsconnect, on the same fake state as REST.
//
// A fresh server for every test (`--port 0 --clock manual`, a fixed API key) and a new Sync
// service in it. Access tokens are minted with the official helper library
// (twilio 6.3.1, AccessToken + SyncGrant) with Date.now stubbed to the fake clock, since the
// server checks iat/exp against its own (manual) clock.
//
// Every wait is bounded; each test has a hard timeout, and every SDK client a test made is shut
// down after it. When a test fails, the Twilsock frames both ways (tapped on the `ws` package the
// SDK uses in Node), the SDK's own debug log and the REST calls of that test are written to stderr
// (the last lines) and to a file in the temporary directory. SDK_LOG=1 prints them live.
//
//   SYNCFAKE_SERVER=build/syncfake-server node --test tests/sdk/
'use strict';

const { test, before, after, beforeEach, afterEach } = require('node:test');
const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');
const { performance } = require('node:perf_hooks');
const util = require('node:util');

// ---- a per-test log: SDK debug output, Twilsock frames, REST calls ----

const LIVE = process.env.SDK_LOG === '1';
const LOG_MAX = 4000;
let logLines = [];

function note(line) {
  const s = `${(performance.now() / 1000).toFixed(3)} ${line}`;
  logLines.push(s);
  if (logLines.length > LOG_MAX) logLines.splice(0, logLines.length - LOG_MAX);
  if (LIVE) process.stderr.write(s + '\n');
}

// The SDK logs through `loglevel`, which binds console methods when a level is set: replace them
// before twilio-sync is loaded so that its output lands in the test's log.
function show(a) {
  if (typeof a === 'string') return a;
  // socket errors come as ws ErrorEvents holding the whole request: keep their message only
  if (a && typeof a === 'object' && typeof a.message === 'string') return `${a.constructor && a.constructor.name}: ${a.message}`;
  if (a && typeof a === 'object' && typeof a.code === 'number' && 'reason' in a) return `CloseEvent code=${a.code} reason=${a.reason}`;
  return util.inspect(a, { depth: 3, breakLength: Infinity }).replace(/\n\s*/g, ' ');
}
for (const m of ['log', 'debug', 'info', 'warn', 'error', 'trace']) {
  console[m] = (...args) => {
    const s = args.map(show).join(' ');
    note(`[sdk ${m}] ` + (s.length > 1500 ? s.slice(0, 1500) + `... (${s.length} chars)` : s));
  };
}

// ---- the frame tap: the `ws` package that twilsock uses in Node (no global WebSocket in 20) ----

const WebSocket = require('ws');
const liveClients = new Set(); // {name, client}

function socketName(sock) {
  for (const c of liveClients) {
    try {
      if (c.client.services.twilsock.channel.websocket.socket === sock) return c.name;
    } catch (e) {
      // not wired yet
    }
  }
  if (!sock.__sfName) sock.__sfName = `ws?${Math.random().toString(36).slice(2, 6)}`;
  return sock.__sfName;
}

function frameText(data) {
  let s;
  if (typeof data === 'string') s = data;
  else if (data instanceof ArrayBuffer) s = Buffer.from(data).toString('utf8');
  else if (ArrayBuffer.isView(data)) s = Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8');
  else if (Array.isArray(data)) s = Buffer.concat(data).toString('utf8');
  else s = String(data);
  s = s.replace(/\r\n/g, '\\r\\n');
  return s.length > 1500 ? s.slice(0, 1500) + `... (${s.length} chars)` : s;
}

const framesIn = []; // every frame the SDK clients received, for assertions on the wire
const realSend = WebSocket.prototype.send;
WebSocket.prototype.send = function (data, ...rest) {
  note(`${socketName(this)} >> ${frameText(data)}`);
  return realSend.call(this, data, ...rest);
};
const realEmit = WebSocket.prototype.emit;
WebSocket.prototype.emit = function (event, ...args) {
  if (event === 'message') {
    framesIn.push({ who: socketName(this), text: frameText(args[0]) });
    note(`${socketName(this)} << ${args[1] === false ? '[TEXT frame] ' : ''}${frameText(args[0])}`);
  } else if (event === 'open') {
    note(`${socketName(this)} open ${this.url}`);
  } else if (event === 'close') {
    note(`${socketName(this)} close code=${args[0]} reason=${args[1] ? String(args[1]) : ''}`);
  } else if (event === 'error') {
    note(`${socketName(this)} error ${args[0] && args[0].message}`);
  }
  return realEmit.call(this, event, ...args);
};

const { SyncClient } = require('twilio-sync');
const twilio = require('twilio');

const { AccessToken } = twilio.jwt;
const { SyncGrant } = AccessToken;

// ---- the server ----

const ROOT = path.resolve(__dirname, '..', '..');
const SERVER = process.env.SYNCFAKE_SERVER || path.join(ROOT, 'build', 'syncfake-server');
const ACCOUNT_SID = 'AC' + '5ca1ab1e'.repeat(4);
const AUTH_TOKEN = 'sdk-test-auth-token';
const KEY_SID = 'SK' + '0123456789abcdef'.repeat(2);
const KEY_SECRET = 'sdk-test-api-key-secret';
const FAKE_EPOCH_MS = Date.UTC(2015, 6, 30, 20, 0, 0); // --clock manual starts here

const TEST_TIMEOUT_MS = Number(process.env.SDK_TEST_TIMEOUT_MS || 45000);
const WAIT_MS = Number(process.env.SDK_WAIT_MS || 10000); // one awaited thing
const QUIET_MS = 400; // how long "nothing more arrives" is watched

let server = null; // {proc, base, port, out}

function startServer() {
  return new Promise((resolve, reject) => {
    if (!fs.existsSync(SERVER)) {
      reject(new Error(`no server binary at ${SERVER} (set SYNCFAKE_SERVER or build build/syncfake-server)`));
      return;
    }
    const args = ['--port', '0', '--clock', 'manual', '--account-sid', ACCOUNT_SID, '--auth-token', AUTH_TOKEN,
      '--api-key', `${KEY_SID}:${KEY_SECRET}:${ACCOUNT_SID}`];
    const proc = spawn(SERVER, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`server did not start within 10 s:\n${out}${err}`));
    }, 10000);
    proc.stdout.on('data', (d) => {
      out += d;
      const m = /listening on (http:\/\/[^\s]+)/.exec(out);
      if (m && /^auth_token /m.test(out)) {
        clearTimeout(timer);
        const base = m[1].replace(/\/+$/, '');
        resolve({ proc, base, port: Number(new URL(base).port), out, stderr: () => err });
      }
    });
    proc.stderr.on('data', (d) => {
      err += d;
      note(`[server stderr] ${String(d).trimEnd()}`);
    });
    proc.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    proc.on('exit', (code, sig) => {
      note(`[server] exited code=${code} signal=${sig}`);
      clearTimeout(timer);
      reject(new Error(`server exited (code ${code}, signal ${sig}) before listening:\n${out}${err}`));
    });
  });
}

// Stops the server with SIGTERM. Rejects unless it exits by itself with status 0 and printed no
// sanitizer report: a crash, a data race or a hang at stop fails the test that ran on it.
function stopServer() {
  if (!server) return Promise.resolve();
  const { proc, stderr } = server;
  server = null;
  const judge = (code, signal, killed) => {
    if (killed) return new Error('the server did not stop within 5 s of SIGTERM');
    if (code !== 0) return new Error(`the server ended with code ${code}, signal ${signal}:\n${stderr()}`);
    if (/Sanitizer|runtime error/.test(stderr())) return new Error(`the server reported:\n${stderr()}`);
    return null;
  };
  if (proc.exitCode !== null || proc.signalCode !== null) {
    const e = judge(proc.exitCode, proc.signalCode, false);
    return e ? Promise.reject(e) : Promise.resolve();
  }
  return new Promise((resolve, reject) => {
    let killed = false;
    const kill = setTimeout(() => {
      killed = true;
      proc.kill('SIGKILL');
    }, 5000);
    proc.once('exit', (code, signal) => {
      clearTimeout(kill);
      const e = judge(code, signal, killed);
      if (e) reject(e);
      else resolve();
    });
    proc.kill('SIGTERM');
  });
}

// ---- plain HTTP: REST and /_syncfake ----

const basicAuth = 'Basic ' + Buffer.from(`${ACCOUNT_SID}:${AUTH_TOKEN}`).toString('base64');

function request(method, p, form) {
  const body = form ? new URLSearchParams(form).toString() : null;
  const headers = { Authorization: basicAuth, Accept: 'application/json' };
  if (body !== null) {
    headers['Content-Type'] = 'application/x-www-form-urlencoded';
    headers['Content-Length'] = Buffer.byteLength(body);
  }
  return new Promise((resolve, reject) => {
    const req = http.request(server.base + p, { method, headers, timeout: WAIT_MS }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json = null;
        try {
          json = text ? JSON.parse(text) : null;
        } catch (e) {
          // ndjson or not JSON
        }
        const shown = p.startsWith('/_syncfake/journal') ? `(${text.length} bytes)` : text.slice(0, 300);
        note(`[http] ${method} ${p}${body ? ' ' + body : ''} -> ${res.statusCode} ${shown}`);
        resolve({ status: res.statusCode, text, json });
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${p}: no answer within ${WAIT_MS} ms`)));
    req.on('error', reject);
    if (body !== null) req.write(body);
    req.end();
  });
}

async function ok(method, p, form) {
  const r = await request(method, p, form);
  assert.ok(r.status >= 200 && r.status < 300, `${method} ${p} -> ${r.status} ${r.text}`);
  return r;
}

async function fakeNowMs() {
  return (await ok('GET', '/_syncfake/clock')).json.now_ms;
}

async function advanceClock(ms) {
  return (await ok('POST', '/_syncfake/clock', { AdvanceMs: String(ms) })).json;
}

async function journal() {
  const r = await ok('GET', '/_syncfake/journal');
  return r.text.split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l));
}

async function restCreateStream(serviceSid, form) {
  const r = await ok('POST', `/v1/Services/${serviceSid}/Streams`, form || {});
  return r.json;
}

async function restPublish(serviceSid, stream, data) {
  const r = await ok('POST', `/v1/Services/${serviceSid}/Streams/${encodeURIComponent(stream)}/Messages`,
    { Data: JSON.stringify(data) });
  return r.json;
}

// ---- tokens: the official AccessToken, with its clock on the fake's ----

function mintAt(nowMs, { identity = 'alice', ttl = 3600, serviceSid, secret = KEY_SECRET } = {}) {
  const realNow = Date.now;
  Date.now = () => nowMs; // AccessToken and jsonwebtoken read Date.now for jti/iat/exp
  try {
    const token = new AccessToken(ACCOUNT_SID, KEY_SID, secret, { identity, ttl });
    token.addGrant(new SyncGrant({ serviceSid }));
    return token.toJwt();
  } finally {
    Date.now = realNow;
  }
}

async function mint(opts) {
  return mintAt(await fakeNowMs(), opts);
}

function jwtPayload(token) {
  return JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8'));
}

// ---- SDK clients ----

let ctx = null; // per test: {serviceSid, clients: [{name, client, events}]}

function newClient(name, token, extra = {}) {
  const events = { states: [], errors: [], tokenExpired: 0, tokenAboutToExpire: 0 };
  const client = new SyncClient(token, {
    twilsock: { uri: `ws://127.0.0.1:${server.port}/v3/wsconnect` },
    cdsUri: `http://127.0.0.1:${server.port}`,
    logLevel: 'debug',
    ...extra,
  });
  const entry = { name, client, events };
  liveClients.add(entry);
  ctx.clients.push(entry);
  client.on('connectionStateChanged', (s) => {
    events.states.push(s);
    note(`[${name}] connectionStateChanged ${s}`);
  });
  client.on('connectionError', (e) => {
    events.errors.push(e);
    note(`[${name}] connectionError ${JSON.stringify(e)}`);
  });
  client.on('tokenExpired', () => {
    events.tokenExpired++;
    note(`[${name}] tokenExpired`);
  });
  client.on('tokenAboutToExpire', () => {
    events.tokenAboutToExpire++;
    note(`[${name}] tokenAboutToExpire`);
  });
  note(`[${name}] created (token exp ${new Date(jwtPayload(token).exp * 1000).toISOString()})`);
  return entry;
}

async function shutdownClient(entry) {
  const { name, client } = entry;
  let timer;
  try {
    await Promise.race([
      client.shutdown(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error('shutdown timed out')), 5000);
      }),
    ]);
    note(`[${name}] shut down`);
  } catch (e) {
    note(`[${name}] shutdown: ${e.message}; terminating its socket`);
    try {
      const sock = client.services.twilsock.channel.websocket.socket;
      if (sock && sock.terminate) sock.terminate();
    } catch (e2) {
      // nothing left to close
    }
  } finally {
    clearTimeout(timer);
    liveClients.delete(entry);
  }
}

// Resolves with the promise's value, or rejects after ms with `what` in the message.
function within(promise, ms, what) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: nothing within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Polls cond() every 10 ms until it is truthy (returns its value) or ms have passed.
async function until(cond, what, ms = WAIT_MS) {
  const end = performance.now() + ms;
  for (;;) {
    const v = await cond();
    if (v) return v;
    if (performance.now() > end) throw new Error(`${what}: not within ${ms} ms`);
    await sleep(10);
  }
}

// client.stream() resolves before the subscription is established: wait for it.
async function established(stream, who) {
  const impl = stream.syncStreamImpl;
  await until(() => {
    if (impl.subscriptionState === 'failed') throw new Error(`${who}: subscription failed`);
    return impl.subscriptionState === 'established';
  }, `${who}: subscription of ${stream.sid} established (state now ${impl.subscriptionState})`);
  note(`[${who}] subscription of ${stream.sid} established`);
}

// Records a stream's events.
function record(stream, who) {
  const rec = { messages: [], removed: [] };
  stream.on('messagePublished', (args) => {
    note(`[${who}] messagePublished ${JSON.stringify(args)}`);
    rec.messages.push(args);
  });
  stream.on('removed', (args) => {
    note(`[${who}] removed ${JSON.stringify(args)}`);
    rec.removed.push(args);
  });
  return rec;
}

async function openStream(entry, arg, who) {
  const s = await within(entry.client.stream(arg), WAIT_MS, `${who}: client.stream(${JSON.stringify(arg)})`);
  note(`[${who}] opened ${s.sid} (${s.uniqueName}) dateExpires=${s.dateExpires}`);
  return s;
}

// Two clients on one stream: A by `aArg` (a unique name creates it), then B by its SID. Waits
// for both subscriptions. The journal's `subscribed` entries give each its subscriber id.
async function openPair(aArg) {
  const token = await mint({ serviceSid: ctx.serviceSid });
  const A = newClient('A', token);
  const sa = await openStream(A, aArg, 'A');
  const ra = record(sa, 'A');
  await established(sa, 'A');
  const B = newClient('B', await mint({ identity: 'bob', serviceSid: ctx.serviceSid }));
  const sb = await openStream(B, sa.sid, 'B');
  const rb = record(sb, 'B');
  await established(sb, 'B');
  return { A, B, sa, sb, ra, rb };
}

const SID = (prefix) => new RegExp(`^${prefix}[0-9a-f]{32}$`);

// ---- the suite ----

// A fresh server for every test: nothing a test leaves behind (sessions, timers, keys) can reach
// the next one. (POST /_syncfake/reset has its own test below.)
before(() => {
  if (!fs.existsSync(SERVER)) throw new Error(`no server binary at ${SERVER} (set SYNCFAKE_SERVER or build build/syncfake-server)`);
});

after(async () => {
  for (const entry of [...liveClients]) await shutdownClient(entry);
  await stopServer();
  // A leaked SDK timer or socket must not keep this file alive (unref: fires only then).
  setTimeout(() => {
    process.stderr.write('sdk.test.js: handles still open after the suite; exiting\n');
    process.exit();
  }, 3000).unref();
});

beforeEach(async () => {
  logLines = [];
  ctx = { serviceSid: null, clients: [] };
  server = await startServer();
  note(`[server] ${server.base} (${SERVER})`);
  const svc = (await ok('POST', '/v1/Services', { FriendlyName: 'sdk-tests' })).json;
  ctx.serviceSid = svc.sid;
});

afterEach(async () => {
  for (const entry of ctx.clients) await shutdownClient(entry);
  await stopServer();
});

let failureLogs = 0;

// A test with a hard timeout whose log is kept when it fails.
function scenario(name, fn) {
  test(name, { timeout: TEST_TIMEOUT_MS }, async (t) => {
    try {
      await fn(t);
    } catch (e) {
      const file = path.join(os.tmpdir(), `syncfake-sdk-${process.pid}-${++failureLogs}.log`);
      try {
        fs.writeFileSync(file, `# ${name}\n# ${e && e.stack}\n${logLines.join('\n')}\n`);
      } catch (e2) {
        // still report below
      }
      const tail = logLines.slice(-80).join('\n');
      process.stderr.write(`\n----- ${name}: FAILED (${e && e.message})\n----- last lines of its log (all in ${file}):\n${tail}\n-----\n`);
      throw e;
    }
  });
}

scenario('two SDK clients open one stream: by unique name (creating it) and by SID', async () => {
  const { sa, sb } = await openPair('sdk-pair');
  assert.match(sa.sid, SID('TO'));
  assert.equal(sa.uniqueName, 'sdk-pair');
  assert.equal(sb.sid, sa.sid);
  assert.equal(sb.uniqueName, 'sdk-pair');

  // The same fake state as REST.
  const byName = await ok('GET', `/v1/Services/${ctx.serviceSid}/Streams/sdk-pair`);
  assert.equal(byName.json.sid, sa.sid);
  const subs = (await journal()).filter((e) => e.kind === 'subscribed' && e.stream_sid === sa.sid);
  const ids = [...new Set(subs.map((e) => e.subscriber_id))];
  assert.equal(ids.length, 2, `two subscribers in the journal: ${JSON.stringify(subs)}`);

  // init was answered with an offline storage id for data_sync, as Twilio does: no warning.
  assert.ok(logLines.some((l) => /Offline storage for 'data_sync' product: \{"storage_id":"[0-9a-f]{40}"\}/.test(l)),
    'the SDK took the offline storage id');
  assert.ok(!logLines.some((l) => l.includes('No offline storage id')), 'no "No offline storage id" warning');
});

scenario('a stream created over REST: both clients receive REST publishes (sid, data, isLocal false)', async () => {
  const made = await restCreateStream(ctx.serviceSid, { UniqueName: 'rest-made' });
  const { sa, sb, ra, rb } = await openPair('rest-made');
  assert.equal(sa.sid, made.sid, 'opening by unique name found the REST stream, not a new one');

  const sent = [];
  for (let i = 1; i <= 3; i++) sent.push(await restPublish(ctx.serviceSid, i === 2 ? made.sid : 'rest-made', { seq: i, note: 'héllo ✓' }));
  for (const [who, rec] of [['A', ra], ['B', rb]]) {
    await until(() => rec.messages.length >= sent.length, `${who}: ${sent.length} messages`);
    await sleep(QUIET_MS);
    assert.deepEqual(rec.messages, sent.map((m) => ({ message: { sid: m.sid, data: m.data }, isLocal: false })),
      `${who}: the REST messages, in order, once each`);
    assert.deepEqual(rec.removed, []);
  }
  assert.equal(sb.sid, sa.sid);
});

scenario('a message published by one client reaches the other (isLocal false), not echoed to the publisher', async () => {
  const { sa, ra, rb } = await openPair('chat');
  const mine = await within(sa.publishMessage({ from: 'A', n: 1 }), WAIT_MS, 'A: publishMessage');
  assert.match(mine.sid, SID('TZ'));
  assert.deepEqual(mine.data, { from: 'A', n: 1 });

  await until(() => rb.messages.length >= 1, 'B: the message from A');
  assert.deepEqual(rb.messages[0], { message: { sid: mine.sid, data: { from: 'A', n: 1 } }, isLocal: false });

  // A barrier: once a later REST message has reached A, any echo of A's own would have too.
  const barrier = await restPublish(ctx.serviceSid, 'chat', { barrier: true });
  await until(() => ra.messages.length >= 2 && rb.messages.length >= 2, 'the REST barrier at A and B');
  await sleep(QUIET_MS);
  assert.deepEqual(ra.messages, [
    { message: { sid: mine.sid, data: { from: 'A', n: 1 } }, isLocal: true },
    { message: { sid: barrier.sid, data: { barrier: true } }, isLocal: false },
  ], 'A: its own message once (local), then the REST one');
  assert.equal(rb.messages.length, 2);

  // The message is in the fake's state: the journal has its publish.
  const j = await journal();
  assert.ok(j.some((e) => e.kind === 'api' && e.op === 'message.create' && e.message_sid === mine.sid && e.status === 201),
    'journal: message.create for the SDK publish');
});

scenario('setTtl updates dateExpires on the fake clock (and REST agrees)', async () => {
  const { sa } = await openPair('ttl-me');
  assert.ok(!sa.dateExpires, `no dateExpires before setTtl: ${sa.dateExpires}`);
  await advanceClock(5000);
  const now = await fakeNowMs();
  await within(sa.setTtl(3600), WAIT_MS, 'A: setTtl(3600)');
  assert.ok(sa.dateExpires, `dateExpires set: ${sa.dateExpires}`);
  assert.equal(new Date(sa.dateExpires).getTime(), now + 3600 * 1000, `dateExpires ${sa.dateExpires}`);
  const rest = await ok('GET', `/v1/Services/${ctx.serviceSid}/Streams/${sa.sid}`);
  assert.equal(new Date(rest.json.date_expires).getTime(), now + 3600 * 1000, `REST date_expires ${rest.json.date_expires}`);
});

scenario('a TTL running out on the fake clock fires removed on every client', async () => {
  const { sa, ra, rb } = await openPair('short-lived');
  await within(sa.setTtl(60), WAIT_MS, 'A: setTtl(60)');
  await advanceClock(59999);
  await sleep(QUIET_MS);
  assert.deepEqual([ra.removed, rb.removed], [[], []], 'nothing 1 ms before');
  await advanceClock(1);
  await until(() => ra.removed.length && rb.removed.length, 'removed at A and B');
  assert.deepEqual(ra.removed, [{ isLocal: false }]);
  assert.deepEqual(rb.removed, [{ isLocal: false }]);
  assert.equal((await request('GET', `/v1/Services/${ctx.serviceSid}/Streams/${sa.sid}`)).status, 404);
});

scenario('removeStream fires removed on every client (isLocal true at the remover)', async () => {
  const { sa, ra, rb } = await openPair('doomed');
  await within(sa.removeStream(), WAIT_MS, 'A: removeStream()');
  await until(() => ra.removed.length && rb.removed.length, 'removed at A and B');
  await sleep(QUIET_MS);
  assert.deepEqual(ra.removed, [{ isLocal: true }]);
  assert.deepEqual(rb.removed, [{ isLocal: false }]);
  assert.equal((await request('GET', `/v1/Services/${ctx.serviceSid}/Streams/${sa.sid}`)).status, 404);
});

scenario('REST delete fires removed on every client', async () => {
  const { sa, ra, rb } = await openPair('deleted-over-rest');
  await ok('DELETE', `/v1/Services/${ctx.serviceSid}/Streams/${sa.sid}`);
  await until(() => ra.removed.length && rb.removed.length, 'removed at A and B');
  await sleep(QUIET_MS);
  assert.deepEqual(ra.removed, [{ isLocal: false }]);
  assert.deepEqual(rb.removed, [{ isLocal: false }]);
});

scenario("open_existing of an unknown stream rejects with 404 (by name and by SID)", async () => {
  const A = newClient('A', await mint({ serviceSid: ctx.serviceSid }));
  for (const id of ['no-such-stream', 'TO' + '0'.repeat(32)]) {
    let caught = null;
    try {
      await within(A.client.stream({ id, mode: 'open_existing' }), WAIT_MS, `A: open_existing ${id}`);
    } catch (e) {
      caught = e;
    }
    assert.ok(caught, `open_existing ${id} resolved`);
    assert.equal(caught.status, 404, `open_existing ${id}: ${caught && caught.message}`);
  }
  const made = (await journal()).filter((e) => e.kind === 'api' && e.op === 'stream.create');
  assert.deepEqual(made, [], 'open_existing created nothing');
});

scenario('a drop rule on one SDK subscriber drops only its deliveries, and the journal names them', async () => {
  const token = await mint({ serviceSid: ctx.serviceSid });
  const A = newClient('A', token);
  const sa = await openStream(A, 'lossy', 'A');
  const ra = record(sa, 'A');
  await established(sa, 'A');
  const subsAfterA = (await journal()).filter((e) => e.kind === 'subscribed' && e.stream_sid === sa.sid);
  assert.ok(subsAfterA.length >= 1, 'journal: A subscribed');
  const idA = subsAfterA[0].subscriber_id;

  const B = newClient('B', await mint({ identity: 'bob', serviceSid: ctx.serviceSid }));
  const sb = await openStream(B, sa.sid, 'B');
  const rb = record(sb, 'B');
  await established(sb, 'B');
  const subs = (await journal()).filter((e) => e.kind === 'subscribed' && e.stream_sid === sa.sid);
  const idB = subs.map((e) => e.subscriber_id).find((id) => id !== idA);
  assert.ok(idB, `journal: B subscribed: ${JSON.stringify(subs)}`);

  const rule = (await ok('POST', '/_syncfake/faults', { Scope: 'subscriber', Target: String(idA), DropRate: '1' })).json;
  assert.ok(rule && rule.id, `the rule has an id: ${JSON.stringify(rule)}`);

  const m1 = await restPublish(ctx.serviceSid, 'lossy', { n: 1 });
  // (the SDK may raise a local event before a remote one that reached its socket first: keep
  // the order deterministic by publishing m2 only once m1 is in at B)
  await until(() => rb.messages.length >= 1, 'B: the REST message');
  const m2 = await within(sb.publishMessage({ n: 2, from: 'B' }), WAIT_MS, 'B: publishMessage');
  await until(() => rb.messages.length >= 2, 'B: both messages');
  await sleep(QUIET_MS);
  assert.deepEqual(ra.messages, [], 'A (the dropped subscriber) got nothing');
  assert.deepEqual(rb.messages, [
    { message: { sid: m1.sid, data: { n: 1 } }, isLocal: false },
    { message: { sid: m2.sid, data: { n: 2, from: 'B' } }, isLocal: true },
  ]);

  const j = await journal();
  const dropped = j.filter((e) => e.kind === 'dropped');
  assert.deepEqual(dropped.map((e) => [e.subscriber_id, e.message_sid, e.rule]),
    [[idA, m1.sid, rule.id], [idA, m2.sid, rule.id]], `journal dropped entries: ${JSON.stringify(dropped)}`);
  const deliveredToB = j.filter((e) => e.kind === 'delivered' && e.subscriber_id === idB).map((e) => e.message_sid);
  assert.ok(deliveredToB.includes(m1.sid), `journal: m1 delivered to B: ${JSON.stringify(deliveredToB)}`);
  assert.ok(!j.some((e) => e.kind === 'delivered' && e.subscriber_id === idA), 'journal: nothing delivered to A');

  // The rule gone, A gets what is published next.
  await ok('DELETE', `/_syncfake/faults/${rule.id}`);
  const m3 = await restPublish(ctx.serviceSid, sa.sid, { n: 3 });
  await until(() => ra.messages.length >= 1, 'A: the message after the rule was removed');
  assert.deepEqual(ra.messages, [{ message: { sid: m3.sid, data: { n: 3 } }, isLocal: false }]);
});

// Waits until a client refused at init has settled, and returns what it saw.
async function refusedClient(name, token) {
  const entry = newClient(name, token);
  const ev = entry.events;
  await until(() => ev.errors.length || ev.tokenExpired, `${name}: connectionError or tokenExpired`);
  await until(() => entry.client.connectionState === 'denied', `${name}: connectionState 'denied' (now '${entry.client.connectionState}')`);
  await sleep(QUIET_MS);
  assert.ok(!ev.states.includes('connected'), `${name}: never connected: ${JSON.stringify(ev.states)}`);
  assert.equal(entry.client.connectionState, 'denied');
  const subscribed = (await journal()).filter((e) => e.kind === 'subscribed');
  assert.deepEqual(subscribed, [], 'no subscriber was made');
  return entry;
}

scenario('an expired token is refused', async () => {
  const now = await fakeNowMs();
  const token = mintAt(now - 2 * 3600 * 1000, { serviceSid: ctx.serviceSid, ttl: 3600 }); // expired an hour ago
  assert.ok(jwtPayload(token).exp * 1000 < now);
  const { events } = await refusedClient('expired', token);
  // 4.0.1: a 401 init reply gives a terminal connectionError (and tokenExpired when its
  // status.errorCode is 20104).
  const err = events.errors.find((e) => e.httpStatusCode === 401);
  assert.ok(err || events.tokenExpired, `a 401 connectionError or tokenExpired: ${JSON.stringify(events)}`);
  // What 4.0.1 does with the fake's init reply {code: 401, errorCode: 20104}: both, once.
  assert.equal(events.tokenExpired, 1, 'tokenExpired');
  assert.deepEqual([err.terminal, err.errorCode], [true, 20104], JSON.stringify(err));
});

scenario('a tampered token (one character of the signature flipped) is refused', async () => {
  const good = await mint({ serviceSid: ctx.serviceSid });
  const [h, p, sig] = good.split('.');
  // A middle character: the last one of an HS256 signature carries padding bits.
  const i = 10;
  const flipped = sig.slice(0, i) + (sig[i] === 'A' ? 'B' : 'A') + sig.slice(i + 1);
  const { events } = await refusedClient('tampered', `${h}.${p}.${flipped}`);
  const err = events.errors.find((e) => e.httpStatusCode === 401);
  assert.ok(err, `a 401 connectionError: ${JSON.stringify(events.errors)}`);
  assert.deepEqual([err.terminal, err.errorCode], [true, 20101], JSON.stringify(err));
  assert.equal(events.tokenExpired, 0, 'not reported as expired');
});

scenario('a token expiring on the fake clock ends the session: close 410, tokenExpired, disconnected', async () => {
  const token = await mint({ serviceSid: ctx.serviceSid, ttl: 600 });
  const A = newClient('A', token);
  const sa = await openStream(A, 'until-expiry', 'A');
  const ra = record(sa, 'A');
  await established(sa, 'A');
  assert.equal(A.client.connectionState, 'connected');

  await advanceClock(599 * 1000);
  await sleep(QUIET_MS);
  assert.equal(A.events.tokenExpired, 0, 'not yet expired 1 s before exp');
  assert.equal(A.client.connectionState, 'connected');
  // The fake announces the expiry (client_update token_about_to_expire) before it.
  assert.ok(A.events.tokenAboutToExpire >= 1, 'tokenAboutToExpire before expiry');

  await advanceClock(1000);
  await until(() => A.events.tokenExpired, 'A: tokenExpired');
  // (the getter can read 'disconnected' a moment before the event: wait for the event)
  await until(() => A.events.states[A.events.states.length - 1] === 'disconnected',
    `A: connectionStateChanged 'disconnected' (states ${JSON.stringify(A.events.states)})`);
  assert.equal(A.client.connectionState, 'disconnected');
  // 4.0.1 on `close` 410: connected -> waitSocketClosed ('disconnecting') -> 'disconnected'.
  const tail = A.events.states.slice(A.events.states.lastIndexOf('connected') + 1);
  assert.deepEqual(tail, ['disconnecting', 'disconnected'], `states after connected: ${JSON.stringify(A.events.states)}`);

  // It stays down: no reconnect, and what is published now does not reach it.
  await restPublish(ctx.serviceSid, sa.sid, { after: 'expiry' });
  await sleep(1000);
  assert.equal(A.client.connectionState, 'disconnected');
  assert.deepEqual(ra.messages, []);
});

scenario('POST /_syncfake/tokens mints a token the SDK connects with (skipped when absent)', async (t) => {
  const r = await request('POST', '/_syncfake/tokens', { Identity: 'carol', ServiceSid: ctx.serviceSid, Ttl: '600' });
  if (r.status === 404) {
    t.skip('POST /_syncfake/tokens is not offered');
    return;
  }
  assert.ok(r.status === 200 || r.status === 201, `POST /_syncfake/tokens -> ${r.status} ${r.text}`);
  // Signed with a new API key of the account (its secret is not told).
  const h = r.json.token.split('.')[0];
  assert.deepEqual(JSON.parse(Buffer.from(h, 'base64url').toString('utf8')), { alg: 'HS256', typ: 'JWT', cty: 'twilio-fpa;v=1' });
  const claims = jwtPayload(r.json.token);
  assert.match(r.json.api_key_sid, SID('SK'));
  assert.equal(claims.iss, r.json.api_key_sid);
  assert.equal(claims.sub, ACCOUNT_SID);
  const now = await fakeNowMs();
  assert.equal(claims.iat * 1000, now, 'iat on the fake clock');
  assert.equal(claims.exp - claims.iat, 600);
  assert.equal(claims.grants.identity, 'carol');
  assert.equal(claims.grants.data_sync.service_sid, ctx.serviceSid);
  const C = newClient('C', r.json.token);
  const sc = await openStream(C, 'from-fake-token', 'C');
  const rc = record(sc, 'C');
  await established(sc, 'C');
  const m = await restPublish(ctx.serviceSid, sc.sid, { hi: 'carol' });
  await until(() => rc.messages.length, 'C: the REST message');
  assert.deepEqual(rc.messages, [{ message: { sid: m.sid, data: { hi: 'carol' } }, isLocal: false }]);
});

scenario('POST /_syncfake/reset keeps the --api-key: its tokens still connect afterwards', async () => {
  await ok('POST', '/_syncfake/reset');
  const svc = (await ok('POST', '/v1/Services', { FriendlyName: 'after-reset' })).json;
  const A = newClient('A', await mint({ serviceSid: svc.sid }));
  await until(() => A.client.connectionState === 'connected' || A.client.connectionState === 'denied',
    `A: connected or denied (now '${A.client.connectionState}')`);
  assert.equal(A.client.connectionState, 'connected', `after reset: ${JSON.stringify(A.events.errors)}`);
  const sa = await openStream(A, 'after-reset', 'A');
  await established(sa, 'A');
});

// ---- the client API's own vocabulary (not REST v1's) ----

// Frames received since `from` (an index into framesIn) whose text matches `re`.
function framesSince(from, re) {
  return framesIn.slice(from).filter((f) => re.test(f.text)).map((f) => f.text);
}

scenario('client API not found: 404/54250 "Stream not found" by SID, 404/54300 "Unique name not found" by name', async () => {
  const A = newClient('A', await mint({ serviceSid: ctx.serviceSid }));
  const made = (await restCreateStream(ctx.serviceSid, {}));
  await ok('DELETE', `/v1/Services/${ctx.serviceSid}/Streams/${made.sid}`);
  const cases = [
    [made.sid, 54250, 'Stream not found'],
    ['TO' + '0'.repeat(32), 54250, 'Stream not found'],
    ['TO111', 54300, 'Unique name not found'],
    ['no-such-stream', 54300, 'Unique name not found'],
  ];
  for (const [id, code, message] of cases) {
    let caught = null;
    try {
      await within(A.client.stream({ id, mode: 'open_existing' }), WAIT_MS, `A: open_existing ${id}`);
    } catch (e) {
      caught = e;
    }
    assert.ok(caught, `open_existing ${id} resolved`);
    // (twilio-sync 4.0.1's SyncError adds " (status: S, code: C)" to the server's message)
    assert.deepEqual([caught.status, caught.code, caught.message], [404, code, `${message} (status: 404, code: ${code})`],
      `open_existing ${id}`);
  }
  const wire = framesSince(0, /\/Services\/IS[0-9a-f]{32}\/Streams.* was not found/);
  assert.deepEqual(wire, [], 'no REST v1 not-found body on the client API');
});

scenario('54302 over the SDK: Twilio\'s message; names outside [A-Z]{2}[a-f0-9]{32} are names', async () => {
  const A = newClient('A', await mint({ serviceSid: ctx.serviceSid }));
  const first = await openStream(A, 'a-first', 'A');
  let caught = null;
  try {
    await within(A.client.stream({ id: first.sid.replace(/^TO/, 'XY'), mode: 'create_new' }), WAIT_MS, 'A: create XY...');
  } catch (e) {
    caught = e;
  }
  assert.ok(caught, 'a SID-shaped unique name was accepted');
  assert.deepEqual([caught.status, caught.code, caught.message], [400, 54302,
    'Invalid unique name. Expected a string with length 1-320 not matching the SID pattern [A-Z]{2}[a-f0-9]{32}' +
    ' (status: 400, code: 54302)']);
  for (const name of ['to' + '0123456789abcdef'.repeat(2), 'TO' + '0123456789ABCDEF'.repeat(2)]) {
    const s = await openStream(A, name, 'A');
    assert.equal(s.uniqueName, name);
    const byRest = (await ok('GET', `/v1/Services/${ctx.serviceSid}/Streams/${name}`)).json;
    assert.equal(byRest.sid, s.sid, `REST finds ${name} by name`);
  }
});

scenario('a bad token\'s init reply: status UNAUTHORIZED, description, errorCode 20101', async () => {
  const from = framesIn.length;
  const good = await mint({ serviceSid: ctx.serviceSid });
  const [h, p, sig] = good.split('.');
  await refusedClient('tampered', `${h}.${p}.${sig[10] === 'A' ? sig.slice(0, 10) + 'B' + sig.slice(11) : sig.slice(0, 10) + 'A' + sig.slice(11)}`);
  const replies = framesSince(from, /"method":"reply"/);
  assert.ok(replies.some((t) => t.includes('"status":{"code":401,"status":"UNAUTHORIZED","description":"Invalid Access Token","errorCode":20101}')),
    `init reply: ${JSON.stringify(replies)}`);
});

scenario('token expiry on the fake clock: close 410 TOKEN_EXPIRED, errorCode 51207, "Token expired"', async () => {
  const A = newClient('A', await mint({ serviceSid: ctx.serviceSid, ttl: 600 }));
  const sa = await openStream(A, 'expiring', 'A');
  await established(sa, 'A');
  const from = framesIn.length;
  await advanceClock(600 * 1000);
  await until(() => A.events.tokenExpired, 'A: tokenExpired');
  const closes = framesSince(from, /"method":"close"/);
  assert.equal(closes.length, 1, JSON.stringify(closes));
  assert.ok(closes[0].includes('"status":{"code":410,"status":"TOKEN_EXPIRED","description":"Token expired","errorCode":51207}'), closes[0]);
});

scenario('GET /v3/Configuration over the SDK\'s Twilsock and over plain HTTP (X-Twilio-Token)', async () => {
  const token = await mint({ serviceSid: ctx.serviceSid });
  const A = newClient('A', token);
  await openStream(A, 'warm-up', 'A'); // connected
  const url = `http://127.0.0.1:${server.port}/v3/Configuration`;
  const r = await within(A.client.services.twilsock.get(url, {}), WAIT_MS, 'A: GET /v3/Configuration');
  assert.equal(r.status.code, 200, JSON.stringify(r));
  const body = typeof r.body === 'string' ? JSON.parse(r.body) : r.body;
  const base = server.base;
  assert.equal(body.links.subscriptions, `${base}/v4/Subscriptions`);
  assert.equal(body.links.streams, `${base}/v3/Streams`);
  assert.equal(body.links.list_items, `${base}/v3/Services/${ctx.serviceSid}/Lists/{listId}/Items`);
  assert.equal(body.links.stream_messages, `${base}/v3/Services/${ctx.serviceSid}/Streams/{streamId}/Messages`);
  for (const k of ['maps', 'map_items', 'map_item', 'lists', 'list_item', 'documents', 'insights_items']) {
    assert.equal(typeof body.links[k], 'string', k);
  }
  const plain = await fetch(url, { headers: { 'X-Twilio-Token': token } });
  assert.equal(plain.status, 200);
  assert.deepEqual(await plain.json(), body, 'both faces give the same links');
  const refused = await fetch(url, { headers: { 'X-Twilio-Token': token + 'x' } });
  assert.deepEqual([refused.status, (await refused.json()).code], [401, 20101]);
});

scenario('a unique name with JSON escapes (" and \\) reads the same over the SDK as over REST', async () => {
  const A = newClient('A', await mint({ serviceSid: ctx.serviceSid }));
  const name = 'say "hi" \\ there';
  const s = await openStream(A, name, 'A');
  assert.equal(s.uniqueName, name);
  const byRest = (await ok('GET', `/v1/Services/${ctx.serviceSid}/Streams/${encodeURIComponent(name)}`)).json;
  assert.deepEqual([byRest.sid, byRest.unique_name], [s.sid, name]);
});

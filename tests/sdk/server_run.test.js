// server_run.test.js: what one run of syncfake-server is, beyond the fake's seed.
//
// Its instance id: each run of syncfake-server has its own (random at start, or
// --instance-id ID), shown in its banner and by GET /_syncfake/clock and mixed into the offline
// storage id of the Twilsock `init` reply. A browser tab keys its cache of stream descriptors by
// that storage id: it must differ between two runs started with the same flags, or the tab would
// reuse SIDs of the run before. REST bodies and the journal stay the seed's, run after run.
//
// Talks Twilsock with the `ws` package directly (one `init` frame, its `reply`).
//
// The origins whose pages may call its control API (--cors-origin, default the loopback host on
// any port): a preflight from one gets 204, from another 403.
//
//   SYNCFAKE_SERVER=build/syncfake-server node --test tests/sdk/server_run.test.js
'use strict';

const { test } = require('node:test');
const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');
const WebSocket = require('ws');

const ROOT = path.resolve(__dirname, '..', '..');
const SERVER = process.env.SYNCFAKE_SERVER || path.join(ROOT, 'build', 'syncfake-server');
const WAIT_MS = 10000;

// Starts the server with `--port 0 --clock manual --seed 9` and `extra` (and a fixed base URL, as
// the free port differs from run to run); resolves once its banner is printed (in one write: the
// server flushes it whole): {proc, base, port, banner: {name: value}}.
function start(extra = []) {
  return new Promise((resolve, reject) => {
    if (!fs.existsSync(SERVER)) return reject(new Error(`no server binary at ${SERVER}`));
    const proc = spawn(SERVER, ['--port', '0', '--clock', 'manual', '--seed', '9',
      '--base-url', 'http://sync.fake.test', ...extra], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`no banner within ${WAIT_MS} ms:\n${out}`));
    }, WAIT_MS);
    proc.stdout.on('data', (d) => {
      out += d;
      if (!/^seed .*\n/m.test(out)) return;
      clearTimeout(timer);
      const banner = {};
      for (const line of out.split('\n').slice(1)) {
        const sp = line.indexOf(' ');
        if (sp > 0) banner[line.slice(0, sp)] = line.slice(sp + 1);
      }
      const base = /listening on (http:\/\/\S+)/.exec(out)[1];
      resolve({ proc, base, port: Number(new URL(base).port), banner });
    });
    proc.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited (${code}) before its banner:\n${out}`));
    });
  });
}

function stop(srv) {
  return new Promise((resolve, reject) => {
    const kill = setTimeout(() => {
      srv.proc.kill('SIGKILL');
      reject(new Error('the server did not stop within 5 s of SIGTERM'));
    }, 5000);
    srv.proc.once('exit', (code) => {
      clearTimeout(kill);
      if (code === 0) resolve();
      else reject(new Error(`the server exited with ${code}`));
    });
    srv.proc.kill('SIGTERM');
  });
}

async function call(srv, method, p, form) {
  const b = srv.banner;
  const headers = { Authorization: 'Basic ' + Buffer.from(`${b.account_sid}:${b.auth_token}`).toString('base64') };
  const init = { method, headers, signal: AbortSignal.timeout(WAIT_MS) };
  if (form) {
    headers['Content-Type'] = 'application/x-www-form-urlencoded';
    init.body = new URLSearchParams(form).toString();
  }
  const r = await fetch(srv.base + p, init);
  const text = await r.text();
  assert.ok(r.ok, `${method} ${p} -> ${r.status} ${text}`);
  return text;
}

// The offline storage id that `init` with a token of `identity` gets.
async function storageId(srv, serviceSid, identity = 'alice') {
  const token = JSON.parse(await call(srv, 'POST', '/_syncfake/tokens', { Identity: identity, ServiceSid: serviceSid })).token;
  const ws = new WebSocket(`ws://127.0.0.1:${srv.port}/v3/wsconnect`);
  try {
    const reply = await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no init reply')), WAIT_MS);
      ws.on('error', reject);
      ws.on('open', () => {
        const header = JSON.stringify({ method: 'init', id: 'TM1', token, continuation_token: null,
          capabilities: ['client_update', 'offline_storage'], payload_size: 0 });
        ws.send(`TWILSOCK V3.0 ${Buffer.byteLength(header)}\r\n${header}\r\n`);
      });
      ws.on('message', (data) => {
        clearTimeout(timer);
        const s = String(data);
        const nl = s.indexOf('\r\n');
        resolve(JSON.parse(s.slice(nl + 2, nl + 2 + Number(s.slice(14, nl)))));
      });
    });
    assert.equal(reply.status.code, 200, JSON.stringify(reply));
    const id = reply.offline_storage.data_sync.storage_id;
    assert.match(id, /^[0-9a-f]{40}$/);
    return id;
  } finally {
    ws.terminate();
  }
}

// The same calls on a fresh run: REST bodies, the journal, the clock and a storage id.
async function session(extra) {
  const srv = await start(extra);
  try {
    const svc = await call(srv, 'POST', '/v1/Services', { FriendlyName: 'instance' });
    const serviceSid = JSON.parse(svc).sid;
    const stream = await call(srv, 'POST', `/v1/Services/${serviceSid}/Streams`, { UniqueName: 'tab' });
    const sid = await storageId(srv, serviceSid);
    const clock = JSON.parse(await call(srv, 'GET', '/_syncfake/clock'));
    const journal = await call(srv, 'GET', '/_syncfake/journal');
    await call(srv, 'POST', '/_syncfake/reset');
    const svc2 = JSON.parse(await call(srv, 'POST', '/v1/Services', { FriendlyName: 'instance' })).sid;
    const afterReset = await storageId(srv, svc2);
    return { banner: srv.banner, rest: svc + stream, journal, clock, sid, afterReset };
  } finally {
    await stop(srv);
  }
}

test('two runs with the same flags: new instance id and storage id, the same REST and journal', async () => {
  const a = await session([]);
  const b = await session([]);
  // a tab that outlived run a must not find its cache in run b
  assert.notEqual(a.sid, b.sid);
  assert.match(a.banner.instance_id, /^[0-9a-f]{32}$/);
  assert.match(b.banner.instance_id, /^[0-9a-f]{32}$/);
  assert.notEqual(a.banner.instance_id, b.banner.instance_id);
  assert.equal(a.clock.instance_id, a.banner.instance_id);
  assert.equal(b.clock.instance_id, b.banner.instance_id);
  // and within one run a reset still starts a new cache
  assert.notEqual(a.sid, a.afterReset);
  assert.equal(a.rest, b.rest);
  assert.equal(a.journal, b.journal);
  assert.ok(a.journal.length > 0);
});

test('--instance-id ID: the same storage id run after run (reproducible Twilsock transcripts)', async () => {
  const a = await session(['--instance-id', 'transcript-1']);
  const b = await session(['--instance-id', 'transcript-1']);
  const c = await session(['--instance-id', 'transcript-2']);
  assert.equal(a.banner.instance_id, 'transcript-1');
  assert.equal(a.clock.instance_id, 'transcript-1');
  assert.equal(a.sid, b.sid);
  assert.equal(a.afterReset, b.afterReset);
  assert.notEqual(a.sid, a.afterReset);
  assert.notEqual(a.sid, c.sid);
});

test('--instance-id refuses ids that are not 1..64 of A-Z a-z 0-9 . _ -', async () => {
  for (const bad of ['', 'a b', 'x'.repeat(65), 'a"b']) {
    const code = await new Promise((resolve) => {
      const p = spawn(SERVER, ['--port', '0', '--instance-id', bad], { stdio: 'ignore' });
      p.on('exit', resolve);
    });
    assert.equal(code, 2, `--instance-id ${JSON.stringify(bad)}`);
  }
});

// A preflight of POST /_syncfake/clock from a page of `origin`: [status, allowed origin].
function preflight(srv, origin) {
  return new Promise((resolve, reject) => {
    const req = http.request(`${srv.base}/_syncfake/clock`, {
      method: 'OPTIONS',
      timeout: WAIT_MS,
      headers: { Origin: origin, 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'authorization' },
    }, (res) => {
      res.resume();
      res.on('end', () => resolve([res.statusCode, res.headers['access-control-allow-origin'] || null]));
    });
    req.on('timeout', () => req.destroy(new Error('no answer to the preflight')));
    req.on('error', reject);
    req.end();
  });
}

async function preflights(extra, origins) {
  const srv = await start(extra);
  try {
    const out = [];
    for (const o of origins) out.push(await preflight(srv, o));
    return out;
  } finally {
    await stop(srv);
  }
}

test('--cors-origin: loopback pages by default; given origins replace them; none allows none', async () => {
  const origins = ['http://127.0.0.1:9', 'http://localhost:5173', 'http://a.test:8080', 'https://a.test:8080'];
  assert.deepEqual(await preflights([], origins), [
    [204, 'http://127.0.0.1:9'], [204, 'http://localhost:5173'], [403, null], [403, null]]);
  assert.deepEqual(await preflights(['--cors-origin', 'http://a.test:8080', '--cors-origin', 'https://b.test:*'],
    [...origins, 'https://b.test', 'https://b.test:1']), [
    [403, null], [403, null], [204, 'http://a.test:8080'], [403, null], [204, 'https://b.test'], [204, 'https://b.test:1']]);
  assert.deepEqual(await preflights(['--cors-origin', 'none'], origins), [[403, null], [403, null], [403, null], [403, null]]);
});

test('--cors-origin refuses what is no origin, and more than 16', async () => {
  const many = [];
  for (let i = 0; i < 17; i++) many.push('--cors-origin', `http://h${i}.test`);
  for (const args of [['--cors-origin', '*'], ['--cors-origin', 'http://x.test/'], ['--cors-origin', 'x.test:80'],
    ['--cors-origin'], many]) {
    const code = await new Promise((resolve) => {
      const p = spawn(SERVER, ['--port', '0', ...args], { stdio: 'ignore' });
      p.on('exit', resolve);
    });
    assert.equal(code, 2, args.slice(0, 2).join(' '));
  }
});

// The helper against a real syncfake-server (SYNCFAKE_SERVER, installed, or the checkout's).
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const { startSyncfake, SyncfakeError } = require('..');

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (_) {
    return false;
  }
}

async function createStream(fake, serviceSid, uniqueName, ttl) {
  const form = { UniqueName: uniqueName };
  if (ttl) form.Ttl = String(ttl);
  return fake.request('POST', `/v1/Services/${serviceSid}/Streams`, form);
}

test('announces its URL and credentials; stop() ends the server cleanly', async () => {
  const fake = await startSyncfake({ seed: 7 });
  assert.match(fake.baseUrl, /^http:\/\/127\.0\.0\.1:\d+$/);
  assert.match(fake.accountSid, /^AC[0-9a-f]{32}$/);
  assert.ok(fake.authToken.length >= 32);
  const pid = fake.process.pid;
  assert.equal((await fake.clock()).mode, 'manual');
  await fake.stop();
  assert.equal(alive(pid), false);
});

test('same seed, same SIDs; reset() starts over with the same SIDs', async () => {
  const a = await startSyncfake({ seed: 42 });
  const b = await startSyncfake({ seed: 42 });
  try {
    assert.equal(a.accountSid, b.accountSid);
    const sa = await a.defaultServiceSid();
    assert.equal(sa, await b.defaultServiceSid());
    const first = await createStream(a, sa, 'room');
    await a.reset();
    const again = await createStream(a, await a.defaultServiceSid(), 'room');
    assert.equal(again.sid, first.sid);
  } finally {
    await a.stop();
    await b.stop();
  }
});

test('advance() moves the manual clock and expires a stream at its TTL', async () => {
  const fake = await startSyncfake({ seed: 1 });
  try {
    const service = await fake.defaultServiceSid();
    await createStream(fake, service, 'lobby', 60);
    const before = (await fake.clock()).now_ms;
    await fake.advance(60 * 1000);
    assert.equal((await fake.clock()).now_ms, before + 60 * 1000);
    await assert.rejects(fake.request('GET', `/v1/Services/${service}/Streams/lobby`),
      (e) => e instanceof SyncfakeError && e.status === 404 && e.code === 20404);
  } finally {
    await fake.stop();
  }
});

test('errors.inject makes the next create fail with the injected Twilio error', async () => {
  const fake = await startSyncfake();
  try {
    const service = await fake.defaultServiceSid();
    await fake.errors.inject({ operation: 'stream.create', count: 1, status: 503, code: 20503 });
    await assert.rejects(createStream(fake, service, 'x'),
      (e) => e.status === 503 && e.code === 20503);
    assert.ok((await createStream(fake, service, 'x')).sid.startsWith('TO'));
  } finally {
    await fake.stop();
  }
});

test('faults.add returns a rule id that faults.remove deletes', async () => {
  const fake = await startSyncfake();
  try {
    const rule = await fake.faults.add({ scope: 'fake', dropRate: 0.5 });
    assert.ok(rule.id !== undefined);
    assert.equal(JSON.stringify(await fake.faults.list()).includes(String(rule.id)), true);
    await fake.faults.remove(rule.id);
    await assert.rejects(fake.faults.remove(rule.id), (e) => e.status === 404);
  } finally {
    await fake.stop();
  }
});

test('journal() parses the NDJSON journal; token() mints a JWT for the identity', async () => {
  const fake = await startSyncfake({ seed: 3 });
  try {
    const service = await fake.defaultServiceSid();
    const stream = await createStream(fake, service, 'news');
    await fake.request('POST', `/v1/Services/${service}/Streams/news/Messages`,
      { Data: '{"n":1}' });
    const journal = await fake.journal();
    assert.ok(Array.isArray(journal) && journal.length > 0);
    assert.ok(JSON.stringify(journal).includes(stream.sid));
    const token = await fake.token('alice');
    const claims = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString());
    assert.equal(claims.grants.identity, 'alice');
    assert.equal(claims.grants.data_sync.service_sid, service);
  } finally {
    await fake.stop();
  }
});

test('twilioClient() drives the official twilio package against the fake', async () => {
  const twilio = require('twilio'); // a devDependency: npm ci in clients/node
  const fake = await startSyncfake({ seed: 5 });
  try {
    const client = fake.twilioClient(twilio);
    const service = await client.sync.v1.services.create({ friendlyName: 'chat' });
    const stream = await client.sync.v1.services(service.sid).syncStreams.create({ uniqueName: 'room' });
    const fetched = await client.sync.v1.services(service.sid).syncStreams('room').fetch();
    assert.equal(fetched.sid, stream.sid);
  } finally {
    await fake.stop();
  }
});

test('a server that fails to start rejects with its exit status and stderr', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'syncfake-node-'));
  const broken = path.join(dir, 'broken-server');
  fs.writeFileSync(broken, '#!/bin/sh\necho "boom: cannot bind 127.0.0.1" >&2\nexit 3\n', { mode: 0o755 });
  try {
    await assert.rejects(startSyncfake({ server: broken }), (e) =>
      e instanceof SyncfakeError && /exited with 3 before listening/.test(e.message) &&
      /boom: cannot bind/.test(e.message));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a server that never announces itself times out with a clear error', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'syncfake-node-'));
  const silent = path.join(dir, 'silent-server');
  fs.writeFileSync(silent, '#!/bin/sh\necho "still thinking" >&2\nexec sleep 30\n', { mode: 0o755 });
  try {
    await assert.rejects(startSyncfake({ server: silent, startTimeoutMs: 500 }), (e) =>
      /did not announce itself within 500 ms/.test(e.message) && /still thinking/.test(e.message));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a test process that crashes does not leave its server running', () => {
  const script = `
    const { startSyncfake } = require(${JSON.stringify(path.resolve(__dirname, '..'))});
    startSyncfake().then((fake) => {
      console.log(fake.process.pid);
      throw new Error('the test crashed');
    });`;
  const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 30000 });
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /the test crashed/);
  const pid = Number(r.stdout.trim());
  assert.ok(pid > 0, r.stdout + r.stderr);
  // SIGKILL is sent from the exit hook; give the kernel a moment to reap it
  const deadline = Date.now() + 5000;
  while (alive(pid) && Date.now() < deadline) spawnSync('sleep', ['0.05']);
  assert.equal(alive(pid), false, `server ${pid} outlived the crashed test`);
});

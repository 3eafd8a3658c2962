#!/usr/bin/env node
// streams.js: Twilio's official Node.js helper library (twilio 6.3.1) driving syncfake-server.
//
// Every Sync Message Streams endpoint, through the library exactly as an application would use
// it: services, streams (create, fetch by SID and by unique name, update, list across pages,
// remove), publishing, and the library's RestException for 404, 409, 401, 413 and 429. Then a
// subscriber on syncfake's server-sent-events endpoint (a plain HTTP GET) sees what is
// published, and the `removed` event when the stream is deleted or expires.
//
//   SYNCFAKE_URL=http://127.0.0.1:8787 SYNCFAKE_ACCOUNT_SID=AC... SYNCFAKE_AUTH_TOKEN=... \
//       node streams.js
//
// Start the server with `--clock manual` for the full run: the 429 step needs 301 publishes in
// one instant and the expiry step moves the clock. With a wall clock those two steps are skipped.
// Every result is asserted (node:assert); the first mismatch ends the run with exit status 1.
'use strict';

const assert = require('node:assert/strict');
const http = require('node:http');
const https = require('node:https');
const twilio = require('twilio');

const { RestException } = twilio;

const BASE = (process.env.SYNCFAKE_URL || '').replace(/\/+$/, '');
const ACCOUNT_SID = process.env.SYNCFAKE_ACCOUNT_SID || '';
const AUTH_TOKEN = process.env.SYNCFAKE_AUTH_TOKEN || '';
if (!BASE || !ACCOUNT_SID || !AUTH_TOKEN) {
  console.error('usage: SYNCFAKE_URL=... SYNCFAKE_ACCOUNT_SID=AC... SYNCFAKE_AUTH_TOKEN=... node streams.js');
  process.exit(2);
}

// Nothing here may hang: the whole run has a deadline.
const DEADLINE_MS = 100 * 1000;
setTimeout(() => {
  console.error(`FAIL: no result after ${DEADLINE_MS / 1000} s`);
  process.exit(1);
}, DEADLINE_MS).unref();

// ---- the official client, pointed at the fake ----

// twilio-node keeps each domain's base URL on the domain object (lib/base/Domain.js: `baseUrl`,
// set to "https://sync.twilio.com" by lib/rest/SyncBase.js). `client.sync` is created once and
// cached, so assigning its baseUrl redirects every Sync request, including the paging URLs that
// the server returns (those are absolute and followed verbatim).
function makeClient(token) {
  const client = twilio(ACCOUNT_SID, token);
  client.sync.baseUrl = BASE;
  return client;
}

const client = makeClient(AUTH_TOKEN);
const sync = client.sync.v1;

// ---- a small log ----

let steps = 0;
function log(msg) {
  console.log(`  ${msg}`);
}
async function step(title, fn) {
  steps++;
  console.log(`[${String(steps).padStart(2)}] ${title}`);
  await fn();
}

// ---- plain HTTP for syncfake's own /_syncfake/ routes and the event stream ----

const basicAuth = 'Basic ' + Buffer.from(`${ACCOUNT_SID}:${AUTH_TOKEN}`).toString('base64');
const transport = BASE.startsWith('https:') ? https : http;

function rawRequest(method, path, form) {
  const body = form ? new URLSearchParams(form).toString() : null;
  const headers = { Authorization: basicAuth, Accept: 'application/json' };
  if (body !== null) {
    headers['Content-Type'] = 'application/x-www-form-urlencoded';
    headers['Content-Length'] = Buffer.byteLength(body);
  }
  return new Promise((resolve, reject) => {
    const req = transport.request(BASE + path, { method, headers, timeout: 10000 }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({ status: res.statusCode, headers: res.headers, text });
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${path}: timed out`)));
    req.on('error', reject);
    if (body !== null) req.write(body);
    req.end();
  });
}

async function control(method, path, form) {
  const r = await rawRequest(method, path, form);
  assert.ok(r.status >= 200 && r.status < 300, `${method} ${path} -> ${r.status} ${r.text}`);
  return r;
}

async function clockNow() {
  return JSON.parse((await control('GET', '/_syncfake/clock')).text);
}

async function advanceClock(ms) {
  return JSON.parse((await control('POST', '/_syncfake/clock', { AdvanceMs: String(ms) })).text);
}

async function journal() {
  const r = await control('GET', '/_syncfake/journal');
  return r.text.split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l));
}

// A subscriber: GET /_syncfake/Services/{IS}/Streams/{id}/Events, parsed as server-sent events
// ("event: NAME", "data: ONE-LINE-JSON", blank line).
function subscribe(serviceSid, stream) {
  const path = `/_syncfake/Services/${serviceSid}/Streams/${encodeURIComponent(stream)}/Events`;
  const events = [];
  const waiters = [];
  let ended = false;
  let failure = null;
  let buffer = '';

  function wake() {
    while (waiters.length && (events.length || ended || failure)) {
      const w = waiters.shift();
      clearTimeout(w.timer);
      if (events.length) w.resolve(events.shift());
      else if (failure) w.reject(failure);
      else w.resolve(null); // the server ended the stream
    }
  }

  function parse(block) {
    let name = 'message';
    const data = [];
    for (const line of block.split('\n')) {
      if (line.startsWith('event:')) name = line.slice(6).trim();
      else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
    }
    if (data.length) events.push({ event: name, data: JSON.parse(data.join('\n')) });
  }

  const req = transport.get(BASE + path, { headers: { Authorization: basicAuth, Accept: 'text/event-stream' } }, (res) => {
    if (res.statusCode !== 200) {
      failure = new Error(`GET ${path} -> ${res.statusCode}`);
      res.resume();
      wake();
      return;
    }
    assert.match(res.headers['content-type'] || '', /^text\/event-stream/);
    res.setEncoding('utf8');
    res.on('data', (chunk) => {
      buffer += chunk.replace(/\r\n/g, '\n');
      let cut;
      while ((cut = buffer.indexOf('\n\n')) >= 0) {
        parse(buffer.slice(0, cut));
        buffer = buffer.slice(cut + 2);
      }
      wake();
    });
    res.on('end', () => {
      ended = true;
      wake();
    });
    res.on('error', (e) => {
      failure = e;
      wake();
    });
  });
  req.on('error', (e) => {
    failure = e;
    wake();
  });

  return {
    // The next event, or null once the server has closed the stream.
    next(timeoutMs = 5000) {
      return new Promise((resolve, reject) => {
        const w = { resolve, reject };
        w.timer = setTimeout(() => {
          waiters.splice(waiters.indexOf(w), 1);
          reject(new Error(`no event on ${path} within ${timeoutMs} ms`));
        }, timeoutMs);
        waiters.push(w);
        wake();
      });
    },
    close() {
      req.destroy();
    },
  };
}

// ---- assertions on the library's errors ----

async function expectRestError(promise, status, code, what) {
  let caught = null;
  try {
    await promise;
  } catch (e) {
    caught = e;
  }
  assert.ok(caught, `${what}: expected HTTP ${status} (code ${code}), but the call succeeded`);
  assert.ok(caught instanceof RestException, `${what}: expected a RestException, got ${caught && caught.stack}`);
  assert.equal(caught.status, status, `${what}: status`);
  assert.equal(caught.code, code, `${what}: code`);
  assert.equal(caught.moreInfo, `https://www.twilio.com/docs/errors/${code}`, `${what}: more_info`);
  assert.equal(typeof caught.message, 'string');
  log(`${what}: RestException ${caught.status}/${caught.code} "${caught.message}"`);
  return caught;
}

// ---- the walk-through ----

const SID_RE = (prefix) => new RegExp(`^${prefix}[0-9a-f]{32}$`);

function isoPlus(date, seconds) {
  return new Date(date.getTime() + seconds * 1000).toISOString();
}

async function main() {
  console.log(`twilio-node ${require('twilio/package.json').version} -> ${BASE}`);
  const clock = await clockNow();
  const manual = clock.mode === 'manual';
  log(`fake clock: ${clock.now} (${clock.mode})`);

  let service;
  let other;
  await step('services: create, fetch, update, list, remove', async () => {
    service = await sync.services.create({ friendlyName: 'node-example' });
    assert.match(service.sid, SID_RE('IS'));
    assert.equal(service.accountSid, ACCOUNT_SID);
    assert.equal(service.friendlyName, 'node-example');
    assert.equal(service.uniqueName, null);
    assert.equal(service.url, `${BASE}/v1/Services/${service.sid}`);
    assert.equal(service.links.streams, `${BASE}/v1/Services/${service.sid}/Streams`);
    assert.equal(service.aclEnabled, false);
    assert.equal(service.reachabilityDebouncingWindow, 5000);
    assert.ok(service.dateCreated instanceof Date && !isNaN(service.dateCreated));
    log(`created ${service.sid}`);

    const fetched = await sync.services(service.sid).fetch();
    assert.equal(fetched.sid, service.sid);
    assert.equal(fetched.friendlyName, 'node-example');

    const updated = await sync.services(service.sid).update({
      friendlyName: 'node-example (renamed)',
      aclEnabled: true,
      reachabilityDebouncingEnabled: true,
      reachabilityDebouncingWindow: 2000,
      webhookUrl: 'https://example.com/sync-hook',
    });
    assert.equal(updated.friendlyName, 'node-example (renamed)');
    assert.equal(updated.aclEnabled, true);
    assert.equal(updated.reachabilityDebouncingEnabled, true);
    assert.equal(updated.reachabilityDebouncingWindow, 2000);
    assert.equal(updated.webhookUrl, 'https://example.com/sync-hook');
    log('updated friendlyName, aclEnabled, debouncing, webhookUrl');

    other = await sync.services.create({ friendlyName: 'node-example-2' });
    const listed = await sync.services.list({ pageSize: 1 });
    const sids = listed.map((s) => s.sid);
    assert.ok(sids.indexOf(service.sid) >= 0 && sids.indexOf(other.sid) > sids.indexOf(service.sid),
      `services.list in creation order: ${sids}`);
    log(`services.list({pageSize: 1}) walked ${listed.length} service(s)`);

    assert.equal(await sync.services(other.sid).remove(), true);
    await expectRestError(sync.services(other.sid).fetch(), 404, 20404, 'fetch removed service');
  });

  const svc = sync.services(service.sid);
  let orders;
  await step('streams: create (UniqueName, Ttl), fetch by SID and by unique name', async () => {
    orders = await svc.syncStreams.create({ uniqueName: 'orders', ttl: 3600 });
    assert.match(orders.sid, SID_RE('TO'));
    assert.equal(orders.uniqueName, 'orders');
    assert.equal(orders.accountSid, ACCOUNT_SID);
    assert.equal(orders.serviceSid, service.sid);
    assert.equal(orders.createdBy, 'system');
    assert.equal(orders.url, `${BASE}/v1/Services/${service.sid}/Streams/${orders.sid}`);
    assert.equal(orders.links.messages, `${orders.url}/Messages`);
    assert.equal(orders.dateExpires.toISOString(), isoPlus(orders.dateCreated, 3600));
    log(`created ${orders.sid} "orders", expires ${orders.dateExpires.toISOString()}`);

    const bySid = await svc.syncStreams(orders.sid).fetch();
    assert.equal(bySid.uniqueName, 'orders');
    const byName = await svc.syncStreams('orders').fetch();
    assert.equal(byName.sid, orders.sid);
    assert.equal(byName.url, orders.url, 'url always carries the SID');

    const anon = await svc.syncStreams.create();
    assert.equal(anon.uniqueName, null);
    assert.equal(anon.dateExpires, null);
    assert.equal(await anon.remove(), true);
    log('a stream without UniqueName/Ttl has unique_name and date_expires null');
  });

  await step('streams: update Ttl', async () => {
    if (manual) await advanceClock(5000);
    const u = await svc.syncStreams('orders').update({ ttl: 7200 });
    assert.equal(u.sid, orders.sid);
    assert.equal(u.dateExpires.toISOString(), isoPlus(u.dateUpdated, 7200));
    if (manual) assert.equal(u.dateUpdated.getTime() - orders.dateUpdated.getTime(), 5000);
    log(`Ttl 7200 -> date_expires ${u.dateExpires.toISOString()}`);
    const never = await svc.syncStreams(orders.sid).update({ ttl: 0 });
    assert.equal(never.dateExpires, null);
    log('Ttl 0 -> date_expires null (never expires)');
  });

  await step('streams: list({pageSize: 2}) across pages (5 streams)', async () => {
    const paged = await sync.services.create({ friendlyName: 'node-paging' });
    const ps = sync.services(paged.sid).syncStreams;
    const created = [];
    for (let i = 0; i < 5; i++) created.push((await ps.create({ uniqueName: `page-${i}` })).sid);
    const listsBefore = (await journal()).filter((e) => e.op === 'stream.list').length;
    const all = await ps.list({ pageSize: 2 });
    const listsAfter = (await journal()).filter((e) => e.op === 'stream.list').length;
    assert.deepEqual(all.map((s) => s.sid), created, 'all 5 streams, in creation order');
    assert.equal(listsAfter - listsBefore, 3, 'three page requests (2 + 2 + 1)');
    log(`list() returned ${all.length} streams in ${listsAfter - listsBefore} page requests`);

    // The same walk, a page at a time.
    let page = await ps.page({ pageSize: 2 });
    const sizes = [page.instances.length];
    assert.equal(page.previousPageUrl, undefined);
    while (page.nextPageUrl) {
      assert.ok(page.nextPageUrl.startsWith(`${BASE}/v1/Services/${paged.sid}/Streams?PageSize=2&Page=`),
        page.nextPageUrl);
      page = await page.nextPage();
      sizes.push(page.instances.length);
    }
    assert.deepEqual(sizes, [2, 2, 1]);
    assert.equal(page.nextPage(), undefined);
    assert.ok(page.previousPageUrl, 'the last page links back');
    const back = await page.previousPage();
    assert.deepEqual(back.instances.map((s) => s.sid), created.slice(2, 4));
    log(`page()/nextPage() sizes ${JSON.stringify(sizes)}; previousPage() goes back`);

    assert.equal(await sync.services(paged.sid).remove(), true);
  });

  await step('messages: publish', async () => {
    const m = await svc.syncStreams(orders.sid).streamMessages.create({ data: { order: 1, items: ['tea', 'milk'] } });
    assert.match(m.sid, SID_RE('TZ'));
    assert.deepEqual(m.data, { order: 1, items: ['tea', 'milk'] });
    const byName = await svc.syncStreams('orders').streamMessages.create({ data: { order: 2, note: 'héllo ✓' } });
    assert.deepEqual(byName.data, { order: 2, note: 'héllo ✓' });
    assert.notEqual(byName.sid, m.sid);
    log(`published ${m.sid} and ${byName.sid} (the second addressed by unique name)`);
  });

  await step('errors: 404, 409, 401, 413 as RestException', async () => {
    const e404 = await expectRestError(svc.syncStreams('TO' + '0'.repeat(32)).fetch(), 404, 20404, 'unknown stream SID');
    assert.equal(e404.message, `The requested resource /Services/${service.sid}/Streams/TO${'0'.repeat(32)} was not found`);
    await expectRestError(svc.syncStreams('no-such-stream').streamMessages.create({ data: { x: 1 } }), 404, 20404,
      'publish to unknown name');
    await expectRestError(svc.syncStreams.create({ uniqueName: 'orders' }), 409, 54301, 'duplicate UniqueName');

    const intruder = makeClient(AUTH_TOKEN + 'x');
    const e401 = await expectRestError(intruder.sync.v1.services(service.sid).fetch(), 401, 20003, 'wrong auth token');
    assert.equal(e401.message, 'Authenticate');

    const big = { blob: 'x'.repeat(4100) };
    await expectRestError(svc.syncStreams(orders.sid).streamMessages.create({ data: big }), 413, 54006,
      'Data over 4096 bytes');
    // Exactly 4096 bytes is still fine.
    const exact = { b: 'y'.repeat(4096 - '{"b":""}'.length) };
    assert.equal(Buffer.byteLength(JSON.stringify(exact)), 4096);
    const ok = await svc.syncStreams(orders.sid).streamMessages.create({ data: exact });
    assert.equal(ok.data.b.length, exact.b.length);
    log('Data of exactly 4096 bytes is accepted');

    await expectRestError(svc.syncStreams.create({ ttl: -1 }), 400, 54011, 'negative Ttl');
    await expectRestError(svc.syncStreams(orders.sid).streamMessages.create({ data: 'not json' }), 400, 54008,
      'Data that is not JSON');
  });

  await step('errors: 429 after 300 publishes in one instant (code 54009)', async () => {
    if (!manual) {
      log('skipped: needs --clock manual');
      return;
    }
    const burst = await svc.syncStreams.create({ uniqueName: 'burst' });
    const start = await clockNow();
    const messages = svc.syncStreams(burst.sid).streamMessages; // (on an instance, streamMessages() is a method)
    for (let i = 0; i < 300; i += 20) {
      const batch = [];
      for (let j = i; j < i + 20; j++) batch.push(messages.create({ data: { n: j } }));
      await Promise.all(batch);
    }
    assert.equal((await clockNow()).now_ms, start.now_ms, 'the clock has not moved');
    log('300 publishes accepted');
    await expectRestError(messages.create({ data: { n: 300 } }), 429, 54009, 'publish #301');
    await advanceClock(1000);
    const again = await messages.create({ data: { n: 300 } });
    assert.deepEqual(again.data, { n: 300 });
    log('one second later (30 tokens refilled) publishing works again');
    assert.equal(await burst.remove(), true);
  });

  await step('errors: injected failure (POST /_syncfake/errors) reaches the client', async () => {
    await control('POST', '/_syncfake/errors', { Operation: 'stream.create', Status: '503', Code: '20503', Message: 'Service Unavailable' });
    const e = await expectRestError(svc.syncStreams.create({ uniqueName: 'never-made' }), 503, 20503, 'injected stream.create');
    assert.equal(e.message, 'Service Unavailable');
    await expectRestError(svc.syncStreams('never-made').fetch(), 404, 20404, 'the failed create made nothing');
  });

  await step('subscriber: server-sent events for publishes, then removed', async () => {
    const sub = subscribe(service.sid, 'orders');
    const hello = await sub.next();
    assert.equal(hello.event, 'subscribed');
    assert.ok(Number.isInteger(hello.data.subscriber_id) && hello.data.subscriber_id > 0);
    log(`subscribed as subscriber ${hello.data.subscriber_id}`);

    const sent = [];
    for (let i = 1; i <= 3; i++) sent.push(await svc.syncStreams('orders').streamMessages.create({ data: { seq: i } }));
    for (const m of sent) {
      const ev = await sub.next();
      assert.equal(ev.event, 'message_published');
      assert.equal(ev.data.stream_sid, orders.sid);
      assert.equal(ev.data.message_sid, m.sid);
      assert.deepEqual(ev.data.data, m.data);
      assert.equal(ev.data.is_duplicate, false);
    }
    log(`received ${sent.length} message_published events in publish order`);

    assert.equal(await svc.syncStreams(orders.sid).remove(), true);
    const removed = await sub.next();
    assert.equal(removed.event, 'removed');
    assert.deepEqual(removed.data, { stream_sid: orders.sid, reason: 'deleted' });
    assert.equal(await sub.next(), null, 'the server ends the event stream after removed');
    await expectRestError(svc.syncStreams('orders').fetch(), 404, 20404, 'fetch deleted stream');
    log('removed (deleted) received; the event stream ended');
  });

  await step('subscriber: a stream expires when its Ttl runs out', async () => {
    if (!manual) {
      log('skipped: needs --clock manual');
      return;
    }
    const short = await svc.syncStreams.create({ uniqueName: 'short-lived', ttl: 60 });
    const sub = subscribe(service.sid, short.sid);
    assert.equal((await sub.next()).event, 'subscribed');
    await advanceClock(59999);
    assert.equal((await svc.syncStreams('short-lived').fetch()).sid, short.sid, 'still there 1 ms before');
    await advanceClock(1);
    const removed = await sub.next();
    assert.equal(removed.event, 'removed');
    assert.deepEqual(removed.data, { stream_sid: short.sid, reason: 'expired' });
    assert.equal(await sub.next(), null);
    await expectRestError(svc.syncStreams('short-lived').fetch(), 404, 20404, 'fetch expired stream');
    const left = await svc.syncStreams.list({ pageSize: 2 });
    assert.ok(!left.some((s) => s.sid === short.sid), 'list leaves the expired stream out');
  });

  await step('services: remove (takes its streams along)', async () => {
    const keep = await svc.syncStreams.create({ uniqueName: 'leftover' });
    assert.equal(await svc.remove(), true);
    await expectRestError(svc.fetch(), 404, 20404, 'fetch removed service');
    await expectRestError(sync.services(service.sid).syncStreams(keep.sid).fetch(), 404, 20404, 'its stream');
    const remaining = (await sync.services.list({ pageSize: 50 })).map((s) => s.sid);
    assert.ok(!remaining.includes(service.sid) && !remaining.includes(other.sid));
  });

  console.log(`node example: all ${steps} steps passed`);
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(`FAIL in step ${steps}: ${err && err.stack ? err.stack : err}`);
    process.exit(1);
  },
);

// ui.test.js: the sandbox page at /_syncfake/ui (compiled into syncfake-server) in Debian's
// headless Chromium. The page is driven as a user would: it creates the service and stream,
// adds a drop rule and a delay+duplicate rule, publishes, holds and discards, sets a TTL and
// moves the clock. Four event-stream subscribers (the control API's events route, opened from
// Node) are the lanes; the fourth joins after the first publish. Each step checks that the
// timeline shows exactly what the journal lists (per kind, by journal seq), and at the end that
// the TTL counted down to zero and the stream went away, that every control has a label and is
// reached with Tab, that a second browser sees the same timeline, that watching changes no
// state, and that the console stayed free of errors. Screenshots: build/ui-*.png.
//
//   SYNCFAKE_SERVER=build/syncfake-server node --test tests/browser/ui.test.js
'use strict';

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const h = require('./harness');

const SHOTS = path.join(__dirname, '..', '..', 'build');
const KINDS = ['dropped', 'delayed', 'duplicated', 'delivered', 'held', 'discarded', 'removed'];

let browser = null;
let srv = null;
let page = null;
let serviceSid = null;
const consoleErrors = [];
const subscribers = []; // {id, abort, events: []}

async function journal() {
  const text = await h.call(srv, 'GET', '/_syncfake/journal?limit=10000');
  return text.split('\n').filter((l) => l).map((l) => JSON.parse(l));
}

// Opens an event stream on `stream` (the control API's events route): one more subscriber.
async function subscribe(stream) {
  const abort = new AbortController();
  const r = await fetch(`${srv.base}/_syncfake/Services/${serviceSid}/Streams/${stream}/Events`,
    { headers: { Authorization: srv.auth }, signal: abort.signal });
  assert.equal(r.status, 200);
  const sub = { id: 0, abort, events: [] };
  const reader = r.body.getReader();
  let text = '';
  const first = new Promise((resolve) => {
    (async () => {
      try {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          text += Buffer.from(value).toString();
          let cut;
          while ((cut = text.indexOf('\n\n')) >= 0) {
            const block = text.slice(0, cut);
            text = text.slice(cut + 2);
            const name = /^event: (.*)$/m.exec(block)[1];
            const data = JSON.parse(/^data: (.*)$/m.exec(block)[1]);
            sub.events.push({ name, data });
            if (name === 'subscribed') { sub.id = data.subscriber_id; resolve(); }
          }
        }
      } catch (e) { /* aborted at the end */ }
    })();
  });
  await first;
  subscribers.push(sub);
  return sub;
}

// Waits until the page has read the journal up to its last entry.
async function caughtUp() {
  const all = await journal();
  const last = all.length ? all[all.length - 1].seq : 0;
  await h.until(async () => (await page.evaluate(() => document.body.dataset.seq)) === String(last),
    `the page shows the journal up to #${last}`);
  return all;
}

// The timeline's marks of `kind`, as sorted journal seqs.
const markSeqs = (p, kind) => p.evaluate((k) =>
  [...document.querySelectorAll(`#timeline .mark[data-kind="${k}"]`)].map((m) => Number(m.dataset.seq)).sort((a, b) => a - b), kind);

// The timeline shows exactly the journal's entries of each kind (by seq), nothing more or less.
async function timelineMatches(p, all) {
  for (const kind of KINDS) {
    const want = all.filter((e) => e.kind === kind).map((e) => e.seq).sort((a, b) => a - b);
    assert.deepEqual(await markSeqs(p, kind), want, `timeline marks of kind ${kind}`);
  }
  const published = all.filter((e) => e.kind === 'api' && e.op === 'message.create' && e.status === 201).map((e) => e.seq);
  assert.deepEqual(await markSeqs(p, 'publish'), published, 'publish marks');
}

async function openPage() {
  const context = await browser.newContext({
    httpCredentials: { username: srv.banner.account_sid, password: srv.banner.auth_token },
    viewport: { width: 1300, height: 1000 },
  });
  const p = await context.newPage();
  h.watchConsole(p, consoleErrors, `page ${consoleErrors.length}`);
  await p.goto(`${srv.base}/_syncfake/ui`, { timeout: h.WAIT_MS });
  await h.until(() => p.evaluate(() => document.body.dataset.seq !== undefined), 'the page read the journal');
  return p;
}

const ttlText = () => page.locator('#streams tbody tr', { hasText: 'chat' }).locator('td.ttl').textContent();

before(async () => {
  fs.mkdirSync(SHOTS, { recursive: true });
  srv = await h.startServer(['--port', '0', '--clock', 'manual', '--seed', '12']);
  browser = await h.launchBrowser();
});

after(async () => {
  for (const s of subscribers) s.abort.abort();
  if (browser) await browser.close();
  if (srv) await srv.stop();
});

test('the page asks for the control API credentials (401, WWW-Authenticate: Basic)', async () => {
  const r = await fetch(`${srv.base}/_syncfake/ui`);
  assert.equal(r.status, 401);
  assert.match(r.headers.get('www-authenticate'), /^Basic /);
  const ok = await fetch(`${srv.base}/_syncfake/ui/app.js`, { headers: { Authorization: srv.auth } });
  assert.equal(ok.status, 200);
  assert.equal(ok.headers.get('content-type'), 'text/javascript; charset=utf-8');
  assert.equal(ok.headers.get('cache-control'), 'no-store');
});

test('the page creates a service and a stream', async () => {
  page = await openPage();
  await page.click('#service-new');
  await h.until(async () => (await page.locator('#service option').count()) === 1, 'the new service is listed');
  await page.fill('#stream-name', 'chat');
  await page.click('#stream-create');
  await page.locator('#streams tbody tr', { hasText: 'chat' }).waitFor({ timeout: h.WAIT_MS });
  serviceSid = (await h.call(srv, 'GET', '/v1/Services')).services[0].sid;
  assert.equal(await ttlText(), 'never');
});

test('subscribers, a drop rule and a delay rule; publishes from the page', async () => {
  for (let i = 0; i < 3; i++) await subscribe('chat');
  assert.deepEqual(subscribers.map((s) => s.id), [1, 2, 3]);
  await page.selectOption('#fault-scope', 'subscriber');
  await page.fill('#fault-target', '1');
  await page.fill('#fault-drop-next', '1');
  await page.click('#fault-add');
  await page.fill('#fault-target', '2');
  await page.fill('#fault-drop-next', '0');
  await page.fill('#fault-delay', '500');
  await page.fill('#fault-dup', '1');
  await page.click('#fault-add');
  await h.until(async () => (await page.locator('#faults tbody tr').count()) === 2, 'both rules listed');
  await page.click('button[aria-label="Publish to chat"]');
  await h.until(async () => (await journal()).some((e) => e.kind === 'dropped'), 'the first publish');
  await subscribe('chat'); // joins late: it missed the first message
  await page.click('button[aria-label="Publish to chat"]');
  await h.until(async () => (await page.locator('#subscribers tbody tr').count()) === 4, 'four subscribers listed');
  let all = await caughtUp();
  assert.equal(all.filter((e) => e.kind === 'dropped').length, 1);
  assert.equal(all.filter((e) => e.kind === 'delayed').length, 2);
  assert.equal(all.filter((e) => e.kind === 'duplicated').length, 2);
  await timelineMatches(page, all);
  // the late joiner's lane shows the first message as missed
  const missed = await page.locator('#timeline .mark[data-kind="missed"][data-subscriber="4"]').count();
  assert.equal(missed, 1);
  // the clock, moved from the page, delivers the delayed copies
  await page.click('button[aria-label="Advance the clock by 1 s"]');
  await h.until(async () => (await journal()).filter((e) => e.kind === 'delivered').length === 8, 'the delayed copies delivered');
  all = await caughtUp();
  await timelineMatches(page, all);
  const late = all.filter((e) => e.kind === 'delivered' && e.subscriber_id === 2);
  assert.equal(late.length, 4);
  for (const e of late) assert.equal(e.t_ms - e.until_ms, 500, 'delivered 500 ms late');
  // GET /_syncfake/state's read model: connection kinds, the bucket, pending injected errors
  for (let id = 1; id <= 4; id++)
    assert.equal(await page.locator(`#subscribers tbody tr[data-key="${id}"] td`).nth(2).textContent(), 'sse');
  assert.match(await page.locator('#streams tbody tr td.bucket').textContent(), /^\d+ of \d+ tokens$|^not limited$/);
  assert.equal(await page.textContent('#errors'), 'none');
  await h.call(srv, 'POST', '/_syncfake/errors', { Operation: 'service.fetch', Count: '2', Status: '503', Code: '20503' });
  await h.until(async () => (await page.textContent('#errors')) === 'service.fetch ×2 → 503/20503', 'the injected error shown');
  await page.screenshot({ path: path.join(SHOTS, 'ui-delivery.png'), fullPage: true });
});

test('a click on a mark shows its journal entry', async () => {
  const all = await journal();
  const drop = all.find((e) => e.kind === 'dropped');
  await page.click(`#timeline .mark[data-kind="dropped"][data-seq="${drop.seq}"] > path`);
  const shown = await page.textContent('#entry');
  assert.ok(shown.includes(`"seq":${drop.seq},`) && shown.includes(`"rule":${drop.rule}`), shown);
  assert.ok(shown.includes('by rule 1'), shown);
  const title = await page.textContent(`#timeline .mark[data-kind="dropped"] title`);
  assert.ok(title.includes(`"kind":"dropped"`), title);
});

test('hold, publish, then heal by discarding: the timeline shows held and discarded', async () => {
  await page.click('button[aria-label="hold subscriber 3"]');
  await h.until(async () => (await page.locator('#subscribers tbody tr[data-key="3"] td').nth(9).textContent()).includes('held'), 'subscriber 3 shown held');
  await page.click('button[aria-label="Publish to chat"]');
  await page.click('button[aria-label="discard subscriber 3"]');
  await h.until(async () => (await journal()).some((e) => e.kind === 'discarded'), 'discarded at heal');
  await timelineMatches(page, await caughtUp());
});

test('every control has a label and is reached with Tab', async () => {
  const controls = await page.evaluate(() => {
    const out = [];
    document.querySelectorAll('main button, main input, main select').forEach((el, i) => {
      el.dataset.kbd = String(i);
      const label = el.getAttribute('aria-label') || (el.labels && el.labels[0] && el.labels[0].textContent.trim()) ||
        (el.tagName === 'BUTTON' ? el.textContent.trim() : '');
      out.push({ i: String(i), label, tag: el.tagName, disabled: el.disabled, tabIndex: el.tabIndex });
    });
    return out;
  });
  assert.ok(controls.length > 30, `controls found: ${controls.length}`);
  for (const c of controls) {
    assert.ok(c.label, `control ${c.tag} #${c.i} has no label`);
    assert.ok(c.tabIndex >= 0 && !c.disabled, `control ${c.label} is not focusable`);
  }
  const marks = await page.locator('#timeline .mark').count();
  const reached = new Set();
  await page.focus('#status').catch(() => {});
  await page.evaluate(() => document.activeElement && document.activeElement.blur());
  for (let n = 0; n < controls.length + marks + 10; n++) {
    await page.keyboard.press('Tab');
    const k = await page.evaluate(() => document.activeElement && document.activeElement.dataset.kbd);
    if (k !== undefined) reached.add(k);
  }
  const missing = controls.filter((c) => !reached.has(c.i)).map((c) => c.label);
  assert.deepEqual(missing, [], 'controls Tab never reached');
  // a timeline mark is reached with Tab and opens its entry with Enter
  await page.focus('#timeline .mark[data-kind="delayed"]');
  await page.keyboard.press('Enter');
  assert.match(await page.textContent('#entry'), /"kind":"delayed"/);
});

test('a second browser shows the same timeline, and watching changes nothing', async () => {
  const other = await openPage();
  const all = await caughtUp();
  await h.until(async () => (await other.evaluate(() => document.body.dataset.seq)) === String(all[all.length - 1].seq), 'second page caught up');
  await timelineMatches(other, all);
  const clock = await h.call(srv, 'GET', '/_syncfake/clock');
  await new Promise((r) => setTimeout(r, 1500)); // both pages poll meanwhile
  assert.deepEqual(await journal(), all, 'the journal is unchanged by two watching pages');
  assert.equal((await h.call(srv, 'GET', '/_syncfake/clock')).now_ms, clock.now_ms);
  await other.context().close();
});

test('the TTL counts down on the fake clock to zero and the stream disappears', async () => {
  await page.fill('input[aria-label="New TTL (s) for chat"]', '2');
  await page.click('button[aria-label="Set the TTL of chat"]');
  await h.until(async () => (await ttlText()) === '2.000 s', 'TTL 2 s shown');
  await page.click('button[aria-label="Advance the clock by 1 s"]');
  await h.until(async () => (await ttlText()) === '1.000 s', 'TTL 1 s shown');
  await page.fill('#advance-ms', '999');
  await page.click('#advance-go');
  await h.until(async () => (await ttlText()) === '0.001 s', 'TTL 1 ms shown');
  await page.screenshot({ path: path.join(SHOTS, 'ui-ttl.png'), fullPage: true });
  await page.click('button[aria-label="Advance the clock by 1 ms"]');
  await h.until(async () => (await page.locator('#streams tbody tr').count()) === 0, 'the stream is gone');
  const all = await caughtUp();
  assert.equal(all.filter((e) => e.kind === 'removed').length, 4);
  await timelineMatches(page, all);
  assert.equal(await page.locator('#timeline .mark[data-kind="ended"]').count(), 1);
  await page.screenshot({ path: path.join(SHOTS, 'ui-expired.png'), fullPage: true });
  await page.locator('#timeline').screenshot({ path: path.join(SHOTS, 'ui-timeline.png') });
});

test('set the clock, create and delete a stream from the page', async () => {
  const before = (await h.call(srv, 'GET', '/_syncfake/clock')).now_ms;
  await page.fill('#set-now', String(before + 5000));
  await page.click('#set-now-go');
  await h.until(async () => (await h.call(srv, 'GET', '/_syncfake/clock')).now_ms === before + 5000, 'the clock set');
  await h.until(async () => (await page.textContent('#clock-now')).includes(`(${before + 5000} ms)`), 'the page shows it');
  await page.fill('#stream-name', 'scratch');
  await page.fill('#stream-ttl', '0');
  await page.click('#stream-create');
  await page.locator('#streams tbody tr', { hasText: 'scratch' }).waitFor({ timeout: h.WAIT_MS });
  await page.click('button[aria-label="Delete scratch"]');
  await h.until(async () => (await page.locator('#streams tbody tr').count()) === 0, 'the deleted stream is gone');
  const all = await caughtUp();
  assert.ok(all.some((e) => e.op === 'stream.remove' && e.status === 204), 'the journal has the delete');
});

test('reset from the page empties the timeline', async () => {
  await page.click('#reset');
  await h.until(async () => (await page.locator('#timeline .mark').count()) === 0, 'the timeline is empty');
  assert.equal(await page.locator('#service option').count(), 0);
});

test('on the wall clock the clock controls are read-only', async () => {
  const wall = await h.startServer(['--port', '0', '--clock', 'wall', '--seed', '12']);
  try {
    const context = await browser.newContext({
      httpCredentials: { username: wall.banner.account_sid, password: wall.banner.auth_token },
    });
    const p = await context.newPage();
    h.watchConsole(p, consoleErrors, 'wall page');
    await p.goto(`${wall.base}/_syncfake/ui`, { timeout: h.WAIT_MS });
    await h.until(() => p.evaluate(() => document.body.dataset.seq !== undefined), 'the wall page read the journal');
    assert.match(await p.textContent('#clock-mode'), /wall/);
    assert.equal(await p.isVisible('#clock-wall-note'), true);
    const enabled = await p.evaluate(() => [...document.querySelectorAll('#clock-controls button, #clock-controls input')]
      .filter((el) => !el.disabled).map((el) => el.textContent || el.id));
    assert.deepEqual(enabled, []);
    assert.equal(await p.isEnabled('#stream-create'), true, 'the other controls stay usable');
    await context.close();
  } finally {
    await wall.stop();
  }
});

test('the consoles stayed free of errors', () => {
  assert.deepEqual(consoleErrors, []);
});

// app.test.js: examples/browser/app.js in headless Chromium against syncfake-server, with the
// set-up tests/browser shares (harness.js): the token minted by the fake, messages published
// over REST, a fault and the clock moved by the test. `make browser` runs it.
'use strict';

const { test } = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const h = require('../../tests/browser/harness');

test('the feed lists REST publishes, misses what a fault drops, and shows TTL expiry', async () => {
  const srv = await h.startServer(['--port', '0', '--clock', 'manual']);
  const site = await h.servePage(__dirname);
  const browser = await h.launchBrowser();
  const errors = [];
  try {
    const service = (await h.call(srv, 'POST', '/v1/Services', { FriendlyName: 'feed' })).sid;
    const stream = await h.call(srv, 'POST', `/v1/Services/${service}/Streams`, { UniqueName: 'news', Ttl: '60' });
    const { token } = await h.call(srv, 'POST', '/_syncfake/tokens', { Identity: 'reader', ServiceSid: service });
    const page = await (await browser.newContext()).newPage();
    h.watchConsole(page, errors, 'feed');
    await page.goto(`${site.origin}/?${new URLSearchParams({ sync: srv.base, token, stream: 'news' })}`);
    await page.waitForSelector('body[data-ready="true"]', { timeout: h.WAIT_MS });
    assert.equal(await page.textContent('#status'), 'connected');

    const publish = (data) => h.call(srv, 'POST', `/v1/Services/${service}/Streams/news/Messages`, { Data: JSON.stringify(data) });
    // the SDK resolves stream() before its subscription is established: publish until one arrives
    const items = () => page.$$eval('#feed li', (li) => li.map((x) => x.textContent));
    await h.until(async () => {
      await publish({ text: 'hello' });
      await new Promise((r) => setTimeout(r, 300));
      return (await items()).length > 0;
    }, 'the first message in the feed');
    const before = (await items()).length;
    // drop everything on this stream, publish, lift the rule, publish again
    const rule = await h.call(srv, 'POST', '/_syncfake/faults', { Scope: 'stream', Target: stream.sid, DropRate: '1' });
    await publish({ text: 'lost' });
    await h.call(srv, 'DELETE', `/_syncfake/faults/${rule.id}`);
    await publish({ text: 'again' });
    await h.until(async () => (await items()).length > before, 'the message after the rule');
    const all = await items();
    assert.deepEqual(all.slice(before), ['{"text":"again"}'], 'the dropped message never arrived');
    assert.ok(all.slice(0, before).every((t) => t === '{"text":"hello"}'));
    // the stream's TTL runs out on the fake clock
    await h.call(srv, 'POST', '/_syncfake/clock', { AdvanceMs: '61000' });
    await page.waitForFunction(() => document.getElementById('status').textContent === 'stream removed');
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
    await site.close();
    await srv.stop();
  }
});

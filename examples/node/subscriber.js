// A Sync client app's subscriber, unmodified, against syncfake-server: Twilio's own client SDK
// (twilio-sync 4.0.1) opens a stream over WebSocket (Twilsock), receives what is published over
// REST and what it publishes itself, and sees the stream removed.
//
//   SYNCFAKE_URL=http://127.0.0.1:8787 SYNCFAKE_ACCOUNT_SID=AC... SYNCFAKE_AUTH_TOKEN=... \
//     node subscriber.js
//
// The access token comes from POST /_syncfake/tokens (minted on the fake clock, signed with an
// API key the server knows); a token minted by twilio's AccessToken with a --api-key works too.
'use strict';
const assert = require('node:assert');
const { SyncClient } = require('twilio-sync');

const url = process.env.SYNCFAKE_URL;
const sid = process.env.SYNCFAKE_ACCOUNT_SID;
const token = process.env.SYNCFAKE_AUTH_TOKEN;
if (!url || !sid || !token) {
  console.error('set SYNCFAKE_URL, SYNCFAKE_ACCOUNT_SID and SYNCFAKE_AUTH_TOKEN');
  process.exit(2);
}
const auth = 'Basic ' + Buffer.from(`${sid}:${token}`).toString('base64');

async function rest(method, path, form) {
  const res = await fetch(url + path, {
    method,
    headers: { Authorization: auth, 'Content-Type': 'application/x-www-form-urlencoded' },
    body: form ? new URLSearchParams(form).toString() : undefined,
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

const until = (emitter, event, test = () => true, ms = 5000) =>
  new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${event} within ${ms} ms`)), ms);
    const on = (e) => {
      if (test(e)) {
        clearTimeout(timer);
        emitter.removeListener(event, on);
        resolve(e);
      }
    };
    emitter.on(event, on);
  });

async function main() {
  const service = (await rest('POST', '/v1/Services', { FriendlyName: 'subscriber example' })).body;
  const minted = await rest('POST', '/_syncfake/tokens',
                            { Identity: 'alice', ServiceSid: service.sid, Ttl: '3600' });
  assert.strictEqual(minted.status, 201);

  const wsUrl = url.replace(/^http/, 'ws') + '/v3/wsconnect';
  const client = new SyncClient(minted.body.token,
                                { twilsock: { uri: wsUrl }, cdsUri: url, logLevel: 'error' });
  try {
    const stream = await client.stream('chat-room'); // opens, or creates when missing
    console.log(`[1] SDK opened stream ${stream.sid} ("${stream.uniqueName}")`);
    // the SDK resolves just before its subscription is established; wait for it
    if (stream._subscriptionState !== 'established')
      await until(stream, '_subscriptionStateChanged', (s) => s === 'established');

    const fromRest = until(stream, 'messagePublished');
    const sent = await rest('POST', `/v1/Services/${service.sid}/Streams/chat-room/Messages`,
                            { Data: JSON.stringify({ text: 'hello from REST' }) });
    const got = await fromRest;
    assert.strictEqual(got.message.sid, sent.body.sid);
    assert.deepStrictEqual(got.message.data, { text: 'hello from REST' });
    assert.strictEqual(got.isLocal, false);
    console.log(`[2] REST publish ${sent.body.sid} reached the SDK (isLocal false)`);

    const own = until(stream, 'messagePublished', (e) => e.isLocal);
    await stream.publishMessage({ text: 'hello from the SDK' });
    const mine = await own;
    console.log(`[3] the SDK's own publish ${mine.message.sid} came back as local, once`);

    const removed = until(stream, 'removed');
    await rest('DELETE', `/v1/Services/${service.sid}/Streams/chat-room`);
    await removed;
    console.log('[4] REST delete fired `removed` on the SDK');

    const journal = await (await fetch(url + '/_syncfake/journal',
                                       { headers: { Authorization: auth } })).text();
    const delivered = journal.split('\n').filter((l) => l.includes('"kind":"delivered"'));
    console.log(`[5] the journal shows ${delivered.length} deliveries to the SDK's subscriber`);
  } finally {
    await client.shutdown();
  }
}

main().then(() => console.log('subscriber example: all steps passed'),
            (e) => { console.error('subscriber example FAILED:', e); process.exit(1); });

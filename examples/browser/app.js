// app.js: a minimal browser app on Twilio Sync: it opens (or creates) a message stream by name
// and lists what is published to it. Its settings come from the page's query string: `sync` (the
// Sync base URL: syncfake-server here), `token` (an access token; a real app asks its backend)
// and `stream`. examples/browser/app.test.js drives it against the fake.
'use strict';

window.addEventListener('DOMContentLoaded', async () => {
  const q = new URLSearchParams(location.search);
  const sync = q.get('sync');
  const status = document.getElementById('status');
  const client = new Twilio.Sync.Client(q.get('token'), {
    twilsock: { uri: sync.replace(/^http/, 'ws') + '/v3/wsconnect' },
    cdsUri: sync,
  });
  client.on('connectionStateChanged', (s) => { status.textContent = s; });
  const stream = await client.stream(q.get('stream'));
  stream.on('messagePublished', (e) => {
    const li = document.createElement('li');
    li.textContent = JSON.stringify(e.message.data);
    document.getElementById('feed').append(li);
  });
  stream.on('removed', () => { status.textContent = 'stream removed'; });
  status.textContent = client.connectionState;
  document.body.dataset.ready = 'true';
});

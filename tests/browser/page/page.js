// page.js: the page side of tests/browser/sync.test.js. It runs in Chromium on another origin
// than the fake and exposes window.sf, which the test calls through page.evaluate: one Sync
// client (the SDK's browser bundle, global Twilio.Sync.Client), the streams it opened and what
// they received, and the control API called from the page itself (CORS).
'use strict';

window.sf = (() => {
  let cfg = null; // {fake: 'http://127.0.0.1:PORT', auth: 'Basic ...', serviceSid}
  let client = null;
  const opened = {}; // name -> {stream, messages: [{data, isLocal}], removed: number}
  const states = [];
  let tokenExpired = 0;

  async function control(method, path, form) {
    const headers = { Authorization: cfg.auth };
    const init = { method, headers };
    if (form) {
      headers['Content-Type'] = 'application/x-www-form-urlencoded';
      init.body = new URLSearchParams(form).toString();
    }
    const r = await fetch(cfg.fake + path, init);
    const text = await r.text();
    if (!r.ok) throw new Error(`${method} ${path} -> ${r.status} ${text}`);
    return r.headers.get('content-type') === 'application/json' ? JSON.parse(text) : text;
  }

  function waitFor(cond, what, ms = 10000) {
    return new Promise((resolve, reject) => {
      const end = Date.now() + ms;
      const tick = () => {
        const v = cond();
        if (v) return resolve(v);
        if (Date.now() > end) return reject(new Error(`${what}: not within ${ms} ms`));
        setTimeout(tick, 20);
      };
      tick();
    });
  }

  return {
    configure(c) {
      cfg = c;
    },
    control,
    // A token minted by the fake, from the page.
    async mint(identity, ttl = 3600) {
      const { token } = await control('POST', '/_syncfake/tokens',
        { Identity: identity, ServiceSid: cfg.serviceSid, Ttl: String(ttl) });
      return token;
    },
    // A client made with `token`; returns at once (see state()).
    start(token) {
      client = new Twilio.Sync.Client(token, {
        twilsock: { uri: cfg.fake.replace(/^http/, 'ws') + '/v3/wsconnect' },
        cdsUri: cfg.fake,
        logLevel: 'warn',
      });
      client.on('connectionStateChanged', (s) => states.push(s));
      client.on('tokenExpired', () => { tokenExpired++; });
    },
    // A client of a new token, once connected.
    async connect(identity, ttl = 3600) {
      this.start(await this.mint(identity, ttl));
      await waitFor(() => client.connectionState === 'connected', `${identity}: connected (now ${client.connectionState})`);
      return client.connectionState;
    },
    // Opens (or creates) a stream by name and waits for its subscription; returns its SID.
    async open(name) {
      const stream = await client.stream(name);
      const rec = { stream, messages: [], removed: 0 };
      stream.on('messagePublished', (e) => rec.messages.push({ data: e.message.data, isLocal: e.isLocal }));
      stream.on('removed', () => { rec.removed++; });
      opened[name] = rec;
      const impl = stream.syncStreamImpl;
      await waitFor(() => {
        if (impl.subscriptionState === 'failed' || rec.removed) throw new Error(`${name}: subscription failed`);
        return impl.subscriptionState === 'established';
      }, `${name}: subscription established (now ${impl.subscriptionState})`);
      return stream.sid;
    },
    async publish(name, data) {
      await opened[name].stream.publishMessage(data);
    },
    async setTtl(name, ttl) {
      await opened[name].stream.setTtl(ttl);
    },
    seen(name) {
      const r = opened[name];
      return { messages: r.messages, removed: r.removed };
    },
    state() {
      return client ? client.connectionState : 'none';
    },
    states() {
      return { states: states.slice(), tokenExpired };
    },
    async shutdown() {
      if (client) await client.shutdown();
      client = null;
    },
    // What the SDK keeps in this tab's sessionStorage (its descriptor cache).
    cacheSize() {
      return sessionStorage.length;
    },
  };
})();

// data.js: every call the page makes to syncfake, in one place (reads and the controls).
// Reads never change the fake: the page polls control-API reads (which journal nothing),
// never the REST lists (each of those is a journal entry), and never subscribes to a stream.
'use strict';

const sfData = (() => {
  async function request(method, path, form) {
    const init = { method, headers: { Accept: 'application/json' }, credentials: 'same-origin' };
    if (form) {
      init.headers['Content-Type'] = 'application/x-www-form-urlencoded';
      init.body = new URLSearchParams(form).toString();
    }
    const r = await fetch(path, init);
    const text = await r.text();
    let body = null;
    if (text && (r.headers.get('content-type') || '').startsWith('application/json')) body = JSON.parse(text);
    if (!r.ok) {
      const why = body && body.message ? `${body.code}: ${body.message}` : text;
      const err = new Error(`${method} ${path}: ${r.status} ${why}`);
      err.status = r.status;
      throw err;
    }
    return body !== null ? body : text;
  }

  // Journal lines after `since` (one page): [{...entry, raw: 'the line'}].
  async function journal(since, limit = 1000) {
    const text = await request('GET', `/_syncfake/journal?since=${since}&limit=${limit}`);
    return String(text).split('\n').filter((l) => l).map((l) => Object.assign(JSON.parse(l), { raw: l }));
  }

  // One snapshot from GET /_syncfake/state, a read that journals nothing and runs nothing due:
  // {clock, services: [{sid, friendly_name, account, streams: [...]}], faults, subscribers, errors}.
  async function snapshot() {
    return normalizeState(await request('GET', '/_syncfake/state'));
  }

  // GET /_syncfake/state in the shape snapshot() returns: the accounts' services in one list.
  function normalizeState(s) {
    const services = [];
    for (const a of s.accounts || []) for (const svc of a.services || []) services.push(Object.assign({ account: a.sid }, svc));
    return { clock: s.clock, services, faults: s.faults || [], subscribers: s.subscribers || [], errors: s.injected_errors || [] };
  }

  const v1 = (service, rest = '') => `/v1/Services/${encodeURIComponent(service)}${rest}`;
  return {
    journal,
    snapshot,
    advance: (ms) => request('POST', '/_syncfake/clock', { AdvanceMs: String(ms) }),
    setNow: (ms) => request('POST', '/_syncfake/clock', { NowMs: String(ms) }),
    reset: () => request('POST', '/_syncfake/reset', {}),
    createService: (name) => request('POST', '/v1/Services', name ? { FriendlyName: name } : {}),
    createStream: (service, form) => request('POST', v1(service, '/Streams'), form),
    publish: (service, stream, data) => request('POST', v1(service, `/Streams/${stream}/Messages`), { Data: data }),
    setTtl: (service, stream, ttl) => request('POST', v1(service, `/Streams/${stream}`), { Ttl: String(ttl) }),
    deleteStream: (service, stream) => request('DELETE', v1(service, `/Streams/${stream}`)),
    addFault: (form) => request('POST', '/_syncfake/faults', form),
    removeFault: (id) => request('DELETE', `/_syncfake/faults/${id}`),
    subscriberAction: (id, action) => request('POST', `/_syncfake/subscribers/${id}`, { Action: action }),
  };
})();

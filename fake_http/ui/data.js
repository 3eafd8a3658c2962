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

  // GET /_syncfake/state: one read that journals nothing and runs nothing due. The page is
  // compiled into the server it talks to, so whether the route exists is known here.
  const STATE_ROUTE = false;

  // What this page learnt from its own calls' answers (names and expiry of streams), for
  // a server without the state route: its REST list reads would each add a journal entry.
  const learnt = new Map();
  const learn = (stream) => { learnt.set(stream.sid, stream); return stream; };

  // One snapshot: {clock, services: [{sid, friendly_name, streams: [...]}], faults,
  // subscribers, errors, hasState}. `model` is the timeline's (for a server without the state route).
  async function snapshot(model) {
    if (STATE_ROUTE) return normalizeState(await request('GET', '/_syncfake/state'));
    const clock = await request('GET', '/_syncfake/clock');
    const services = [];
    for (const svc of model.services.values()) {
      if (svc.gone) continue;
      const streams = [...svc.streams].filter((sid) => !model.streams.get(sid)?.ended)
        .map((sid) => Object.assign({ sid, unique_name: null, date_expires: null }, learnt.get(sid)));
      services.push({ sid: svc.sid, friendly_name: null, streams });
    }
    const faults = (await request('GET', '/_syncfake/faults')).faults;
    const subscribers = [];
    for (const id of sfTimeline.liveSubscribers(model)) subscribers.push(await request('GET', `/_syncfake/subscribers/${id}`));
    return { clock, services, faults, subscribers, errors: null, hasState: false };
  }

  // GET /_syncfake/state in the shape snapshot() returns: the accounts' services in one list.
  function normalizeState(s) {
    const services = [];
    for (const a of s.accounts || []) for (const svc of a.services || []) services.push(Object.assign({ account: a.sid }, svc));
    return { clock: s.clock, services, faults: s.faults || [], subscribers: s.subscribers || [], errors: s.injected_errors || [], hasState: true };
  }

  const v1 = (service, rest = '') => `/v1/Services/${encodeURIComponent(service)}${rest}`;
  return {
    journal,
    snapshot,
    advance: (ms) => request('POST', '/_syncfake/clock', { AdvanceMs: String(ms) }),
    setNow: (ms) => request('POST', '/_syncfake/clock', { NowMs: String(ms) }),
    reset: () => request('POST', '/_syncfake/reset', {}),
    createService: (name) => request('POST', '/v1/Services', name ? { FriendlyName: name } : {}),
    createStream: async (service, form) => learn(await request('POST', v1(service, '/Streams'), form)),
    publish: (service, stream, data) => request('POST', v1(service, `/Streams/${stream}/Messages`), { Data: data }),
    setTtl: async (service, stream, ttl) => learn(await request('POST', v1(service, `/Streams/${stream}`), { Ttl: String(ttl) })),
    deleteStream: (service, stream) => request('DELETE', v1(service, `/Streams/${stream}`)),
    addFault: (form) => request('POST', '/_syncfake/faults', form),
    removeFault: (id) => request('DELETE', `/_syncfake/faults/${id}`),
    subscriberAction: (id, action) => request('POST', `/_syncfake/subscribers/${id}`, { Action: action }),
  };
})();

// timeline.js: the delivery timeline. The journal -> a model (messages, subscribers, each
// message's fate per subscriber) -> an SVG with one lane per subscriber on the fake-time axis.
// Every mark that stands for a journal entry carries data-seq and shows that entry on hover
// (its <title>) and on click or Enter (the details panel).
'use strict';

const sfTimeline = (() => {
  const SVG = 'http://www.w3.org/2000/svg';
  // What each journal kind means on a subscriber's lane.
  const FATES = {
    delivered: 'delivered', dropped: 'dropped', delayed: 'delayed', duplicated: 'duplicated',
    held: 'held (parked while held)', lost: 'lost', discarded: 'discarded at heal',
    removed: 'removed (stream expired or deleted)', unsubscribed: 'unsubscribed',
  };

  function emptyModel() {
    return { entries: [], streams: new Map(), subscribers: new Map(), messages: new Map(), fates: [] };
  }

  function stream(model, sid, t) {
    if (!model.streams.has(sid)) model.streams.set(sid, { sid, firstT: t, subscribers: [], messages: [], ended: null });
    return model.streams.get(sid);
  }

  // Adds journal entries (in seq order) to the model.
  function add(model, entries) {
    for (const e of entries) {
      model.entries.push(e);
      if (e.kind === 'api' && e.op === 'message.create' && e.status === 201 && e.message_sid) {
        const m = { sid: e.message_sid, stream: e.stream_sid, t: e.t_ms, seq: e.seq, entry: e };
        model.messages.set(m.sid, m);
        stream(model, e.stream_sid, e.t_ms).messages.push(m);
      } else if (e.kind === 'subscribed') {
        const s = { id: e.subscriber_id, stream: e.stream_sid, joinedT: e.t_ms, joinedSeq: e.seq, ended: null, entry: e };
        model.subscribers.set(s.id, s);
        stream(model, e.stream_sid, e.t_ms).subscribers.push(s);
      } else if (e.kind === 'expired' || (e.kind === 'api' && e.op === 'stream.remove' && e.status === 204)) {
        stream(model, e.stream_sid, e.t_ms).ended = e;
      } else if (FATES[e.kind] && e.subscriber_id) {
        model.fates.push(e);
        const s = model.subscribers.get(e.subscriber_id);
        if (s && (e.kind === 'removed' || e.kind === 'unsubscribed')) s.ended = e;
      }
    }
  }

  function el(name, attrs, parent) {
    const n = document.createElementNS(SVG, name);
    for (const [k, v] of Object.entries(attrs)) n.setAttribute(k, String(v));
    if (parent) parent.appendChild(n);
    return n;
  }

  function describe(e) {
    const what = FATES[e.kind] || e.kind;
    let text = `#${e.seq} ${what}`;
    if (e.message_sid) text += ` ${e.message_sid}`;
    if (e.subscriber_id) text += ` for subscriber ${e.subscriber_id}`;
    if (e.rule) text += ` by rule ${e.rule}`;
    if (e.kind === 'delayed' || e.kind === 'duplicated') text += ` until ${e.until_ms}`;
    if (e.kind === 'delivered' && e.until_ms !== undefined && e.until_ms < e.t_ms) text += ` (published ${e.until_ms}, late by ${e.t_ms - e.until_ms} ms)`;
    if (e.duplicate) text += ' (duplicate copy)';
    if (e.reason) text += ` (${e.reason})`;
    return text;
  }

  // A mark for one journal entry (or a derived "missed"): focusable, titled, clickable.
  function mark(g, kind, e, label, onPick) {
    const m = el('g', { class: `mark ${kind}`, 'data-kind': kind, tabindex: 0, role: 'button', 'aria-label': label }, g);
    if (e) {
      m.setAttribute('data-seq', e.seq);
      if (e.message_sid) m.setAttribute('data-message', e.message_sid);
      if (e.subscriber_id) m.setAttribute('data-subscriber', e.subscriber_id);
    }
    el('title', {}, m).textContent = label + (e ? `\n${e.raw}` : '');
    const pick = () => onPick(label, e);
    m.addEventListener('click', pick);
    m.addEventListener('keydown', (ev) => { if (ev.key === 'Enter' || ev.key === ' ') { ev.preventDefault(); pick(); } });
    return m;
  }

  function shape(m, kind, x, y) {
    const r = 5;
    switch (kind) {
      case 'publish': return el('circle', { cx: x, cy: y, r: r + 1 }, m);
      case 'delivered': return el('circle', { cx: x, cy: y, r }, m);
      case 'dropped': case 'lost': case 'discarded':
        return el('path', { d: `M${x - r},${y - r}L${x + r},${y + r}M${x - r},${y + r}L${x + r},${y - r}` }, m);
      case 'delayed': return el('path', { d: `M${x - r},${y - r}L${x + r},${y}L${x - r},${y + r}Z` }, m);
      case 'duplicated': return el('rect', { x: x - r, y: y - r, width: 2 * r, height: 2 * r }, m);
      case 'held': return el('rect', { x: x - r, y: y - r / 2, width: 2 * r, height: r }, m);
      case 'missed': return el('circle', { cx: x, cy: y, r: r - 1 }, m);
      default: return el('rect', { x: x - 2, y: y - 9, width: 4, height: 18 }, m); // removed, unsubscribed, expired
    }
  }

  // Draws the model into `host` (an element); nowMs extends the axis to the fake's present.
  // kinds: subscriber id -> its connection kind (c, sse, websocket), when the server says.
  function render(host, model, nowMs, onPick, kinds = new Map()) {
    host.textContent = '';
    const lanes = [];
    for (const s of model.streams.values()) {
      lanes.push({ kind: 'stream', stream: s, label: `stream ${s.sid}` });
      for (const sub of s.subscribers) lanes.push({ kind: 'subscriber', sub, label: `subscriber ${sub.id}` });
    }
    if (!lanes.length) {
      const p = document.createElement('p');
      p.textContent = 'No stream activity in the journal yet: create a stream, subscribe and publish.';
      host.appendChild(p);
      return;
    }
    let t0 = Infinity, t1 = -Infinity;
    for (const e of model.entries) {
      t0 = Math.min(t0, e.t_ms);
      t1 = Math.max(t1, e.t_ms, e.until_ms || -Infinity);
    }
    if (Number.isFinite(nowMs)) t1 = Math.max(t1, nowMs);
    const span = Math.max(1, t1 - t0);
    const LEFT = 170, WIDTH = 860, LANE = 34, TOP = 30;
    const x = (t) => LEFT + ((t - t0) / span) * WIDTH;
    const height = TOP + lanes.length * LANE + 10;
    const svg = el('svg', { viewBox: `0 0 ${LEFT + WIDTH + 150} ${height}`, role: 'group', 'aria-label': 'Delivery timeline', id: 'timeline-svg' });
    host.appendChild(svg);
    // the axis: ticks at the start, the end and three between, in ms since the first entry
    for (let i = 0; i <= 4; i++) {
      const t = t0 + (span * i) / 4;
      el('line', { x1: x(t), y1: TOP - 8, x2: x(t), y2: height, class: 'tick' }, svg);
      el('text', { x: x(t), y: TOP - 12, class: 'tick-label' }, svg).textContent = `+${Math.round(t - t0)} ms`;
    }
    const laneY = new Map();
    lanes.forEach((lane, i) => {
      const y = TOP + i * LANE + LANE / 2;
      if (lane.kind === 'stream') laneY.set(lane.stream.sid, y);
      else laneY.set(`sub:${lane.sub.id}`, y);
      el('line', { x1: LEFT, y1: y, x2: LEFT + WIDTH, y2: y, class: `lane ${lane.kind}` }, svg);
      el('text', { x: 8, y: y + 4, class: `lane-label ${lane.kind}` }, svg).textContent =
        lane.kind === 'stream' ? `${lane.stream.sid.slice(0, 12)}… publishes`
          : `  subscriber ${lane.sub.id}${kinds.has(lane.sub.id) ? ` (${kinds.get(lane.sub.id)})` : ''}`;
    });
    const used = new Map(); // "y:x" -> marks there already: equal times line up side by side
    const place = (y, t) => {
      const key = `${y}:${Math.round(x(t))}`;
      const n = used.get(key) || 0;
      used.set(key, n + 1);
      return x(t) + n * 11;
    };
    for (const s of model.streams.values()) {
      const y = laneY.get(s.sid);
      for (const m of s.messages) {
        const g = mark(svg, 'publish', m.entry, `#${m.seq} publish ${m.sid} at ${m.t}`, onPick);
        shape(g, 'publish', place(y, m.t), y);
      }
      if (s.ended) shape(mark(svg, 'ended', s.ended, describe(s.ended), onPick), 'ended', x(s.ended.t_ms), y);
      for (const sub of s.subscribers) { // published before it joined: missed
        const sy = laneY.get(`sub:${sub.id}`);
        for (const m of s.messages) {
          if (m.seq > sub.joinedSeq) continue;
          const g = mark(svg, 'missed', null, `${m.sid} missed by subscriber ${sub.id} (joined later, #${sub.joinedSeq})`, onPick);
          g.setAttribute('data-message', m.sid);
          g.setAttribute('data-subscriber', sub.id);
          shape(g, 'missed', place(sy, m.t), sy);
        }
      }
    }
    for (const e of model.fates) {
      const y = laneY.get(`sub:${e.subscriber_id}`);
      if (y === undefined) continue; // its subscription predates the journal's oldest entry
      const at = e.kind === 'delayed' || e.kind === 'duplicated' ? e.until_ms : e.t_ms;
      const g = mark(svg, e.kind, e, describe(e), onPick);
      const xx = place(y, at);
      const from = e.kind === 'delivered' ? e.until_ms : e.t_ms; // delivered: until_ms is the publish time
      if (from !== undefined && from < at) el('line', { x1: x(from), y1: y, x2: xx, y2: y, class: 'late' }, g);
      shape(g, e.kind, xx, y);
      if (e.rule && e.kind === 'dropped') el('text', { x: xx - 4, y: y - 9, class: 'rule' }, g).textContent = `r${e.rule}`;
    }
    if (Number.isFinite(nowMs)) {
      el('line', { x1: x(nowMs), y1: TOP - 8, x2: x(nowMs), y2: height, class: 'now' }, svg);
      el('text', { x: x(nowMs) + 3, y: height - 2, class: 'tick-label' }, svg).textContent = 'now';
    }
  }

  return { emptyModel, add, render, describe };
})();

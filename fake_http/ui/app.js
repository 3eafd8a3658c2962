// app.js: the page's state tables, its controls and the refresh loop. Data access is in
// data.js (sfData), the timeline in timeline.js (sfTimeline).
'use strict';

(() => {
  const POLL_MS = 500;
  const JOURNAL_KEEP = 20000; // entries kept for the timeline; older ones are dropped
  const $ = (id) => document.getElementById(id);
  let model = sfTimeline.emptyModel();
  let lastSeq = 0;
  let lastRaw = null;
  let snap = null;
  let drawn = ''; // what the timeline shows now: redrawn only when it changes

  function status(text, isError) {
    $('status').textContent = text;
    $('status').classList.toggle('error', !!isError);
  }

  // Runs a control's call, then refreshes; a refusal is shown, never thrown into the console.
  async function act(what, fn) {
    try {
      await fn();
      status(`${what}: done`);
    } catch (e) {
      status(`${what}: ${e.message}`, true);
    }
    await refresh();
  }

  // ---- the journal: read once on load, then only the entries after the last one seen ----

  async function readJournal() {
    const since = lastSeq > 0 ? lastSeq - 1 : 0;
    let page = await sfData.journal(since);
    if (lastSeq > 0) {
      // the entry seen last must come back first and unchanged; else the fake was reset
      if (!page.length || page[0].seq !== lastSeq || page[0].raw !== lastRaw) {
        model = sfTimeline.emptyModel();
        lastSeq = 0;
        lastRaw = null;
        page = await sfData.journal(0);
      } else {
        page = page.slice(1);
      }
    }
    let changed = false;
    while (page.length) {
      sfTimeline.add(model, page);
      lastSeq = page[page.length - 1].seq;
      lastRaw = page[page.length - 1].raw;
      changed = true;
      if (page.length < 1000) break;
      page = await sfData.journal(lastSeq);
    }
    if (model.entries.length > JOURNAL_KEEP) {
      const keep = model.entries.slice(-JOURNAL_KEEP);
      model = sfTimeline.emptyModel();
      sfTimeline.add(model, keep);
    }
    return changed;
  }

  // ---- rows kept in place (so focus stays on a button while counters change) ----

  function button(text, label, onClick) {
    const b = document.createElement('button');
    b.type = 'button';
    b.textContent = text;
    b.setAttribute('aria-label', label);
    b.addEventListener('click', onClick);
    return b;
  }

  function syncRows(tbody, items, key, build, update) {
    const seen = new Set();
    for (const item of items) {
      const k = String(key(item));
      seen.add(k);
      let row = tbody.querySelector(`tr[data-key="${CSS.escape(k)}"]`);
      if (!row) {
        row = document.createElement('tr');
        row.dataset.key = k;
        build(row, item);
        tbody.appendChild(row);
      }
      update(row, item);
    }
    for (const row of [...tbody.rows]) if (!seen.has(row.dataset.key)) row.remove();
  }

  function cells(row, n) {
    for (let i = 0; i < n; i++) row.appendChild(document.createElement('td'));
    return row.cells;
  }

  // ---- state ----

  const nowMs = () => (snap ? Number(snap.clock.now_ms) : NaN);

  function countdown(stream) {
    if (!stream.date_expires) return 'never';
    const at = stream.date_expires_ms ?? Date.parse(stream.date_expires);
    const left = at - nowMs();
    return left > 0 ? `${(left / 1000).toFixed(3)} s` : '0 s (expiring)';
  }

  function bucket(stream) {
    const r = stream.rate_limit;
    if (!r) return '';
    return r.limited ? `${r.tokens} of ${r.capacity} tokens` : 'not limited';
  }

  function renderClock() {
    const c = snap.clock;
    $('clock-now').textContent = `${new Date(Number(c.now_ms)).toISOString()} (${c.now_ms} ms)`;
    $('clock-mode').textContent = `${c.mode} clock`;
    const wall = c.mode !== 'manual';
    $('clock-wall-note').hidden = !wall;
    for (const b of $('clock-controls').querySelectorAll('button, input')) b.disabled = wall;
  }

  function renderServices() {
    const sel = $('service');
    const want = snap.services.map((s) => s.sid).join(',');
    if (sel.dataset.sids !== want) {
      const keep = sel.value;
      sel.textContent = '';
      for (const s of snap.services) {
        const o = document.createElement('option');
        o.value = s.sid;
        o.textContent = `${s.friendly_name || s.unique_name || s.sid} (${s.sid})`;
        sel.appendChild(o);
      }
      if (keep && want.includes(keep)) sel.value = keep;
      sel.dataset.sids = want;
    }
  }

  function renderStreams() {
    const streams = snap.services.flatMap((svc) => svc.streams.map((s) => Object.assign({ service: svc.sid }, s)));
    syncRows($('streams').tBodies[0], streams, (s) => s.sid, (row, s) => {
      const td = cells(row, 6);
      const name = s.unique_name || s.sid;
      td[0].textContent = s.service;
      td[1].textContent = s.unique_name || '';
      td[2].textContent = s.sid;
      td[3].className = 'ttl';
      td[4].className = 'bucket';
      td[5].className = 'actions';
      const data = document.createElement('input');
      data.type = 'text';
      data.value = '{"text":"hello"}';
      data.setAttribute('aria-label', `Message data (JSON) for ${name}`);
      const ttl = document.createElement('input');
      ttl.type = 'number';
      ttl.min = '0';
      ttl.value = '10';
      ttl.setAttribute('aria-label', `New TTL (s) for ${name}`);
      td[5].append(
        data, button('Publish', `Publish to ${name}`, () => act(`publish to ${name}`, () => sfData.publish(s.service, s.sid, data.value))),
        ttl, button('Set TTL', `Set the TTL of ${name}`, () => act(`TTL of ${name}`, () => sfData.setTtl(s.service, s.sid, ttl.value))),
        button('Delete', `Delete ${name}`, () => act(`delete ${name}`, () => sfData.deleteStream(s.service, s.sid))));
    }, (row, s) => {
      row.cells[3].textContent = countdown(s);
      row.cells[4].textContent = bucket(s);
    });
  }

  function subscriberState(s) {
    if (s.attached === false) return 'detached';
    const parts = [s.connected === false ? 'disconnected' : 'connected'];
    if (s.held) parts.push('held');
    return parts.join(', ');
  }

  function renderSubscribers() {
    const names = ['hold', 'heal', 'discard', 'disconnect', 'reconnect'];
    syncRows($('subscribers').tBodies[0], snap.subscribers, (s) => s.id, (row, s) => {
      const td = cells(row, 11);
      td[0].textContent = s.id;
      td[1].textContent = s.stream_sid;
      td[10].className = 'actions';
      for (const a of names)
        td[10].appendChild(button(a, `${a} subscriber ${s.id}`, () => act(`${a} subscriber ${s.id}`, () => sfData.subscriberAction(s.id, a))));
    }, (row, s) => {
      const td = row.cells;
      td[2].textContent = s.kind || s.connection || '—';
      ['delivered', 'duplicated', 'dropped', 'lost', 'in_flight', 'parked'].forEach((k, i) => { td[3 + i].textContent = s[k] ?? ''; });
      td[9].textContent = subscriberState(s);
    });
  }

  function ruleText(f) {
    const parts = [];
    if (f.drop_rate) parts.push(`drop ${f.drop_rate}`);
    if (f.duplicate_rate) parts.push(`duplicate ${f.duplicate_rate}`);
    if (f.delay_ms) parts.push(`delay ${f.delay_ms} ms`);
    if (f.jitter_ms) parts.push(`jitter ${f.jitter_ms} ms`);
    if (f.drop_next) parts.push(`drop next ${f.drop_next} (${f.drop_next_left} left)`);
    if (f.expiry_lag_ms) parts.push(`expiry lag ${f.expiry_lag_ms} ms`);
    return parts.join(', ') || 'no effect';
  }

  function renderFaults() {
    syncRows($('faults').tBodies[0], snap.faults, (f) => f.id, (row, f) => {
      const td = cells(row, 6);
      td[0].textContent = f.id;
      td[1].textContent = f.scope;
      td[2].textContent = f.target ?? '';
      td[3].textContent = ruleText(f);
      td[5].className = 'actions';
      td[5].appendChild(button('Remove', `Remove rule ${f.id}`, () => act(`remove rule ${f.id}`, () => sfData.removeFault(f.id))));
    }, (row, f) => {
      row.cells[3].textContent = ruleText(f);
      row.cells[4].textContent = f.hits;
    });
    const errors = snap.errors;
    $('errors').textContent = !errors.length ? 'none'
      : errors.map((e) => `${e.operation} ×${e.count_left} → ${e.status}/${e.code}${e.after_apply ? ' (after applying)' : ''}`).join('; ');
  }

  function pick(label, entry) {
    $('entry').textContent = entry ? `${label}\n${entry.raw}` : label;
  }

  function renderTimeline() {
    const key = `${lastSeq}:${lastRaw}:${nowMs()}:${snap.subscribers.map((s) => s.connection).join()}`;
    if (key === drawn) return;
    drawn = key;
    const focused = document.activeElement && document.activeElement.closest && document.activeElement.closest('#timeline .mark');
    const focusKey = focused ? [focused.dataset.kind, focused.dataset.seq, focused.dataset.message, focused.dataset.subscriber] : null;
    const kinds = new Map(snap.subscribers.filter((s) => s.connection).map((s) => [s.id, s.connection]));
    sfTimeline.render($('timeline'), model, nowMs(), pick, kinds);
    if (focusKey) {
      const again = [...$('timeline').querySelectorAll('.mark')].find((m) =>
        [m.dataset.kind, m.dataset.seq, m.dataset.message, m.dataset.subscriber].join() === focusKey.join());
      if (again) again.focus();
    }
  }

  // ---- the refresh loop: reads only ----

  let running = null;
  function refresh() {
    if (!running) {
      running = (async () => {
        try {
          await readJournal();
          snap = await sfData.snapshot();
          renderClock();
          renderServices();
          renderStreams();
          renderSubscribers();
          renderFaults();
          renderTimeline();
          if ($('status').classList.contains('error') === false && $('status').textContent === 'Loading…') status('Live');
          document.body.dataset.seq = String(lastSeq);
        } catch (e) {
          status(`Refresh failed: ${e.message}`, true);
        } finally {
          running = null;
        }
      })();
    }
    return running;
  }

  function loop() {
    refresh().finally(() => setTimeout(loop, POLL_MS));
  }

  // ---- controls ----

  for (const b of $('clock-controls').querySelectorAll('button[data-advance]')) {
    b.setAttribute('aria-label', `Advance the clock by ${b.textContent.slice(1)}`);
    b.addEventListener('click', () => act(`advance ${b.textContent}`, () => sfData.advance(Number(b.dataset.advance))));
  }
  $('advance-go').addEventListener('click', () => act('advance', () => sfData.advance($('advance-ms').value)));
  $('set-now-go').addEventListener('click', () => act('set clock', () => sfData.setNow($('set-now').value)));
  $('service-new').addEventListener('click', () => act('new service', async () => {
    const s = await sfData.createService('sandbox');
    $('service').dataset.sids = '';
    await refresh();
    $('service').value = s.sid;
  }));
  $('stream-create').addEventListener('click', () => act('create stream', () => {
    const form = {};
    if ($('stream-name').value) form.UniqueName = $('stream-name').value;
    if (Number($('stream-ttl').value) > 0) form.Ttl = $('stream-ttl').value;
    if (!$('service').value) throw new Error('create a service first');
    return sfData.createStream($('service').value, form);
  }));
  $('fault-add').addEventListener('click', () => act('add rule', () => {
    const form = { Scope: $('fault-scope').value };
    if ($('fault-target').value) form.Target = $('fault-target').value;
    const fields = { DropRate: 'fault-drop', DuplicateRate: 'fault-dup', DelayMs: 'fault-delay', JitterMs: 'fault-jitter', DropNext: 'fault-drop-next' };
    for (const [name, id] of Object.entries(fields)) if (Number($(id).value)) form[name] = $(id).value;
    return sfData.addFault(form);
  }));
  $('reset').addEventListener('click', () => act('reset', () => sfData.reset()));

  loop();
})();

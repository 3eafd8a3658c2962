#!/usr/bin/python3
"""streams.py: Twilio's official Python helper library (Debian's python3-twilio, 7.x) driving
syncfake-server.

Every Sync Message Streams endpoint, through the library as an application would use it:
services, streams (create, fetch by SID and by unique name, update, list/stream across pages,
delete), publishing, and TwilioRestException for 404, 409, 401, 413 and 429. Then a subscriber
on syncfake's server-sent-events endpoint (a plain HTTP GET) sees what is published, and the
`removed` event when the stream is deleted or expires.

    SYNCFAKE_URL=http://127.0.0.1:8787 SYNCFAKE_ACCOUNT_SID=AC... SYNCFAKE_AUTH_TOKEN=... \\
        /usr/bin/python3 streams.py

Run it with Debian's /usr/bin/python3 (`apt-get install -y python3-twilio`): another Python in
PATH (pyenv, a venv) does not see Debian's packages. Start the server with `--clock manual` for
the full run: the 429 step needs 301 publishes in one instant and the expiry step moves the
clock; with a wall clock those two steps are skipped. Every result is checked; the first
mismatch ends the run with exit status 1.
"""
import base64
import datetime
import http.client
import json
import os
import queue
import signal
import sys
import threading
import traceback
import urllib.parse

from twilio import __version__ as twilio_version
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

BASE = os.environ.get("SYNCFAKE_URL", "").rstrip("/")
ACCOUNT_SID = os.environ.get("SYNCFAKE_ACCOUNT_SID", "")
AUTH_TOKEN = os.environ.get("SYNCFAKE_AUTH_TOKEN", "")
if not (BASE and ACCOUNT_SID and AUTH_TOKEN):
    sys.exit("usage: SYNCFAKE_URL=... SYNCFAKE_ACCOUNT_SID=AC... SYNCFAKE_AUTH_TOKEN=... "
             "/usr/bin/python3 streams.py")

# Nothing here may hang: the whole run has a deadline.
DEADLINE_S = 100


def _deadline(signum, frame):
    print(f"FAIL: no result after {DEADLINE_S} s", file=sys.stderr, flush=True)
    os._exit(1)


signal.signal(signal.SIGALRM, _deadline)
signal.alarm(DEADLINE_S)


class Mismatch(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Mismatch(what)


def equal(got, want, what):
    if got != want:
        raise Mismatch(f"{what}: got {got!r}, want {want!r}")


# ---- the official client, pointed at the fake ----

def make_client(token):
    # twilio-python 7.x keeps each domain's base URL in the domain object's `base_url`
    # (twilio/base/domain.py; twilio/rest/sync/__init__.py sets 'https://sync.twilio.com').
    # `client.sync` is created once and cached, so this redirects every Sync request; paging
    # URLs come back absolute from the server and are followed verbatim.
    # A 10 s timeout per request keeps a stuck server from hanging the run.
    from twilio.http.http_client import TwilioHttpClient
    c = Client(ACCOUNT_SID, token, http_client=TwilioHttpClient(timeout=10))
    c.sync.base_url = BASE
    return c


client = make_client(AUTH_TOKEN)
sync = client.sync.v1

# ---- a small log ----

steps = 0


def log(msg):
    print(f"  {msg}", flush=True)


def step(title):
    global steps
    steps += 1
    print(f"[{steps:2}] {title}", flush=True)


# ---- plain HTTP for syncfake's own /_syncfake/ routes and the event stream ----

_url = urllib.parse.urlsplit(BASE)
_auth = "Basic " + base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()


def _connection(timeout):
    cls = http.client.HTTPSConnection if _url.scheme == "https" else http.client.HTTPConnection
    return cls(_url.hostname, _url.port, timeout=timeout)


def raw_request(method, path, form=None):
    body = urllib.parse.urlencode(form) if form is not None else None
    headers = {"Authorization": _auth, "Accept": "application/json"}
    if body is not None:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    conn = _connection(10)
    try:
        conn.request(method, _url.path + path, body=body, headers=headers)
        resp = conn.getresponse()
        return resp.status, resp.read().decode("utf-8")
    finally:
        conn.close()


def control(method, path, form=None):
    status, text = raw_request(method, path, form)
    check(200 <= status < 300, f"{method} {path} -> {status} {text}")
    return text


def clock_now():
    return json.loads(control("GET", "/_syncfake/clock"))


def advance_clock(ms):
    return json.loads(control("POST", "/_syncfake/clock", {"AdvanceMs": str(ms)}))


def journal():
    return [json.loads(line) for line in control("GET", "/_syncfake/journal").splitlines()
            if line.strip()]


class Subscriber:
    """GET /_syncfake/Services/{IS}/Streams/{id}/Events, parsed as server-sent events
    ("event: NAME", "data: ONE-LINE-JSON", blank line) by a reader thread."""

    def __init__(self, service_sid, stream):
        path = (f"{_url.path}/_syncfake/Services/{service_sid}/Streams/"
                f"{urllib.parse.quote(stream, safe='')}/Events")
        self.events = queue.Queue()
        self.conn = _connection(30)
        self.conn.request("GET", path, headers={"Authorization": _auth,
                                                "Accept": "text/event-stream"})
        self.resp = self.conn.getresponse()
        equal(self.resp.status, 200, f"GET {path}")
        check(self.resp.getheader("Content-Type", "").startswith("text/event-stream"),
              "Content-Type text/event-stream")
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        name, data = "message", []
        try:
            while True:
                line = self.resp.readline()
                if not line:
                    break
                line = line.decode("utf-8").rstrip("\r\n")
                if line == "":
                    if data:
                        self.events.put((name, json.loads("\n".join(data))))
                    name, data = "message", []
                elif line.startswith("event:"):
                    name = line[6:].strip()
                elif line.startswith("data:"):
                    data.append(line[5:].lstrip(" "))
        except Exception as e:  # a closed or timed-out socket ends the stream
            self.events.put(("error", repr(e)))
        self.events.put(None)

    def next(self, timeout=5):
        """The next (event, data), or None once the server has closed the stream."""
        try:
            return self.events.get(timeout=timeout)
        except queue.Empty:
            raise Mismatch(f"no event within {timeout} s") from None

    def close(self):
        self.conn.close()


# ---- assertions on the library's errors ----

def expect_rest_error(call, status, code, what):
    try:
        call()
    except TwilioRestException as e:
        equal(e.status, status, f"{what}: status")
        equal(e.code, code, f"{what}: code")
        log(f"{what}: TwilioRestException {e.status}/{e.code} \"{e.msg}\"")
        return e
    raise Mismatch(f"{what}: expected HTTP {status} (code {code}), but the call succeeded")


def sid_like(value, prefix):
    return (isinstance(value, str) and len(value) == 34 and value.startswith(prefix)
            and all(c in "0123456789abcdef" for c in value[2:]))


def plus(dt, seconds):
    return dt + datetime.timedelta(seconds=seconds)


# ---- the walk-through ----

def main():
    print(f"twilio-python {twilio_version} -> {BASE}", flush=True)
    clock = clock_now()
    manual = clock["mode"] == "manual"
    log(f"fake clock: {clock['now']} ({clock['mode']})")

    step("services: create, fetch, update, list, delete")
    service = sync.services.create(friendly_name="python-example")
    check(sid_like(service.sid, "IS"), f"service sid {service.sid}")
    equal(service.account_sid, ACCOUNT_SID, "account_sid")
    equal(service.friendly_name, "python-example", "friendly_name")
    equal(service.unique_name, None, "unique_name")
    equal(service.url, f"{BASE}/v1/Services/{service.sid}", "url")
    equal(service.links["streams"], f"{BASE}/v1/Services/{service.sid}/Streams", "links.streams")
    equal(service.acl_enabled, False, "acl_enabled")
    equal(service.reachability_debouncing_window, 5000, "reachability_debouncing_window")
    check(isinstance(service.date_created, datetime.datetime), "date_created is a datetime")
    log(f"created {service.sid}")
    equal(sync.services(service.sid).fetch().friendly_name, "python-example", "fetch")

    # twilio-python 7.x sends Python booleans as the text str(True) == "True".
    try:
        sync.services(service.sid).update(acl_enabled=True)
        log("acl_enabled=True (sent as AclEnabled=True) accepted")
    except TwilioRestException as e:
        equal((e.status, e.code), (400, 20001), "AclEnabled=True")
        log(f"NOTE: the fake refuses AclEnabled=True ({e.status}/{e.code}); "
            "sending the string 'true' instead")
    updated = sync.services(service.sid).update(
        friendly_name="python-example (renamed)", acl_enabled="true",
        reachability_debouncing_enabled="true", reachability_debouncing_window=2000,
        webhook_url="https://example.com/sync-hook")
    equal(updated.friendly_name, "python-example (renamed)", "updated friendly_name")
    equal(updated.acl_enabled, True, "updated acl_enabled")
    equal(updated.reachability_debouncing_enabled, True, "updated debouncing")
    equal(updated.reachability_debouncing_window, 2000, "updated debouncing window")
    equal(updated.webhook_url, "https://example.com/sync-hook", "updated webhook_url")
    log("updated friendly_name, acl_enabled, debouncing, webhook_url")

    other = sync.services.create(friendly_name="python-example-2")
    sids = [s.sid for s in sync.services.list(page_size=1)]
    check(service.sid in sids and sids.index(other.sid) > sids.index(service.sid),
          f"services.list in creation order: {sids}")
    log(f"services.list(page_size=1) walked {len(sids)} service(s)")
    equal(sync.services(other.sid).delete(), True, "delete service")
    expect_rest_error(lambda: sync.services(other.sid).fetch(), 404, 20404,
                      "fetch deleted service")

    svc = sync.services(service.sid)

    step("streams: create (unique_name, ttl), fetch by SID and by unique name")
    orders = svc.sync_streams.create(unique_name="orders", ttl=3600)
    check(sid_like(orders.sid, "TO"), f"stream sid {orders.sid}")
    equal(orders.unique_name, "orders", "unique_name")
    equal(orders.account_sid, ACCOUNT_SID, "account_sid")
    equal(orders.service_sid, service.sid, "service_sid")
    equal(orders.created_by, "system", "created_by")
    equal(orders.url, f"{BASE}/v1/Services/{service.sid}/Streams/{orders.sid}", "url")
    equal(orders.links["messages"], orders.url + "/Messages", "links.messages")
    equal(orders.date_expires, plus(orders.date_created, 3600), "date_expires")
    log(f"created {orders.sid} \"orders\", expires {orders.date_expires.isoformat()}")
    equal(svc.sync_streams(orders.sid).fetch().unique_name, "orders", "fetch by SID")
    by_name = svc.sync_streams("orders").fetch()
    equal(by_name.sid, orders.sid, "fetch by unique name")
    equal(by_name.url, orders.url, "url always carries the SID")
    anon = svc.sync_streams.create()
    equal((anon.unique_name, anon.date_expires), (None, None), "stream without name and ttl")
    equal(anon.delete(), True, "delete stream")
    log("a stream without unique_name/ttl has unique_name and date_expires null")

    step("streams: update ttl")
    if manual:
        advance_clock(5000)
    u = svc.sync_streams("orders").update(ttl=7200)
    equal(u.sid, orders.sid, "update by name")
    equal(u.date_expires, plus(u.date_updated, 7200), "date_expires after update")
    if manual:
        equal(u.date_updated - orders.date_updated, datetime.timedelta(seconds=5),
              "date_updated moved with the clock")
    log(f"ttl 7200 -> date_expires {u.date_expires.isoformat()}")
    equal(svc.sync_streams(orders.sid).update(ttl=0).date_expires, None, "ttl 0")
    log("ttl 0 -> date_expires null (never expires)")

    step("streams: stream(page_size=2) / list(page_size=2) across pages (5 streams)")
    paged = sync.services.create(friendly_name="python-paging")
    ps = sync.services(paged.sid).sync_streams
    created = [ps.create(unique_name=f"page-{i}").sid for i in range(5)]
    lists = lambda: sum(1 for e in journal() if e.get("op") == "stream.list")  # noqa: E731
    before = lists()
    streamed = [s.sid for s in ps.stream(page_size=2)]
    equal(streamed, created, "stream(page_size=2): all 5, in creation order")
    equal(lists() - before, 3, "stream(): page requests (2 + 2 + 1)")
    before = lists()
    listed = [s.sid for s in ps.list(page_size=2)]
    equal(listed, created, "list(page_size=2)")
    equal(lists() - before, 3, "list(): page requests")
    log(f"stream() and list() each returned {len(listed)} streams in 3 page requests")
    equal([s.sid for s in ps.list(limit=3, page_size=2)], created[:3], "list(limit=3)")
    page = ps.page(page_size=2)
    sizes = [len(list(page))]
    equal(page.previous_page_url, None, "first page: previous_page_url")
    while page.next_page_url:
        check(page.next_page_url.startswith(
            f"{BASE}/v1/Services/{paged.sid}/Streams?PageSize=2&Page="), page.next_page_url)
        page = page.next_page()
        sizes.append(len(list(page)))
    equal(sizes, [2, 2, 1], "page sizes")
    equal(page.next_page(), None, "no page after the last")
    check(page.previous_page_url, "the last page links back")
    back = page.previous_page()
    equal([s.sid for s in back], created[2:4], "previous_page()")
    log(f"page()/next_page() sizes {sizes}; previous_page() goes back")
    equal(sync.services(paged.sid).delete(), True, "delete paging service")

    step("messages: publish")
    m = svc.sync_streams(orders.sid).stream_messages.create(
        data={"order": 1, "items": ["tea", "milk"]})
    check(sid_like(m.sid, "TZ"), f"message sid {m.sid}")
    equal(m.data, {"order": 1, "items": ["tea", "milk"]}, "published data")
    m2 = svc.sync_streams("orders").stream_messages.create(data={"order": 2, "note": "héllo ✓"})
    equal(m2.data, {"order": 2, "note": "héllo ✓"}, "published data (by unique name)")
    check(m2.sid != m.sid, "message SIDs differ")
    log(f"published {m.sid} and {m2.sid} (the second addressed by unique name)")

    step("errors: 404, 409, 401, 413 as TwilioRestException")
    ghost = "TO" + "0" * 32
    e = expect_rest_error(lambda: svc.sync_streams(ghost).fetch(), 404, 20404,
                          "unknown stream SID")
    check(e.msg.endswith(
        f"The requested resource /Services/{service.sid}/Streams/{ghost} was not found"), e.msg)
    expect_rest_error(
        lambda: svc.sync_streams("no-such-stream").stream_messages.create(data={"x": 1}),
        404, 20404, "publish to unknown name")
    expect_rest_error(lambda: svc.sync_streams.create(unique_name="orders"), 409, 54301,
                      "duplicate unique_name")
    intruder = make_client(AUTH_TOKEN + "x")
    e = expect_rest_error(lambda: intruder.sync.v1.services(service.sid).fetch(), 401, 20003,
                          "wrong auth token")
    check(e.msg.endswith("Authenticate"), e.msg)
    expect_rest_error(
        lambda: svc.sync_streams(orders.sid).stream_messages.create(data={"blob": "x" * 4100}),
        413, 54006, "Data over 4096 bytes")
    # json.dumps puts a space after ':' -- the size rule counts the bytes as sent.
    exact = {"b": "y" * (4096 - len('{"b": ""}'))}
    equal(len(json.dumps(exact).encode()), 4096, "4096-byte Data")
    ok = svc.sync_streams(orders.sid).stream_messages.create(data=exact)
    equal(ok.data, exact, "Data of exactly 4096 bytes")
    log("Data of exactly 4096 bytes is accepted")
    expect_rest_error(lambda: svc.sync_streams.create(ttl=-1), 400, 54011, "negative ttl")
    expect_rest_error(
        lambda: svc.sync_streams(orders.sid).stream_messages.create(data="not json"),
        400, 54008, "Data that is not JSON")

    step("errors: 429 after 300 publishes in one instant (code 54009)")
    if not manual:
        log("skipped: needs --clock manual")
    else:
        burst = svc.sync_streams.create(unique_name="burst")
        messages = svc.sync_streams(burst.sid).stream_messages
        start = clock_now()
        for n in range(300):
            messages.create(data={"n": n})
        equal(clock_now()["now_ms"], start["now_ms"], "the clock has not moved")
        log("300 publishes accepted")
        expect_rest_error(lambda: messages.create(data={"n": 300}), 429, 54009, "publish #301")
        advance_clock(1000)
        equal(messages.create(data={"n": 300}).data, {"n": 300}, "publish after 1 s")
        log("one second later (30 tokens refilled) publishing works again")
        equal(burst.delete(), True, "delete burst stream")

    step("errors: injected failure (POST /_syncfake/errors) reaches the client")
    control("POST", "/_syncfake/errors", {"Operation": "stream.create", "Status": "503",
                                          "Code": "20503", "Message": "Service Unavailable"})
    e = expect_rest_error(lambda: svc.sync_streams.create(unique_name="never-made"), 503, 20503,
                          "injected stream.create")
    check(e.msg.endswith("Service Unavailable"), e.msg)
    expect_rest_error(lambda: svc.sync_streams("never-made").fetch(), 404, 20404,
                      "the failed create made nothing")

    step("subscriber: server-sent events for publishes, then removed")
    sub = Subscriber(service.sid, "orders")
    name, data = sub.next()
    equal(name, "subscribed", "first event")
    check(isinstance(data["subscriber_id"], int) and data["subscriber_id"] > 0, "subscriber_id")
    log(f"subscribed as subscriber {data['subscriber_id']}")
    sent = [svc.sync_streams("orders").stream_messages.create(data={"seq": i})
            for i in range(1, 4)]
    for msg in sent:
        name, data = sub.next()
        equal(name, "message_published", "event name")
        equal((data["stream_sid"], data["message_sid"], data["data"], data["is_duplicate"]),
              (orders.sid, msg.sid, msg.data, False), "message_published")
    log(f"received {len(sent)} message_published events in publish order")
    equal(svc.sync_streams(orders.sid).delete(), True, "delete stream")
    equal(sub.next(), ("removed", {"stream_sid": orders.sid, "reason": "deleted"}), "removed")
    equal(sub.next(), None, "the server ends the event stream after removed")
    sub.close()
    expect_rest_error(lambda: svc.sync_streams("orders").fetch(), 404, 20404,
                      "fetch deleted stream")
    log("removed (deleted) received; the event stream ended")

    step("subscriber: a stream expires when its ttl runs out")
    if not manual:
        log("skipped: needs --clock manual")
    else:
        short = svc.sync_streams.create(unique_name="short-lived", ttl=60)
        sub = Subscriber(service.sid, short.sid)
        equal(sub.next()[0], "subscribed", "first event")
        advance_clock(59999)
        equal(svc.sync_streams("short-lived").fetch().sid, short.sid, "still there 1 ms before")
        advance_clock(1)
        equal(sub.next(), ("removed", {"stream_sid": short.sid, "reason": "expired"}), "expired")
        equal(sub.next(), None, "stream ended")
        sub.close()
        expect_rest_error(lambda: svc.sync_streams("short-lived").fetch(), 404, 20404,
                          "fetch expired stream")
        check(short.sid not in [s.sid for s in svc.sync_streams.stream(page_size=2)],
              "list leaves the expired stream out")

    step("services: delete (takes its streams along)")
    keep = svc.sync_streams.create(unique_name="leftover")
    equal(svc.delete(), True, "delete service")
    expect_rest_error(lambda: svc.fetch(), 404, 20404, "fetch deleted service")
    expect_rest_error(lambda: sync.services(service.sid).sync_streams(keep.sid).fetch(),
                      404, 20404, "its stream")
    remaining = [s.sid for s in sync.services.stream(page_size=50)]
    check(service.sid not in remaining and other.sid not in remaining, "services gone from list")

    print(f"python example: all {steps} steps passed", flush=True)


if __name__ == "__main__":
    try:
        main()
    except Exception:
        print(f"FAIL in step {steps}:", file=sys.stderr)
        traceback.print_exc()
        sys.exit(1)
    sys.exit(0)

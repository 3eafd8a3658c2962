#!/usr/bin/env bash
# curl.sh: Twilio Sync Message Streams over plain HTTP, against syncfake-server.
#
# The same walk-through as examples/node/streams.js and examples/python/streams.py, with curl:
# every request is spelled out so that this file doubles as documentation of the wire contract
# (form-encoded bodies, HTTP Basic auth, JSON answers, Twilio error bodies, paging by
# meta.next_page_url). Each step says what it does and checks the answer; any mismatch stops the
# script with exit status 1.
#
#   SYNCFAKE_URL=http://127.0.0.1:8787 SYNCFAKE_ACCOUNT_SID=AC... SYNCFAKE_AUTH_TOKEN=... \
#       bash examples/curl.sh
#
# Start the server with `--clock manual` for the full run (the 429 and expiry steps need it; with
# a wall clock they are skipped). Needs curl and python3 (only its json module).
set -euo pipefail

BASE=${SYNCFAKE_URL:?set SYNCFAKE_URL, e.g. http://127.0.0.1:8787}
BASE=${BASE%/}
SID=${SYNCFAKE_ACCOUNT_SID:?set SYNCFAKE_ACCOUNT_SID}
TOKEN=${SYNCFAKE_AUTH_TOKEN:?set SYNCFAKE_AUTH_TOKEN}
# Prefer the system python3: a version-manager shim (pyenv) can take seconds per start.
if [ -z "${PYTHON:-}" ] && [ -x /usr/bin/python3 ]; then PY=/usr/bin/python3; else PY=${PYTHON:-python3}; fi

WORK=$(mktemp -d)
SUB_PID=
cleanup() {
    if [ -n "$SUB_PID" ]; then kill "$SUB_PID" 2>/dev/null || true; fi
    rm -rf "$WORK"
}
trap cleanup EXIT

steps=0
step() { steps=$((steps + 1)); printf '[%2d] %s\n' "$steps" "$*"; }
say() { printf '     %s\n' "$*"; }
fail() { printf 'FAIL in step %d: %s\n' "$steps" "$*" >&2; exit 1; }

# api METHOD PATH [curl args...]: one request; the body lands in $WORK/body, the status in $STATUS.
# Every call has a time limit, and proxies from the environment are ignored (the fake is local).
api() {
    local method=$1 path=$2
    shift 2
    STATUS=$(curl -sS --noproxy '*' --max-time 10 -u "$SID:$TOKEN" -X "$method" \
        -H 'Accept: application/json' -o "$WORK/body" -w '%{http_code}' "$@" "$BASE$path")
}
# GET with form fields in the query (-G turns --data-urlencode into ?a=b).
api_get() { local path=$1; shift; api GET "$path" -G "$@"; }

# json EXPR: evaluates a Python expression over the last body, bound to `j`.
json() { "$PY" -c 'import json,sys; j=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$WORK/body" "$1"; }

expect_status() {
    [ "$STATUS" = "$1" ] || fail "expected HTTP $1, got $STATUS: $(cat "$WORK/body")"
}
expect_eq() { # expect_eq ACTUAL WANTED WHAT
    [ "$1" = "$2" ] || fail "$3: got '$1', want '$2'"
}
# expect_error STATUS CODE WHAT: a Twilio error body {"code", "message", "more_info", "status"}.
expect_error() {
    expect_status "$1"
    expect_eq "$(json 'j["code"]')" "$2" "$3: code"
    expect_eq "$(json 'j["status"]')" "$1" "$3: status in body"
    expect_eq "$(json 'j["more_info"]')" "https://www.twilio.com/docs/errors/$2" "$3: more_info"
    say "$3: HTTP $1, code $2, \"$(json 'j["message"]')\""
}

echo "curl $(curl --version | head -n1 | cut -d' ' -f2) -> $BASE"
api GET /_syncfake/clock
expect_status 200
MODE=$(json 'j["mode"]')
say "fake clock: $(json 'j["now"]') ($MODE)"

# ---------------------------------------------------------------------------------------------
step "services: create, fetch, update, list, delete"
say "POST /v1/Services FriendlyName=curl-example"
api POST /v1/Services --data-urlencode 'FriendlyName=curl-example'
expect_status 201
IS=$(json 'j["sid"]')
[[ $IS =~ ^IS[0-9a-f]{32}$ ]] || fail "service sid $IS"
expect_eq "$(json 'j["account_sid"]')" "$SID" "account_sid"
expect_eq "$(json 'j["url"]')" "$BASE/v1/Services/$IS" "url"
expect_eq "$(json 'j["links"]["streams"]')" "$BASE/v1/Services/$IS/Streams" "links.streams"
expect_eq "$(json 'j["reachability_debouncing_window"]')" 5000 "default debouncing window"
say "created $IS"

say "GET /v1/Services/$IS"
api GET "/v1/Services/$IS"
expect_status 200
grep -q '"friendly_name": "curl-example"' "$WORK/body" || fail "fetch: friendly_name"

say "POST /v1/Services/$IS (update: booleans are the strings true/false)"
api POST "/v1/Services/$IS" --data-urlencode 'FriendlyName=curl-example (renamed)' \
    -d AclEnabled=true -d ReachabilityDebouncingEnabled=true -d ReachabilityDebouncingWindow=2000 \
    --data-urlencode 'WebhookUrl=https://example.com/sync-hook'
expect_status 200
expect_eq "$(json '(j["friendly_name"], j["acl_enabled"], j["reachability_debouncing_window"])')" \
    "('curl-example (renamed)', True, 2000)" "updated fields"

api POST /v1/Services -d FriendlyName=curl-example-2
expect_status 201
IS2=$(json 'j["sid"]')
say "GET /v1/Services?PageSize=1, then follow meta.next_page_url"
api_get /v1/Services -d PageSize=1
expect_status 200
seen=()
while :; do
    expect_eq "$(json 'j["meta"]["key"]')" services "meta.key"
    read -r -a sids <<< "$(json '" ".join(s["sid"] for s in j["services"])')"
    seen+=("${sids[@]}")
    next=$(json 'j["meta"]["next_page_url"] or ""')
    [ -n "$next" ] || break
    api GET "${next#"$BASE"}"
    expect_status 200
done
printf '%s\n' "${seen[@]}" | grep -qx "$IS" || fail "services list lacks $IS"
printf '%s\n' "${seen[@]}" | grep -qx "$IS2" || fail "services list lacks $IS2"
say "walked ${#seen[@]} service(s), one per page"

say "DELETE /v1/Services/$IS2"
api DELETE "/v1/Services/$IS2"
expect_status 204
[ ! -s "$WORK/body" ] || fail "204 with a body"
api GET "/v1/Services/$IS2"
expect_error 404 20404 "fetch deleted service"

# ---------------------------------------------------------------------------------------------
step "streams: create (UniqueName, Ttl), fetch by SID and by unique name"
say "POST /v1/Services/$IS/Streams UniqueName=orders Ttl=3600"
api POST "/v1/Services/$IS/Streams" -d UniqueName=orders -d Ttl=3600
expect_status 201
TO=$(json 'j["sid"]')
[[ $TO =~ ^TO[0-9a-f]{32}$ ]] || fail "stream sid $TO"
expect_eq "$(json 'j["unique_name"]')" orders "unique_name"
expect_eq "$(json 'j["created_by"]')" system "created_by"
expect_eq "$(json 'j["url"]')" "$BASE/v1/Services/$IS/Streams/$TO" "url"
expect_eq "$(json 'j["links"]["messages"]')" "$BASE/v1/Services/$IS/Streams/$TO/Messages" "links.messages"
CREATED=$(json 'j["date_created"]')
EXPIRES=$(json 'j["date_expires"]')
expect_eq "$("$PY" -c 'import sys,datetime as d; f="%Y-%m-%dT%H:%M:%SZ"; print((d.datetime.strptime(sys.argv[1],f)+d.timedelta(seconds=3600)).strftime(f))' "$CREATED")" \
    "$EXPIRES" "date_expires = date_created + Ttl"
say "created $TO \"orders\", created $CREATED, expires $EXPIRES"

say "GET .../Streams/$TO and .../Streams/orders"
api GET "/v1/Services/$IS/Streams/$TO"
expect_status 200
expect_eq "$(json 'j["unique_name"]')" orders "fetch by SID"
api GET "/v1/Services/$IS/Streams/orders"
expect_status 200
expect_eq "$(json 'j["sid"]')" "$TO" "fetch by unique name"

say "POST .../Streams (no parameters): unique_name and date_expires are null"
api POST "/v1/Services/$IS/Streams"
expect_status 201
grep -q '"unique_name": null' "$WORK/body" || fail "unique_name null"
grep -q '"date_expires": null' "$WORK/body" || fail "date_expires null"
api DELETE "/v1/Services/$IS/Streams/$(json 'j["sid"]')"
expect_status 204

# ---------------------------------------------------------------------------------------------
step "streams: update Ttl"
say "POST .../Streams/orders Ttl=7200"
api POST "/v1/Services/$IS/Streams/orders" -d Ttl=7200
expect_status 200
say "date_expires now $(json 'j["date_expires"]') (date_updated $(json 'j["date_updated"]'))"
[ "$(json 'j["date_expires"]')" != "$EXPIRES" ] || fail "date_expires did not move"
say "POST .../Streams/$TO Ttl=0 (never expires)"
api POST "/v1/Services/$IS/Streams/$TO" -d Ttl=0
expect_status 200
expect_eq "$(json 'j["date_expires"]')" None "date_expires after Ttl=0"
api POST "/v1/Services/$IS/Streams/$TO"
expect_error 400 54010 "update without Ttl"

# ---------------------------------------------------------------------------------------------
step "streams: list with PageSize=2 across pages (5 streams)"
api POST /v1/Services -d FriendlyName=curl-paging
expect_status 201
ISP=$(json 'j["sid"]')
created=()
for i in 0 1 2 3 4; do
    api POST "/v1/Services/$ISP/Streams" -d "UniqueName=page-$i"
    expect_status 201
    created+=("$(json 'j["sid"]')")
done
say "GET /v1/Services/$ISP/Streams?PageSize=2, then follow meta.next_page_url"
api_get "/v1/Services/$ISP/Streams" -d PageSize=2
expect_status 200
expect_eq "$(json 'j["meta"]["previous_page_url"]')" None "first page: previous_page_url"
listed=() sizes=()
while :; do
    read -r -a sids <<< "$(json '" ".join(s["sid"] for s in j["streams"])')"
    listed+=("${sids[@]}")
    sizes+=("$(json 'len(j["streams"])')")
    next=$(json 'j["meta"]["next_page_url"] or ""')
    [ -n "$next" ] || break
    say "  next: ${next#"$BASE"}"
    api GET "${next#"$BASE"}"
    expect_status 200
done
expect_eq "${sizes[*]}" "2 2 1" "page sizes"
expect_eq "${listed[*]}" "${created[*]}" "all 5 streams in creation order"
say "3 pages of 2, 2 and 1 streams, in creation order"
api DELETE "/v1/Services/$ISP"
expect_status 204

# ---------------------------------------------------------------------------------------------
step "messages: publish"
say "POST .../Streams/$TO/Messages Data={\"order\": 1, \"items\": [\"tea\", \"milk\"]}"
api POST "/v1/Services/$IS/Streams/$TO/Messages" --data-urlencode 'Data={"order": 1, "items": ["tea", "milk"]}'
expect_status 201
[[ $(json 'j["sid"]') =~ ^TZ[0-9a-f]{32}$ ]] || fail "message sid"
# data comes back as JSON (not a string), insignificant whitespace removed
grep -q '"data": {"order":1,"items":\["tea","milk"\]}' "$WORK/body" || fail "data: $(cat "$WORK/body")"
say "answer: $(cat "$WORK/body")"
api POST "/v1/Services/$IS/Streams/orders/Messages" --data-urlencode 'Data={"order": 2}'
expect_status 201
say "publishing by unique name works too"

# ---------------------------------------------------------------------------------------------
step "errors: 404, 409, 401, 413, 400"
GHOST=TO00000000000000000000000000000000
api GET "/v1/Services/$IS/Streams/$GHOST"
expect_error 404 20404 "unknown stream"
expect_eq "$(json 'j["message"]')" "The requested resource /Services/$IS/Streams/$GHOST was not found" "404 message"
api POST "/v1/Services/$IS/Streams" -d UniqueName=orders
expect_error 409 54301 "duplicate UniqueName"
STATUS=$(curl -sS --noproxy '*' --max-time 10 -u "$SID:wrong-token" -o "$WORK/body" -w '%{http_code}' "$BASE/v1/Services/$IS")
expect_error 401 20003 "wrong auth token"
BIG=$("$PY" -c 'import json; print(json.dumps({"blob": "x" * 4100}))')
api POST "/v1/Services/$IS/Streams/$TO/Messages" --data-urlencode "Data=$BIG"
expect_error 413 54006 "Data over 4096 bytes"
api POST "/v1/Services/$IS/Streams/$TO/Messages" --data-urlencode 'Data=not json'
expect_error 400 54008 "Data that is not JSON"
api POST "/v1/Services/$IS/Streams/$TO/Messages"
expect_error 400 54251 "no Data"
api POST "/v1/Services/$IS/Streams" -d Ttl=-1
expect_error 400 54011 "negative Ttl"
api PUT "/v1/Services/$IS/Streams/$TO"
expect_error 405 20004 "PUT on a stream"

# ---------------------------------------------------------------------------------------------
step "errors: 429 after 300 publishes in one instant (code 54009)"
if [ "$MODE" != manual ]; then
    say "skipped: needs --clock manual"
else
    api POST "/v1/Services/$IS/Streams" -d UniqueName=burst
    expect_status 201
    BURST=$(json 'j["sid"]')
    say "300 x POST .../Streams/burst/Messages (one curl, one connection)"
    cfg="$WORK/burst.cfg"
    : > "$cfg"
    for n in $(seq 0 299); do
        [ "$n" = 0 ] || echo next >> "$cfg"   # each request has its own options
        printf 'url = "%s/v1/Services/%s/Streams/%s/Messages"\ndata = "Data={\\"n\\":%d}"\nwrite-out = "%%{http_code}\\n"\noutput = "/dev/null"\nuser = "%s:%s"\nnoproxy = "*"\n' \
            "$BASE" "$IS" "$BURST" "$n" "$SID" "$TOKEN" >> "$cfg"
    done
    codes=$(curl -sS --max-time 60 -K "$cfg")
    expect_eq "$(grep -c '^201$' <<< "$codes")" 300 "accepted publishes"
    api POST "/v1/Services/$IS/Streams/$BURST/Messages" -d 'Data={"n":300}'
    expect_error 429 54009 "publish #301"
    say "POST /_syncfake/clock AdvanceMs=1000 (30 tokens refill)"
    api POST /_syncfake/clock -d AdvanceMs=1000
    expect_status 200
    api POST "/v1/Services/$IS/Streams/$BURST/Messages" -d 'Data={"n":300}'
    expect_status 201
    say "one second later publishing works again"
fi

# ---------------------------------------------------------------------------------------------
step "errors: an injected failure (POST /_syncfake/errors)"
api POST /_syncfake/errors -d Operation=stream.create -d Status=503 -d Code=20503 \
    --data-urlencode 'Message=Service Unavailable'
expect_status 201
api POST "/v1/Services/$IS/Streams" -d UniqueName=never-made
expect_error 503 20503 "injected stream.create"
api GET "/v1/Services/$IS/Streams/never-made"
expect_error 404 20404 "the failed create made nothing"

# ---------------------------------------------------------------------------------------------
# wait_for FILE PATTERN: polls (for up to 5 s) until FILE has a line matching PATTERN.
wait_for() {
    local i
    for i in $(seq 50); do
        grep -q "$2" "$1" 2>/dev/null && return 0
        sleep 0.1
    done
    fail "no '$2' in $1 within 5 s: $(cat "$1" 2>/dev/null)"
}

step "subscriber: server-sent events for publishes, then removed"
say "GET /_syncfake/Services/$IS/Streams/orders/Events (curl -N, in the background)"
curl -sS -N --noproxy '*' --max-time 20 -u "$SID:$TOKEN" \
    "$BASE/_syncfake/Services/$IS/Streams/orders/Events" > "$WORK/events" &
SUB_PID=$!
wait_for "$WORK/events" '^event: subscribed'
say "$(grep -A1 '^event: subscribed' "$WORK/events" | tail -n1)"
msids=()
for i in 1 2 3; do
    api POST "/v1/Services/$IS/Streams/orders/Messages" -d "Data={\"seq\":$i}"
    expect_status 201
    msids+=("$(json 'j["sid"]')")
done
say "DELETE .../Streams/$TO"
api DELETE "/v1/Services/$IS/Streams/$TO"
expect_status 204
wait_for "$WORK/events" '^event: removed'
wait "$SUB_PID" || fail "the event stream did not end cleanly"
SUB_PID=
expect_eq "$(grep '^event: ' "$WORK/events" | cut -d' ' -f2 | tr '\n' ' ')" \
    "subscribed message_published message_published message_published removed " "event sequence"
got=$(grep '^data: ' "$WORK/events" | sed 's/^data: //' | "$PY" -c '
import json, sys
evs = [json.loads(l) for l in sys.stdin]
print(" ".join(e["message_sid"] for e in evs if "message_sid" in e))')
expect_eq "$got" "${msids[*]}" "message sids in publish order"
grep -q "^data: {\"stream_sid\": \"$TO\", \"reason\": \"deleted\"}" "$WORK/events" || fail "removed event"
say "3 message_published events in order, then removed (deleted); the server closed the stream"

# ---------------------------------------------------------------------------------------------
step "subscriber: a stream expires when its Ttl runs out"
if [ "$MODE" != manual ]; then
    say "skipped: needs --clock manual"
else
    api POST "/v1/Services/$IS/Streams" -d UniqueName=short-lived -d Ttl=60
    expect_status 201
    SHORT=$(json 'j["sid"]')
    curl -sS -N --noproxy '*' --max-time 20 -u "$SID:$TOKEN" \
        "$BASE/_syncfake/Services/$IS/Streams/$SHORT/Events" > "$WORK/events2" &
    SUB_PID=$!
    wait_for "$WORK/events2" '^event: subscribed'
    say "POST /_syncfake/clock AdvanceMs=59999: still there"
    api POST /_syncfake/clock -d AdvanceMs=59999
    api GET "/v1/Services/$IS/Streams/short-lived"
    expect_status 200
    say "POST /_syncfake/clock AdvanceMs=1: gone"
    api POST /_syncfake/clock -d AdvanceMs=1
    wait_for "$WORK/events2" '"reason": "expired"'
    wait "$SUB_PID" || fail "the event stream did not end cleanly"
    SUB_PID=
    api GET "/v1/Services/$IS/Streams/short-lived"
    expect_error 404 20404 "fetch expired stream"
fi

# ---------------------------------------------------------------------------------------------
step "the journal (GET /_syncfake/journal, JSON Lines)"
api GET /_syncfake/journal
expect_status 200
say "$(wc -l < "$WORK/body") entries; kinds: $("$PY" -c '
import collections, json, sys
c = collections.Counter(json.loads(l)["kind"] for l in open(sys.argv[1]) if l.strip())
print(", ".join(f"{k} {n}" for k, n in sorted(c.items())))' "$WORK/body")"
grep -q '"op":"stream.create","status":409' "$WORK/body" || fail "journal lacks the 409"

# ---------------------------------------------------------------------------------------------
step "services: delete (takes its streams along)"
api POST "/v1/Services/$IS/Streams" -d UniqueName=leftover
expect_status 201
LEFT=$(json 'j["sid"]')
api DELETE "/v1/Services/$IS"
expect_status 204
api GET "/v1/Services/$IS"
expect_error 404 20404 "fetch deleted service"
api GET "/v1/Services/$IS/Streams/$LEFT"
expect_error 404 20404 "a stream of the deleted service"

echo "curl example: all $steps steps passed"

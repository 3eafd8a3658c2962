#!/usr/bin/env bash
# bench/http.sh: measures build/syncfake-server with wrk on loopback: fetching a stream and
# publishing to it (rate limit lifted), requests/s and p99 latency. Writes build/bench-http.json
# ({"name","value","unit"} objects) and prints a table. Then build/ws_fanout (bench/ws_fanout.c)
# starts its own server and fans REST publishes out to 1,000 Twilsock WebSocket subscribers,
# twice: at 105 publishes/s (105,000 deliveries/s: the run the targets of >= 100,000
# deliveries/s and p99 < 20 ms apply to; figures ws_fanout_*), then back to back (the ceiling;
# ws_fanout_max_*), appending deliveries/s, p99 and p50 to the same file (WS_FANOUT_ARGS passes
# both runs options, e.g. "--conns 500 --messages 400").
# Usage: bench/http.sh [SECONDS]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
DURATION=${1:-10}
SERVER=${SYNCFAKE_SERVER:-build/syncfake-server}
OUT=build/bench-http.json
WS_FANOUT=${WS_FANOUT:-$(dirname "$SERVER")/ws_fanout}
command -v wrk >/dev/null || { echo "bench-http: wrk not found (apt-get install wrk)" >&2; exit 1; }
[ -x "$SERVER" ] || { echo "bench-http: $SERVER not built (make)" >&2; exit 1; }
[ -x "$WS_FANOUT" ] || { echo "bench-http: $WS_FANOUT not built (make)" >&2; exit 1; }

log=$(mktemp)
work=$(mktemp -d)
"$SERVER" --port 0 --clock manual --limit publish_rate_per_s=0 >"$log" 2>&1 &
pid=$!
stop_server() {
    [ -n "$pid" ] || return 0
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    pid=
}
cleanup() { stop_server; rm -rf "$log" "$work"; }
trap cleanup EXIT
for _ in $(seq 100); do grep -q listening "$log" && break; sleep 0.05; done
url=$(awk '/listening on/ {print $4}' "$log")
sid=$(awk '/^account_sid/ {print $2}' "$log")
token=$(awk '/^auth_token/ {print $2}' "$log")
auth="Authorization: Basic $(printf '%s:%s' "$sid" "$token" | base64 -w0)"

json_field() { sed -n 's/.*"'"$1"'": "\([^"]*\)".*/\1/p' | head -n1; }
service=$(curl -s -X POST -H "$auth" "$url/v1/Services" | json_field sid)
stream=$(curl -s -X POST -H "$auth" -d UniqueName=bench "$url/v1/Services/$service/Streams" | json_field sid)

cat >"$work/publish.lua" <<'LUA'
wrk.method = "POST"
wrk.body = "Data=%7B%22n%22%3A1%2C%22text%22%3A%22hello%20from%20wrk%22%7D"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
LUA

# wrk prints "Requests/sec: N" and, with --latency, a "99%" line such as "99%    1.23ms".
run() { # name url [script]
    local name=$1 target=$2 script=${3:-}
    local args=(-t2 -c"${CONNECTIONS:-8}" -d"${DURATION}s" --latency -H "$auth")
    [ -n "$script" ] && args+=(-s "$script")
    wrk "${args[@]}" "$target" >"$work/$name.txt"
    local rps p99 non2xx
    rps=$(awk '/^Requests\/sec/ {print $2}' "$work/$name.txt")
    p99=$(awk '$1 == "99%" {print $2}' "$work/$name.txt")
    non2xx=$(awk '/Non-2xx/ {print $NF}' "$work/$name.txt")
    # latency in ms whatever unit wrk chose
    p99_ms=$(echo "$p99" | awk '/us$/ {sub("us",""); print $1/1000; next}
                                /ms$/ {sub("ms",""); print $1; next}
                                /s$/  {sub("s",""); print $1*1000}')
    printf '%-10s %12s req/s   p99 %8s ms   non-2xx %s\n' "$name" "$rps" "$p99_ms" "${non2xx:-0}"
    printf '{"name": "http_%s_req_per_s", "value": %s, "unit": "req/s"},\n' "$name" "$rps" >>"$work/json"
    printf '{"name": "http_%s_p99_ms", "value": %s, "unit": "ms"},\n' "$name" "$p99_ms" >>"$work/json"
    printf '{"name": "http_%s_non_2xx", "value": %s, "unit": "responses"},\n' "$name" "${non2xx:-0}" >>"$work/json"
}

echo "syncfake-server on $url, wrk -t2 -c${CONNECTIONS:-8} for ${DURATION}s each (targets: fetch >= 30000 req/s, p99 < 5 ms)"
run fetch "$url/v1/Services/$service/Streams/$stream"
run publish "$url/v1/Services/$service/Streams/$stream/Messages" "$work/publish.lua"
{ echo "["; sed '$ s/,$//' "$work/json"; echo "]"; } >"$OUT"
echo "wrote $OUT"

# WebSocket fan-out: it runs its own server (wall clock), so this one goes first.
stop_server
echo
read -r -a ws_args <<<"${WS_FANOUT_ARGS:-}"
status=0
"$WS_FANOUT" "$SERVER" --out "$OUT" --rate 105 ${ws_args[@]+"${ws_args[@]}"} || status=1
echo
"$WS_FANOUT" "$SERVER" --out "$OUT" --name ws_fanout_max ${ws_args[@]+"${ws_args[@]}"} || status=1
exit $status

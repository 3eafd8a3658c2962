#!/usr/bin/env bash
# tests/clients/run.sh: the official Twilio helper libraries (and curl) against syncfake-server.
#
# Runs the walk-throughs in examples/ -- node/streams.js (twilio-node 6.3.1),
# node/subscriber.js (the twilio-sync 4.0.1 client SDK over WebSocket), python/streams.py
# (Debian's python3-twilio, run by /usr/bin/python3) and curl.sh -- each
# against a fresh `syncfake-server --port 0 --clock manual`, stops that server with SIGTERM and
# requires it to exit 0. Ends with "N passed, N failed"; exits non-zero if anything failed.
#
# Installs what is missing (as root, from Debian's archive): python3-twilio, curl, nodejs, npm;
# then `npm ci` in examples/node when twilio 6.3.1 is not already there. Builds the server into
# build/ (configured as `make` does) unless SYNCFAKE_SERVER names a binary to use.
#
# Environment:
#   SYNCFAKE_SERVER=path   use this syncfake-server instead of building build/syncfake-server
#   EXAMPLE_TIMEOUT=120    seconds each example may take
#   CLIENTS="node node-subscriber python curl"   which examples to run
#
# Every wait is bounded: installs, the build, the server's start and stop, each example.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"

EXAMPLE_TIMEOUT=${EXAMPLE_TIMEOUT:-120}
CLIENTS=${CLIENTS:-node node-subscriber python curl}
BUILD_DIR=${BUILD_DIR:-build}
PY=/usr/bin/python3 # Debian's: python3-twilio lives in its dist-packages

say() { printf 'clients: %s\n' "$*"; }
die() { printf 'clients: error: %s\n' "$*" >&2; exit 1; }

WORK=$(mktemp -d)
SERVER_PID=
cleanup() {
    if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill -KILL "$SERVER_PID" 2>/dev/null || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT

# ---- 1. tools: install only what is missing ----

wanted() { # is the example $1 selected? ("node": either Node example)
    [[ " $CLIENTS " == *" $1 "* ]] || { [ "$1" = node ] && [[ " $CLIENTS " == *" node-subscriber "* ]]; }
}

missing=()
if wanted python && ! { [ -x "$PY" ] && "$PY" -c 'import twilio' 2>/dev/null; }; then
    missing+=(python3-twilio)
fi
# curl.sh needs curl, and a python3 for its JSON checks (python3-twilio brings Debian's).
command -v curl >/dev/null 2>&1 || missing+=(curl)
if wanted node; then
    command -v node >/dev/null 2>&1 || missing+=(nodejs)
    command -v npm >/dev/null 2>&1 || missing+=(npm)
fi
if wanted curl && ! command -v python3 >/dev/null 2>&1 && [ ! -x "$PY" ]; then
    missing+=(python3)
fi
if ((${#missing[@]})); then
    [ "$(id -u)" -eq 0 ] || die "missing ${missing[*]}; run: sudo apt-get install -y ${missing[*]}"
    say "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    timeout 600 apt-get update -q
    timeout 900 apt-get install -y -q "${missing[@]}"
fi

if wanted node; then
    node_major=$(node -p 'process.versions.node.split(".")[0]')
    if [ "$node_major" -lt 20 ]; then
        say "warning: node $(node --version) is older than twilio 6.3.1 asks for (>= 20)"
    fi
    have=$(node -p 'try { require("./examples/node/node_modules/twilio/package.json").version + " " + require("./examples/node/node_modules/twilio-sync/package.json").version } catch (e) { "" }')
    if [ "$have" != "6.3.1 4.0.1" ]; then
        say "npm ci in examples/node (twilio 6.3.1, twilio-sync 4.0.1)"
        (cd examples/node && timeout 600 npm ci --no-audit --no-fund)
    fi
    say "node $(node --version), twilio-node $(node -p 'require("./examples/node/node_modules/twilio/package.json").version')"
fi
if wanted python; then
    say "python $("$PY" -c 'import sys; print(sys.version.split()[0])'), twilio-python $("$PY" -c 'import twilio; print(twilio.__version__)')"
fi

# ---- 2. the server ----

if [ -n "${SYNCFAKE_SERVER:-}" ]; then
    SERVER=$SYNCFAKE_SERVER
    [ -x "$SERVER" ] || die "SYNCFAKE_SERVER=$SERVER is not an executable"
else
    SERVER=$BUILD_DIR/syncfake-server
    timeout 900 scripts/deps.sh # the C toolchain, cmake, libmicrohttpd-dev (quiet when present)
    if [ ! -f "$BUILD_DIR/CMakeCache.txt" ]; then
        # configured exactly as `make` does, so the tree stays usable by make
        timeout 600 cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release >"$WORK/cmake.log" 2>&1 ||
            { cat "$WORK/cmake.log"; die "cmake configure failed"; }
    fi
    say "building $SERVER"
    timeout 1200 cmake --build "$BUILD_DIR" -j2 --target syncfake-server >"$WORK/build.log" 2>&1 ||
        { tail -n 40 "$WORK/build.log"; die "building syncfake-server failed"; }
fi
say "server: $SERVER"

# start_server: a fresh server on a free port with the manual clock; sets SYNCFAKE_URL,
# SYNCFAKE_ACCOUNT_SID and SYNCFAKE_AUTH_TOKEN from what it prints.
start_server() {
    : >"$WORK/server.out"
    : >"$WORK/server.err"
    "$SERVER" --port 0 --clock manual >"$WORK/server.out" 2>"$WORK/server.err" &
    SERVER_PID=$!
    local _
    for _ in $(seq 100); do # up to 10 s
        grep -q '^auth_token ' "$WORK/server.out" && break
        if ! kill -0 "$SERVER_PID" 2>/dev/null; then
            cat "$WORK/server.out" "$WORK/server.err" >&2
            SERVER_PID=
            return 1
        fi
        sleep 0.1
    done
    SYNCFAKE_URL=$(sed -n 's/^syncfake-server listening on //p' "$WORK/server.out")
    SYNCFAKE_ACCOUNT_SID=$(sed -n 's/^account_sid //p' "$WORK/server.out")
    SYNCFAKE_AUTH_TOKEN=$(sed -n 's/^auth_token //p' "$WORK/server.out")
    if [ -z "$SYNCFAKE_URL" ] || [ -z "$SYNCFAKE_ACCOUNT_SID" ] || [ -z "$SYNCFAKE_AUTH_TOKEN" ]; then
        echo "server did not announce itself within 10 s:" >&2
        cat "$WORK/server.out" "$WORK/server.err" >&2
        return 1
    fi
    export SYNCFAKE_URL SYNCFAKE_ACCOUNT_SID SYNCFAKE_AUTH_TOKEN
}

# stop_server: SIGTERM, then up to 10 s for a clean exit; returns the server's exit status
# (or 1, after SIGKILL, when it did not stop in time).
stop_server() {
    local pid=$SERVER_PID rc=0 _
    SERVER_PID=
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 100); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        echo "server $pid still running 10 s after SIGTERM; killed" >&2
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
        return 1
    fi
    wait "$pid" || rc=$?
    return "$rc"
}

# ---- 3. the examples ----

passed=0
failed=0
failures=()

run_example() { # run_example NAME COMMAND...
    local name=$1
    shift
    echo
    say "==== $name: $*"
    if ! start_server; then
        [ -z "$SERVER_PID" ] || stop_server || true
        say "FAIL $name: the server did not start"
        failed=$((failed + 1))
        failures+=("$name")
        return
    fi
    say "server $SYNCFAKE_URL (pid $SERVER_PID)"
    local rc=0 src=0
    set +e
    timeout -k 5 "$EXAMPLE_TIMEOUT" "$@" </dev/null 2>&1 | sed -u 's/^/    /'
    rc=${PIPESTATUS[0]}
    set -e
    [ "$rc" -ne 124 ] || echo "    (timed out after $EXAMPLE_TIMEOUT s)"
    stop_server || src=$?
    if [ -s "$WORK/server.err" ]; then
        echo "    server stderr:"
        sed 's/^/      /' "$WORK/server.err"
    fi
    if [ "$rc" -eq 0 ] && [ "$src" -eq 0 ]; then
        say "PASS $name"
        passed=$((passed + 1))
    else
        say "FAIL $name (example exit $rc, server exit $src after SIGTERM)"
        failed=$((failed + 1))
        failures+=("$name")
    fi
}

for client in $CLIENTS; do
    case $client in
    node) run_example node node examples/node/streams.js ;;
    node-subscriber) run_example node-subscriber node examples/node/subscriber.js ;;
    python) run_example python "$PY" examples/python/streams.py ;;
    curl) run_example curl bash examples/curl.sh ;;
    *) die "unknown client '$client' (node, node-subscriber, python, curl)" ;;
    esac
done

echo
((failed == 0)) || say "failed: ${failures[*]}"
echo "$passed passed, $failed failed"
((failed == 0))

#!/usr/bin/env bash
# tests/sdk/run.sh: Twilio's unmodified client SDK (twilio-sync 4.0.1, tokens from twilio 6.3.1)
# against syncfake-server's Twilsock endpoint /v3/wsconnect: `node --test tests/sdk/`.
#
# Installs node and npm from Debian's archive when missing (as root), runs `npm ci` in
# tests/sdk when the pinned packages are not already there, builds the server into build/
# (configured as `make` does) unless SYNCFAKE_SERVER names a binary, then runs the suite, which
# starts its own server (`--port 0 --clock manual`). Ends with the node test runner's summary;
# exits non-zero if anything failed.
#
# Environment:
#   SYNCFAKE_SERVER=path   use this syncfake-server instead of building build/syncfake-server
#   SDK_TIMEOUT=600        seconds the whole node run may take
#   SDK_LOG=1              print every test's Twilsock frames and SDK debug log live
#   SDK_REPORTER=spec      the node test runner's reporter (spec, tap, dot)
#
# Every wait is bounded: installs, the build, the test run (and, inside it, each test).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"

BUILD_DIR=${BUILD_DIR:-build}
SDK_TIMEOUT=${SDK_TIMEOUT:-600}
SDK_REPORTER=${SDK_REPORTER:-spec}

say() { printf 'sdk: %s\n' "$*"; }
die() { printf 'sdk: error: %s\n' "$*" >&2; exit 1; }

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

# ---- 1. node and the pinned packages ----

missing=()
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)
if ((${#missing[@]})); then
    [ "$(id -u)" -eq 0 ] || die "missing ${missing[*]}; run: sudo apt-get install -y ${missing[*]}"
    say "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    timeout 600 apt-get update -q
    timeout 900 apt-get install -y -q "${missing[@]}"
fi
node_major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$node_major" -lt 20 ]; then
    say "warning: node $(node --version) is older than the suite needs (>= 20)"
fi

installed() { # version of package $1 in tests/sdk/node_modules, or ""
    node -p "try { require('./tests/sdk/node_modules/$1/package.json').version } catch (e) { '' }"
}
if [ "$(installed twilio-sync)" != 4.0.1 ] || [ "$(installed twilio)" != 6.3.1 ]; then
    say "npm ci in tests/sdk (twilio-sync 4.0.1, twilio 6.3.1)"
    (cd tests/sdk && timeout 600 npm ci --no-audit --no-fund)
fi
say "node $(node --version), twilio-sync $(installed twilio-sync), twilsock $(installed twilsock), twilio $(installed twilio)"

# ---- 2. the server ----

if [ -n "${SYNCFAKE_SERVER:-}" ]; then
    SERVER=$SYNCFAKE_SERVER
    [ -x "$SERVER" ] || die "SYNCFAKE_SERVER=$SERVER is not an executable"
else
    SERVER=$BUILD_DIR/syncfake-server
    timeout 900 scripts/deps.sh # the C toolchain, cmake and libraries (quiet when present)
    if [ ! -f "$BUILD_DIR/CMakeCache.txt" ]; then
        # configured exactly as `make` does, so the tree stays usable by make
        timeout 600 cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release >"$WORK/cmake.log" 2>&1 ||
            { cat "$WORK/cmake.log"; die "cmake configure failed"; }
    fi
    say "building $SERVER"
    timeout 1200 cmake --build "$BUILD_DIR" -j2 --target syncfake-server >"$WORK/build.log" 2>&1 ||
        { tail -n 40 "$WORK/build.log"; die "building syncfake-server failed"; }
fi
SYNCFAKE_SERVER=$(cd "$(dirname "$SERVER")" && pwd)/$(basename "$SERVER")
export SYNCFAKE_SERVER
say "server: $SYNCFAKE_SERVER"

# ---- 3. the suite ----

rc=0
timeout -k 10 "$SDK_TIMEOUT" node --test --test-reporter="$SDK_REPORTER" tests/sdk/ || rc=$?
if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
    die "the SDK suite did not finish within $SDK_TIMEOUT s"
fi
exit "$rc"

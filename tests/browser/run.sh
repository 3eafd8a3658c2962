#!/usr/bin/env bash
# tests/browser/run.sh (make browser): the twilio-sync browser bundle in headless Chromium
# against syncfake-server: tests/browser/ and examples/browser/ under `node --test`.
# setup.sh installs what is missing; the server is built into build/ (configured as `make`
# does) unless SYNCFAKE_SERVER names a binary. BROWSER_TIMEOUT (default 600) bounds the run.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
BUILD_DIR=${BUILD_DIR:-build}
die() { printf 'browser: error: %s\n' "$*" >&2; exit 1; }

timeout 1800 tests/browser/setup.sh

if [ -n "${SYNCFAKE_SERVER:-}" ]; then
    [ -x "$SYNCFAKE_SERVER" ] || die "SYNCFAKE_SERVER=$SYNCFAKE_SERVER is not an executable"
else
    timeout 900 scripts/deps.sh
    if [ ! -f "$BUILD_DIR/CMakeCache.txt" ]; then
        timeout 600 cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release >/dev/null
    fi
    timeout 1200 cmake --build "$BUILD_DIR" -j2 --target syncfake-server >/dev/null ||
        die "building syncfake-server failed"
    SYNCFAKE_SERVER=$ROOT/$BUILD_DIR/syncfake-server
fi
export SYNCFAKE_SERVER

rc=0
timeout -k 10 "${BROWSER_TIMEOUT:-600}" node --test --test-reporter="${BROWSER_REPORTER:-spec}" \
    tests/browser/ examples/browser/ || rc=$?
[ "$rc" -ne 124 ] && [ "$rc" -ne 137 ] || die "the browser suite did not finish in time"
exit "$rc"

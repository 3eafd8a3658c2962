#!/usr/bin/env bash
# tests/helpers/run.sh: the test-runner helpers against a real syncfake-server:
#   clients/node    `node --test test/`      (twilio 6.3.1 from its package-lock.json)
#   clients/python  `python3 -m pytest tests` (Debian's python3-pytest and python3-twilio)
# Each includes a server that fails to start, one that never announces itself, and a test
# process that crashes while its server runs. Ends with "N passed, M failed".
#
# Installs what is missing (as root, from Debian's archive): nodejs, npm, python3-pytest,
# python3-twilio; then `npm ci` in clients/node when its twilio is not 6.3.1. Builds the server
# into build/ (configured as `make` does) unless SYNCFAKE_SERVER names a binary to use.
#
# Environment: SYNCFAKE_SERVER=path, HELPERS="node python" (which suites to run).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
HELPERS=${HELPERS:-node python}
BUILD_DIR=${BUILD_DIR:-build}
PY=/usr/bin/python3 # Debian's: python3-pytest and python3-twilio live in its dist-packages

say() { printf 'helpers: %s\n' "$*"; }
die() { printf 'helpers: error: %s\n' "$*" >&2; exit 1; }
wanted() { [[ " $HELPERS " == *" $1 "* ]]; }

# ---- tools ----

missing=()
if wanted node; then
    command -v node >/dev/null 2>&1 || missing+=(nodejs)
    command -v npm >/dev/null 2>&1 || missing+=(npm)
fi
if wanted python; then
    "$PY" -c 'import pytest' 2>/dev/null || missing+=(python3-pytest)
    "$PY" -c 'import twilio' 2>/dev/null || missing+=(python3-twilio)
fi
if ((${#missing[@]})); then
    [ "$(id -u)" -eq 0 ] || die "missing ${missing[*]}; run: sudo apt-get install -y ${missing[*]}"
    say "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    timeout 600 apt-get update -q
    timeout 900 apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
if wanted node; then
    have=$(node -p 'try { require("./clients/node/node_modules/twilio/package.json").version } catch (e) { "" }')
    if [ "$have" != "6.3.1" ]; then
        say "npm ci in clients/node (twilio 6.3.1, dev dependency of its tests)"
        (cd clients/node && timeout 600 npm ci --no-audit --no-fund)
    fi
fi

# ---- the server ----

if [ -n "${SYNCFAKE_SERVER:-}" ]; then
    [ -x "$SYNCFAKE_SERVER" ] || die "SYNCFAKE_SERVER=$SYNCFAKE_SERVER is not an executable"
else
    timeout 900 scripts/deps.sh
    if [ ! -f "$BUILD_DIR/CMakeCache.txt" ]; then
        timeout 600 cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release >/dev/null
    fi
    say "building $BUILD_DIR/syncfake-server"
    timeout 1200 cmake --build "$BUILD_DIR" -j2 --target syncfake-server >/dev/null
    SYNCFAKE_SERVER=$ROOT/$BUILD_DIR/syncfake-server
fi
export SYNCFAKE_SERVER
say "server: $SYNCFAKE_SERVER"

# ---- the suites ----

passed=0
failed=0
failures=()
run_suite() { # name dir command...
    local name=$1 dir=$2 rc=0
    shift 2
    echo
    say "==== $name: (cd $dir && $*)"
    set +e
    (cd "$dir" && timeout -k 5 600 "$@") 2>&1 | sed -u 's/^/    /'
    rc=${PIPESTATUS[0]}
    set -e
    if [ "$rc" -eq 0 ]; then
        say "PASS $name"
        passed=$((passed + 1))
    else
        say "FAIL $name (exit $rc)"
        failed=$((failed + 1))
        failures+=("$name")
    fi
}

for helper in $HELPERS; do
    case $helper in
    node) run_suite node clients/node node --test test/ ;;
    python) run_suite python clients/python "$PY" -m pytest -q -p no:cacheprovider tests ;;
    *) die "unknown helper '$helper' (node, python)" ;;
    esac
done

echo
((failed == 0)) || say "failed: ${failures[*]}"
echo "$passed passed, $failed failed"
((failed == 0))

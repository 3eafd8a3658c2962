#!/usr/bin/env bash
# tests/browser/setup.sh: what a browser test of syncfake needs, shared by tests/browser/run.sh
# and examples/browser (and meant for any later browser test): Debian's chromium (apt, as root),
# node and npm, playwright-core as pinned in tests/browser/package-lock.json, and the twilio-sync
# 4.0.1 browser bundle from tests/sdk's pinned packages. Quiet when everything is there. Every
# wait is bounded.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
say() { printf 'browser: %s\n' "$*"; }
die() { printf 'browser: error: %s\n' "$*" >&2; exit 1; }

missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)
if ((${#missing[@]})); then
    [ "$(id -u)" -eq 0 ] || die "missing ${missing[*]}; run: sudo apt-get install -y ${missing[*]}"
    say "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    timeout 600 apt-get update -q
    timeout 1200 apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

version() { # version of package $2 in $1/node_modules, or ""
    node -p "try { require('./$1/node_modules/$2/package.json').version } catch (e) { '' }"
}
want=$(node -p "require('./tests/browser/package.json').dependencies['playwright-core']")
if [ "$(version tests/browser playwright-core)" != "$want" ]; then
    say "npm ci in tests/browser (playwright-core $want)"
    (cd tests/browser && timeout 600 npm ci --no-audit --no-fund)
fi
if [ "$(version tests/sdk twilio-sync)" != 4.0.1 ]; then
    say "npm ci in tests/sdk (twilio-sync 4.0.1: its builds/twilio-sync.js)"
    (cd tests/sdk && timeout 600 npm ci --no-audit --no-fund)
fi
[ -f tests/sdk/node_modules/twilio-sync/builds/twilio-sync.js ] || die "no twilio-sync browser bundle"
say "$(/usr/bin/chromium --version 2>/dev/null | head -n1), playwright-core $(version tests/browser playwright-core), twilio-sync $(version tests/sdk twilio-sync)"

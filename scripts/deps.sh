#!/usr/bin/env bash
# scripts/deps.sh: make sure the Debian packages syncfake needs to build, test and measure are
# installed. Quiet (one line) and fast when everything is present; never calls apt-get then.
#   - missing packages + root:     apt-get update && apt-get install -y --no-install-recommends
#   - missing packages + not root: prints the exact command to run, exits 1
# SF_SKIP_DEPS=1 skips the check (e.g. on a machine managed some other way).
set -euo pipefail

PACKAGES=(
    build-essential   # gcc, make, libc6-dev
    cmake
    pkg-config
    libcmocka-dev
    libjsmn-dev
    uthash-dev
    libmicrohttpd-dev
    libwslay-dev      # WebSocket framing (Twilsock for the client SDK)
    nettle-dev        # HMAC-SHA256 (access tokens), SHA-1 and base64 (WebSocket handshake)
    lcov
    valgrind
    clang             # the libFuzzer target (make fuzz)
    libclang-rt-dev   # libFuzzer and the sanitizer runtimes for clang
    wrk               # make bench-http
    clang-format-14   # make format, make format-check (pinned: versions format differently)
)

if [[ "${SF_SKIP_DEPS:-0}" == 1 ]]; then
    echo "deps: skipped (SF_SKIP_DEPS=1)"
    exit 0
fi

if ! command -v dpkg-query >/dev/null 2>&1; then
    echo "deps: dpkg-query not found (not Debian?); install by hand: ${PACKAGES[*]}" >&2
    exit 0
fi

# One dpkg-query call for all packages; unknown packages only produce stderr noise.
# Multi-arch packages may print one line per architecture: any "installed" line counts.
installed=$(dpkg-query -W -f='${Package}\t${db:Status-Status}\n' "${PACKAGES[@]}" pkgconf \
    2>/dev/null | awk -F'\t' '$2 == "installed" { print $1 }' | sort -u || true)

is_installed() {
    grep -qx -- "$1" <<<"$installed"
}

missing=()
for pkg in "${PACKAGES[@]}"; do
    if is_installed "$pkg"; then
        continue
    fi
    # pkgconf provides /usr/bin/pkg-config on bookworm; the pkg-config package is transitional.
    if [[ "$pkg" == pkg-config ]] && is_installed pkgconf; then
        continue
    fi
    missing+=("$pkg")
done

if ((${#missing[@]} == 0)); then
    echo "deps: all ${#PACKAGES[@]} packages present"
    exit 0
fi

echo "deps: missing: ${missing[*]}"
if [[ "$(id -u)" -eq 0 ]]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update
    apt-get install -y --no-install-recommends "${missing[@]}"
    echo "deps: installed ${missing[*]}"
else
    echo "deps: not root; run:" >&2
    echo "sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
    exit 1
fi

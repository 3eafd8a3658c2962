#!/usr/bin/env bash
# tests/consumers/run.sh: syncfake used from another project, the ways a user would.
#
# The same small app and test (app/room.c, app/room_test.c: -Wall -Wextra -Werror) is built
#   1. install   `make install PREFIX=...` (static, then SHARED=ON) into empty prefixes: the
#                headers, libraries, .pc files, CMake package and the server are all there;
#                a shared library exports exactly the SF_API functions of the headers
#   2. find_package   against each prefix (with syncfake::http, and core-only)
#   3. pkg-config     against each prefix (plain cc, `pkg-config --cflags --libs syncfake-http`)
#   4. add_subdirectory of this checkout: the parent's cache (CMAKE_BUILD_TYPE,
#                CMAKE_C_FLAGS_RELEASE) is unchanged, syncfake adds no tests to the parent's
#                ctest, and core-only links neither nettle nor the HTTP face
#   5. FetchContent   from this repository's git HEAD (committed state)
# and each test must run green. Ends with "N passed, M failed"; exits non-zero if any failed.
#
# Environment: JOBS (default 2), KEEP=1 keeps the work directory (printed).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
HERE=$ROOT/tests/consumers
JOBS=${JOBS:-2}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/syncfake-consumers.XXXXXX")
if [[ ${KEEP:-0} == 1 ]]; then
    echo "consumers: work directory $WORK (kept)"
else
    trap 'rm -rf "$WORK"' EXIT
fi

say() { printf 'consumers: %s\n' "$*"; }
passed=0
failed=0
failures=()

# check NAME COMMAND...: runs a step with its output in a log; prints the log on failure.
# (set -e does not apply inside an `if`: every step below chains its commands with && or
# returns on the first failure itself.)
check() {
    local name=$1 log
    shift
    log="$WORK/log.$(tr -c 'A-Za-z0-9' _ <<<"$name")"
    if "$@" >"$log" 2>&1; then
        say "PASS $name"
        passed=$((passed + 1))
    else
        say "FAIL $name; its output:"
        tail -n 60 "$log" | sed 's/^/    /'
        failed=$((failed + 1))
        failures+=("$name")
    fi
}

configure() { # build_dir cmake-args...: configures the consumer project
    local dir=$1
    shift
    timeout 900 cmake -S "$HERE" -B "$dir" -DCMAKE_BUILD_TYPE=Release "$@"
}

build_and_test() { # build_dir
    timeout 1800 cmake --build "$1" -j "$JOBS" &&
        (cd "$1" && timeout 300 ctest --output-on-failure)
}

# ---- 1. install ----

install_prefix() { # kind(static|shared)
    local shared=OFF
    [[ $1 == shared ]] && shared=ON
    timeout 1800 make -C "$ROOT" install PREFIX="$WORK/prefix-$1" SHARED=$shared \
        INSTALL_BUILD="$WORK/build-install-$1" JOBS="$JOBS"
}

expect_files() { # prefix kind
    local p=$1 lib=$2 f
    for f in include/syncfake.h include/syncfake_snapshot.h include/syncfake_scenario.h \
        include/syncfake_replay.h include/syncfake_http.h bin/syncfake-server bin/syncfake-replay \
        lib/pkgconfig/syncfake.pc lib/pkgconfig/syncfake-http.pc \
        lib/cmake/syncfake/syncfakeConfig.cmake lib/cmake/syncfake/syncfakeConfigVersion.cmake \
        lib/cmake/syncfake/syncfakeTargets.cmake "lib/libsyncfake.$lib" "lib/libsyncfake_http.$lib"; do
        [[ -e $p/$f ]] || { echo "missing: $p/$f"; return 1; }
    done
    "$p/bin/syncfake-server" --help | grep 'usage: syncfake-server'
}

# The SF_API function names a header declares, sorted.
declared_api() { # header...
    grep -hv '^#define SF_API' "$@" | tr '\n' ' ' | grep -o 'SF_API [^(;]*(' | sed 's/($//; s/.*[ *]//' | LC_ALL=C sort -u
}

exported_api() { # shared library
    nm -D --defined-only "$1" | awk '$2 == "T" { print $3 }' | LC_ALL=C sort -u
}

only_sf_api_exported() { # prefix
    local p=$1
    # Every core header the install ships declares part of libsyncfake's API; syncfake_http.h,
    # libsyncfake_http's.
    local core=()
    mapfile -t core < <(ls "$ROOT"/include/syncfake*.h | grep -v '/syncfake_http\.h$')
    diff <(declared_api "${core[@]}") <(exported_api "$p/lib/libsyncfake.so") || return 1
    diff <(declared_api "$ROOT/include/syncfake_http.h") \
        <(exported_api "$p/lib/libsyncfake_http.so") || return 1
    echo "libsyncfake.so exports $(exported_api "$p/lib/libsyncfake.so" | wc -l) functions," \
        "libsyncfake_http.so $(exported_api "$p/lib/libsyncfake_http.so" | wc -l): the SF_API ones"
}

check "install (static) into an empty prefix" install_prefix static
check "installed files (static)" expect_files "$WORK/prefix-static" a
check "install (shared, SHARED=ON) into an empty prefix" install_prefix shared
check "installed files (shared)" expect_files "$WORK/prefix-shared" so
check "shared libraries export only SF_API functions" only_sf_api_exported "$WORK/prefix-shared"

# ---- 2. find_package ----

find_package_build() { # kind [cmake-args...]
    local kind=$1 dir=$WORK/fp-$1-$#
    shift
    configure "$dir" -DSYNCFAKE_VIA=find_package -DCMAKE_PREFIX_PATH="$WORK/prefix-$kind" "$@" &&
        build_and_test "$dir"
}

check "find_package(syncfake COMPONENTS http) (static)" find_package_build static
check "find_package(syncfake COMPONENTS http) (shared)" find_package_build shared
check "find_package(syncfake), syncfake::syncfake only (static)" \
    find_package_build static -DROOM_TEST_HTTP=OFF

# ---- 3. pkg-config ----

pkgconfig_build() { # kind
    local kind=$1 out=$WORK/pc-$1
    mkdir -p "$out"
    export PKG_CONFIG_PATH=$WORK/prefix-$kind/lib/pkgconfig
    local libdir
    libdir=$(pkg-config --variable=libdir syncfake) || return 1
    # shellcheck disable=SC2046  # pkg-config's output is meant to be split into words
    cc -std=c11 -Wall -Wextra -Werror -DROOM_TEST_HTTP -I"$HERE/app" \
        $(pkg-config --cflags syncfake-http) \
        "$HERE/app/room.c" "$HERE/app/room_test.c" -o "$out/room_test" \
        $(pkg-config --libs syncfake-http) -Wl,-rpath,"$libdir" || return 1
    "$out/room_test"
}
check "pkg-config syncfake-http (static)" pkgconfig_build static
check "pkg-config syncfake-http (shared)" pkgconfig_build shared

# ---- 4. add_subdirectory ----

parent_cache_untouched() { # build_dir: the parent set neither, so both keep CMake's defaults
    local cache=$1/CMakeCache.txt
    grep -qx 'CMAKE_BUILD_TYPE:STRING=' "$cache" ||
        { grep '^CMAKE_BUILD_TYPE' "$cache"; echo "CMAKE_BUILD_TYPE was changed"; return 1; }
    grep -qx 'CMAKE_C_FLAGS_RELEASE:STRING=-O3 -DNDEBUG' "$cache" ||
        { grep '^CMAKE_C_FLAGS_RELEASE' "$cache"; echo "CMAKE_C_FLAGS_RELEASE was changed"; return 1; }
}

only_parent_tests() { # build_dir
    local n
    n=$(cd "$1" && ctest -N | sed -n 's/^Total Tests: //p')
    [[ $n == 1 ]] || { (cd "$1" && ctest -N); echo "expected only room_test"; return 1; }
}

subdirectory_http() {
    local dir=$WORK/sub
    # no CMAKE_BUILD_TYPE here: the check is that syncfake does not set one in this cache
    timeout 900 cmake -S "$HERE" -B "$dir" -DSYNCFAKE_VIA=add_subdirectory \
        -DSYNCFAKE_SOURCE_DIR="$ROOT" &&
        parent_cache_untouched "$dir" && only_parent_tests "$dir" && build_and_test "$dir" ||
        return 1
    if grep -E '^(SF_WSLAY|MHD_FOUND):' "$dir/CMakeCache.txt"; then
        echo "the server's libraries were looked for although a subproject does not build it"
        return 1
    fi
}

subdirectory_core() {
    local dir=$WORK/sub-core
    configure "$dir" -DSYNCFAKE_VIA=add_subdirectory -DROOM_TEST_HTTP=OFF \
        -DSYNCFAKE_SOURCE_DIR="$ROOT" && build_and_test "$dir" || return 1
    if grep -E 'nettle|syncfake_http' "$dir/CMakeFiles/room_test.dir/link.txt"; then
        echo "the core-only link line names nettle or the HTTP face"
        return 1
    fi
    if grep '^SF_NETTLE:' "$dir/CMakeCache.txt"; then
        echo "nettle was looked for although SF_BUILD_HTTP is off"
        return 1
    fi
}

# A consumer's include path holds syncfake's public headers (include/) and nothing private:
# fake_http/, src/ and common/ headers (buf.h, codec.h, internal.h ...) stay in the tree.
only_public_headers() { # build_dir
    local flags=$1/CMakeFiles/room_test.dir/flags.make
    [[ -f $flags ]] || { echo "no $flags"; return 1; }
    grep '^C_INCLUDES' "$flags" | grep -q -F -e "-I$ROOT/include" ||
        { echo "include/ is not on room_test's include path"; return 1; }
    if grep '^C_INCLUDES' "$flags" | tr ' ' '\n' |
        grep -F -e "$ROOT/fake_http" -e "$ROOT/src" -e "$ROOT/common"; then
        echo "room_test (a consumer of syncfake::http) sees private headers"
        return 1
    fi
}

check "add_subdirectory (with syncfake::http)" subdirectory_http
check "add_subdirectory: a consumer sees only include/" only_public_headers "$WORK/sub"
check "add_subdirectory, core only: no nettle, no HTTP face" subdirectory_core

# ---- 5. FetchContent ----

fetchcontent_build() {
    configure "$WORK/fetch" -DSYNCFAKE_VIA=fetchcontent -DSYNCFAKE_GIT_REPOSITORY="$ROOT" \
        -DSYNCFAKE_GIT_TAG="$(git -C "$ROOT" rev-parse HEAD)" && build_and_test "$WORK/fetch"
}

check "FetchContent from git ($(git -C "$ROOT" rev-parse --short HEAD), committed state)" \
    fetchcontent_build

echo
((failed == 0)) || say "failed: ${failures[*]}"
echo "$passed passed, $failed failed"
((failed == 0))

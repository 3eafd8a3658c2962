#!/usr/bin/env bash
# fuzz/run.sh [SECONDS]: builds the libFuzzer targets with clang (ASan + UBSan) into
# build-fuzz/ and runs each for its share of SECONDS (split evenly, at least 1 s each):
#   fuzz_dispatch   the HTTP dispatcher and the decoders under it, seeded with the golden
#                   HTTP cases' requests;
#   fuzz_twilsock   the Twilsock session driven without sockets, before and after `init`,
#                   seeded with fuzz/corpus/twilsock;
#   fuzz_websocket  the WebSocket framing path from the wire (frame guard, wslay, close
#                   handshake) into the Twilsock session, seeded with fuzz/corpus/websocket;
#   fuzz_timeline   the journal-line parser and the timeline SVG renderer, seeded with
#                   tests/timeline_cases/*.jsonl.
#   fuzz_replay     the journal reader of sf_replay (line parser, parameters, re-executed
#                   calls), seeded with fuzz/corpus/replay (recorded journals).
#   fuzz_snapshot   the snapshot reader (sf_fake_from_snapshot), seeded with
#                   fuzz/corpus/snapshot.
#   fuzz_scenario   the scenario parser and runner (sf_scenario_run), seeded with the
#                   teaching scenarios in examples/scenarios.
#   fuzz_front_check  the server's front door request checker (front_check.c: request line,
#                   headers, Content-Length, chunks, pipelining, upgrades), fed whole and in
#                   pieces, seeded with fuzz/corpus/front_check.
# The seed corpora are written by fuzz/make_seeds.py from the tests' frames. What a run
# learns stays in build-fuzz/corpus-<target>/. Exit status is non-zero when a target finds a
# crash (the reproducer is left in build-fuzz/).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
SECONDS_TO_RUN=${1:-${FUZZ_SECONDS:-60}}
OUT=build-fuzz
TARGETS=(fuzz_dispatch fuzz_twilsock fuzz_websocket fuzz_timeline fuzz_replay fuzz_snapshot
         fuzz_scenario fuzz_front_check)
mkdir -p "$OUT/corpus"
command -v clang >/dev/null || { echo "fuzz: clang not found (apt-get install clang)" >&2; exit 1; }
CFLAGS=(-std=c11 -g -O1 -D_POSIX_C_SOURCE=200809L -fno-sanitize-recover=all -Iinclude -Isrc
        -Ifake_http -Ifake_http/server -Icommon)
SANITIZE=address,undefined
# every source is compiled once (in parallel, JOBS at a time), then each target is linked
mkdir -p "$OUT"
# the page at /_syncfake/ui as byte arrays, as the CMake build makes them (control_ui.c needs it)
cmake -DUI_DIR=fake_http/ui -DOUT="$OUT/ui_assets.c" -P cmake/embed_ui.cmake
CORE="$(ls src/*.c fake_http/*.c | grep -v server_main.c) $OUT/ui_assets.c"
SESSION="$(ls fake_http/server/twilsock_*.c) fake_http/server/deadline_heap.c fuzz/ts_fixture.c"
WS="fake_http/server/websocket.c fake_http/server/ws_conn.c fake_http/server/io_loop.c fake_http/server/ws_frame_guard.c"
mkdir -p "$OUT/obj"
export OUT
# shellcheck disable=SC2086
printf '%s\n' $CORE $SESSION $WS fuzz/fuzz_dispatch.c fuzz/fuzz_twilsock.c fuzz/fuzz_websocket.c \
    fuzz/fuzz_timeline.c fuzz/fuzz_replay.c fuzz/fuzz_snapshot.c \
    fuzz/fuzz_scenario.c fake_http/server/front_check.c fuzz/fuzz_front_check.c |
    xargs -P "${JOBS:-2}" -I{} sh -c 'f=$1; shift; clang "$@" -c "$f" -o "$OUT/obj/$(echo "$f" | tr / _).o"' \
        sh {} "${CFLAGS[@]}" -fsanitize=fuzzer-no-link,$SANITIZE
objs() { for f in "$@"; do printf '%s ' "$OUT/obj/$(echo "$f" | tr / _).o"; done; }
link() { # link TARGET LIBS...: the core, the sources in SOURCES, the libraries
    local target=$1
    shift
    # shellcheck disable=SC2046
    clang -fsanitize=fuzzer,$SANITIZE $(objs $CORE "${SOURCES[@]}") "$@" -o "$OUT/$target"
}
SOURCES=(fuzz/fuzz_dispatch.c)
link fuzz_dispatch -lnettle
# shellcheck disable=SC2206
SOURCES=($SESSION fuzz/fuzz_twilsock.c)
link fuzz_twilsock -lnettle -lpthread
# the WebSocket target stands in for libmicrohttpd itself (fuzz_websocket.c)
# shellcheck disable=SC2206
SOURCES=($SESSION $WS fuzz/fuzz_websocket.c)
link fuzz_websocket -lnettle -lwslay -lpthread
SOURCES=(fuzz/fuzz_timeline.c)
link fuzz_timeline -lnettle
SOURCES=(fuzz/fuzz_replay.c)
link fuzz_replay -lnettle -lm
SOURCES=(fuzz/fuzz_snapshot.c)
link fuzz_snapshot -lnettle
SOURCES=(fuzz/fuzz_scenario.c)
link fuzz_scenario -lnettle
SOURCES=(fake_http/server/front_check.c fuzz/fuzz_front_check.c)
link fuzz_front_check -lnettle
# seed corpus of the dispatcher: every request of the golden cases
if [ -d tests/http_cases ]; then
    find tests/http_cases -name '*.request' -exec cp {} "$OUT/corpus/" \; 2>/dev/null || true
fi
SHARE=$((SECONDS_TO_RUN / ${#TARGETS[@]}))
[ "$SHARE" -ge 1 ] || SHARE=1
for target in "${TARGETS[@]}"; do
    case $target in
    fuzz_dispatch) corpora=("$OUT/corpus"); max_len=8192 ;;
    fuzz_timeline) mkdir -p "$OUT/corpus-timeline"
       cp tests/timeline_cases/*.jsonl "$OUT/corpus-timeline/" 2>/dev/null || true
       corpora=("$OUT/corpus-timeline"); max_len=70000 ;;
    fuzz_scenario) mkdir -p "$OUT/corpus-scenario"
       cp examples/scenarios/*.scn "$OUT/corpus-scenario/"
       corpora=("$OUT/corpus-scenario"); max_len=8192 ;;
    *) seeds=fuzz/corpus/${target#fuzz_}
       mkdir -p "$OUT/corpus-${target#fuzz_}"
       corpora=("$OUT/corpus-${target#fuzz_}" "$seeds"); max_len=70000 ;;
    esac
    echo "fuzz: running $target for ${SHARE}s"
    "$OUT/$target" -max_total_time="$SHARE" -max_len="$max_len" -timeout=10 \
        -rss_limit_mb=2048 -artifact_prefix="$OUT/$target-" -print_final_stats=1 \
        "${corpora[@]}" 2>&1 | grep -vE '^#[0-9]+' | tail -n 25
    # a crash stops the target with a non-zero status, which pipefail passes on
done
echo "fuzz: no crash in ${SECONDS_TO_RUN}s (${#TARGETS[@]} targets, ${SHARE}s each)"

#!/usr/bin/env bash
# fuzz/run.sh [SECONDS]: builds the libFuzzer target with clang (ASan + UBSan) into build-fuzz/
# and runs it for a bounded time, seeded with the golden HTTP cases' requests. Exit status is
# non-zero when the fuzzer finds a crash (the reproducer is left in build-fuzz/).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
SECONDS_TO_RUN=${1:-${FUZZ_SECONDS:-60}}
OUT=build-fuzz
mkdir -p "$OUT/corpus"
command -v clang >/dev/null || { echo "fuzz: clang not found (apt-get install clang)" >&2; exit 1; }
SOURCES=$(ls src/*.c fake_http/*.c | grep -v server_main.c)
# shellcheck disable=SC2086
clang -std=c11 -g -O1 -D_POSIX_C_SOURCE=200809L -fsanitize=fuzzer,address,undefined \
    -fno-sanitize-recover=all -Iinclude -Isrc -Ifake_http $SOURCES fuzz/fuzz_dispatch.c \
    -lnettle -o "$OUT/fuzz_dispatch"
# seed corpus: every request of the golden cases
if [ -d tests/http_cases ]; then
    find tests/http_cases -name '*.request' -exec cp {} "$OUT/corpus/" \; 2>/dev/null || true
fi
echo "fuzz: running fuzz_dispatch for ${SECONDS_TO_RUN}s"
"$OUT/fuzz_dispatch" -max_total_time="$SECONDS_TO_RUN" -max_len=8192 -timeout=10 \
    -rss_limit_mb=2048 -artifact_prefix="$OUT/" -print_final_stats=1 "$OUT/corpus" 2>&1 |
    grep -vE '^#[0-9]+' | tail -n 25
echo "fuzz: no crash in ${SECONDS_TO_RUN}s"

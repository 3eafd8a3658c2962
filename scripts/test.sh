#!/usr/bin/env bash
# scripts/test.sh: the logic behind `make test` and `make coverage`.
#
#   scripts/test.sh [all]        asan + valgrind + coverage (with the COVERAGE_MIN gate)
#   scripts/test.sh asan         Debug + ASan/UBSan build, ctest
#   scripts/test.sh valgrind     RelWithDebInfo build, every test executable under valgrind
#   scripts/test.sh coverage     coverage build, ctest, lcov summary + COVERAGE_MIN gate
#   scripts/test.sh html         coverage build, ctest, lcov + genhtml into $HTML_DIR
#
# Environment (the Makefile passes these): ASAN_DIR, VALGRIND_DIR, COV_DIR, HTML_DIR,
# COVERAGE_MIN (percent of lines, default 95; 0 disables the gate), JOBS (default 2).
#
# Stops at the first failing stage. Except for `html`, the last line printed is always
# "N passed, M failed": N = test executables that passed every stage that ran, M = test
# executables that failed + any other failed step (build, lcov, coverage gate), each named
# on a FAILED: line just above. Exit status is 0 exactly when M is 0.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$(pwd)

ASAN_DIR=${ASAN_DIR:-build-asan}
VALGRIND_DIR=${VALGRIND_DIR:-build-valgrind}
COV_DIR=${COV_DIR:-build-cov}
HTML_DIR=${HTML_DIR:-coverage/html}
COVERAGE_MIN=${COVERAGE_MIN:-95}
JOBS=${JOBS:-2}
MODE=${1:-all}

LCOV_RC=(--rc lcov_branch_coverage=0)
# shellcheck disable=SC2054  # the comma in definite,indirect is valgrind syntax
VALGRIND=(valgrind --error-exitcode=1 --leak-check=full
          --errors-for-leak-kinds=definite,indirect --quiet)

# --- bookkeeping for the summary line --------------------------------------------------------

declare -a TEST_NAMES=()     # tests known to ctest (set by the first stage that runs)
declare -A FAILED_TESTS=()   # test name -> stages it failed in
declare -a FAILED_STEPS=()   # failures that are not a test executable
TESTS_RAN=0                  # 1 once some stage has run the tests
STEP="start"                 # what is running now, named if it dies unexpectedly
PRINT_SUMMARY=1

banner() { printf '\n==== %s ====\n' "$*"; }

fail_test() { # name stage
    FAILED_TESTS[$1]="${FAILED_TESTS[$1]:+${FAILED_TESTS[$1]}, }$2"
}

on_exit() {
    local rc=$?
    set +e
    [[ $PRINT_SUMMARY == 1 ]] || exit "$rc"
    if ((rc != 0 && ${#FAILED_TESTS[@]} == 0 && ${#FAILED_STEPS[@]} == 0)); then
        FAILED_STEPS+=("$STEP (exit $rc)")
    fi
    local n_failed=$((${#FAILED_TESTS[@]} + ${#FAILED_STEPS[@]}))
    local n_passed=0
    if ((TESTS_RAN)); then
        n_passed=$((${#TEST_NAMES[@]} - ${#FAILED_TESTS[@]}))
    fi
    if ((n_failed > 0)); then
        echo
        local t s
        for t in $(printf '%s\n' "${!FAILED_TESTS[@]}" | sort); do
            echo "FAILED: $t (${FAILED_TESTS[$t]})"
        done
        for s in "${FAILED_STEPS[@]}"; do
            echo "FAILED: $s"
        done
        rc=1
    fi
    echo "$n_passed passed, $n_failed failed"
    exit "$rc"
}
trap on_exit EXIT

# --- helpers ---------------------------------------------------------------------------------

configure() { # dir build_type cmake-args...
    local dir=$1 type=$2
    shift 2
    STEP="configure $dir"
    cmake -S "$ROOT" -B "$dir" --log-level=WARNING -DCMAKE_BUILD_TYPE="$type" "$@"
}

build() { # dir
    STEP="build $1"
    cmake --build "$1" -j "$JOBS"
}

# Names of the tests registered in a build tree, one per line, in ctest order.
list_tests() { # dir
    (cd "$1" && ctest -N) | sed -n 's/^ *Test *#[0-9]*: *//p'
}

# Runs ctest in dir; records failing tests under `stage`. Returns 1 if anything failed.
run_ctest() { # dir stage parallel
    local dir=$1 stage=$2 par=$3 rc=0 failed_log name any=0
    STEP="ctest $dir"
    mapfile -t TEST_NAMES < <(list_tests "$dir")
    failed_log="$dir/Testing/Temporary/LastTestsFailed.log"
    rm -f "$failed_log"
    (cd "$dir" && ctest --output-on-failure -j "$par") || rc=$?
    TESTS_RAN=1
    ((rc != 0)) || return 0
    if [[ -f $failed_log ]]; then
        while IFS=: read -r _ name; do
            [[ -n $name ]] || continue
            fail_test "$name" "$stage"
            any=1
        done <"$failed_log"
    fi
    ((any)) || FAILED_STEPS+=("ctest in $dir (exit $rc)")
    return 1
}

# --- stages ----------------------------------------------------------------------------------

stage_asan() {
    banner "ASan + UBSan ($ASAN_DIR, Debug)"
    configure "$ASAN_DIR" Debug -DSF_SANITIZE=ON -DSF_COVERAGE=OFF -DSF_BUILD_TESTS=ON \
        -DSF_BUILD_BENCH=OFF
    build "$ASAN_DIR"
    run_ctest "$ASAN_DIR" asan "$JOBS" || exit 1
}

stage_valgrind() {
    banner "valgrind ($VALGRIND_DIR, RelWithDebInfo)"
    configure "$VALGRIND_DIR" RelWithDebInfo -DSF_SANITIZE=OFF -DSF_COVERAGE=OFF \
        -DSF_BUILD_TESTS=ON -DSF_BUILD_BENCH=OFF
    build "$VALGRIND_DIR"
    STEP="valgrind"
    local names name log bad=0
    mapfile -t names < <(list_tests "$VALGRIND_DIR")
    ((TESTS_RAN)) || TEST_NAMES=("${names[@]}")
    for name in "${names[@]}"; do
        log="$VALGRIND_DIR/valgrind-${name//\//_}.log"
        local cmd=("./$name")
        # golden cases are ctests http_golden/CASE of the one runner test_http_golden
        [[ $name != http_golden/* ]] || cmd=(./test_http_golden "${name#http_golden/}")
        if (cd "$VALGRIND_DIR" && CMOCKA_MESSAGE_OUTPUT=STDOUT \
            "${VALGRIND[@]}" "${cmd[@]}") >"$log" 2>&1; then
            echo "valgrind: $name ok"
        else
            echo "valgrind: $name FAILED; its output:"
            sed 's/^/    /' "$log"
            fail_test "$name" valgrind
            bad=1
        fi
    done
    TESTS_RAN=1
    ((bad == 0)) || exit 1
    if ((${#names[@]} == 0)); then
        echo "valgrind: no test executables"
    fi
}

# Coverage build + ctest + lcov capture/extract. Sets COV_INFO ("" when there is no data).
# With $1 = keep-going, failing tests are recorded but the report is still produced.
COV_INFO=""
COV_TESTS_FAILED=0
coverage_collect() {
    banner "coverage ($COV_DIR)"
    configure "$COV_DIR" Debug -DSF_COVERAGE=ON -DSF_SANITIZE=OFF -DSF_BUILD_TESTS=ON \
        -DSF_BUILD_BENCH=OFF
    build "$COV_DIR"
    find "$COV_DIR" -name '*.gcda' -delete
    # Serial: every test executable updates the same .gcda files of the library.
    if ! run_ctest "$COV_DIR" coverage 1; then
        COV_TESTS_FAILED=1
        [[ ${1:-} == keep-going ]] || exit 1
    fi
    # The client SDK suite drives the Twilsock session code through real WebSockets: it runs
    # against this build's server, so that code is measured by the tests that exercise it.
    STEP="client SDK suite (tests/sdk) against $COV_DIR/syncfake-server"
    banner "client SDK suite (tests/sdk)"
    if ! SYNCFAKE_SERVER="$COV_DIR/syncfake-server" tests/sdk/run.sh; then
        COV_TESTS_FAILED=1
        FAILED_STEPS+=("client SDK suite (tests/sdk)")
        [[ ${1:-} == keep-going ]] || exit 1
    fi
    if [[ -z $(find "$COV_DIR" -name '*.gcda' -print -quit) ]]; then
        echo "coverage: no .gcda files (no test ran any code)"
        return 0
    fi
    STEP="lcov --capture"
    # geninfo 1.16 on bookworm prints harmless "Subroutine ... redefined" perl warnings.
    { lcov --quiet --capture --directory "$COV_DIR" --output-file "$COV_DIR/coverage.info" \
        "${LCOV_RC[@]}" 2>&1 1>&3 | { grep -v '^Subroutine .* redefined at' >&2 || true; }; } 3>&1
    STEP="lcov --extract"
    lcov --quiet --extract "$COV_DIR/coverage.info" "$ROOT/src/*" "$ROOT/fake_http/*" \
        --output-file "$COV_DIR/coverage.src.info" "${LCOV_RC[@]}"
    COV_INFO="$COV_DIR/coverage.src.info"
}

stage_coverage() {
    coverage_collect
    STEP="coverage gate"
    local summary pct
    if [[ -z $COV_INFO ]]; then
        if awk -v m="$COVERAGE_MIN" 'BEGIN { exit !(m + 0 > 0) }'; then
            FAILED_STEPS+=("coverage: no coverage data, COVERAGE_MIN=$COVERAGE_MIN%")
            exit 1
        fi
        return 0
    fi
    summary=$(lcov --summary "$COV_INFO" "${LCOV_RC[@]}" 2>&1)
    echo "coverage of src/ and fake_http/ ($COV_INFO):"
    echo "$summary"
    pct=$(sed -n 's/^ *lines\.*: *\([0-9.]*\)%.*/\1/p' <<<"$summary" | head -n1)
    if [[ -z $pct ]]; then
        pct=0
    fi
    if awk -v p="$pct" -v m="$COVERAGE_MIN" 'BEGIN { exit !(p + 0 >= m + 0) }'; then
        echo "coverage gate: lines $pct% >= COVERAGE_MIN $COVERAGE_MIN%: ok"
    else
        echo "coverage gate: lines $pct% is below COVERAGE_MIN $COVERAGE_MIN%" \
            "(see 'make coverage' for the HTML report; 'make test COVERAGE_MIN=0' skips)"
        FAILED_STEPS+=("coverage gate: src/ line coverage $pct% < COVERAGE_MIN $COVERAGE_MIN%")
        exit 1
    fi
}

stage_html() {
    PRINT_SUMMARY=0
    coverage_collect keep-going
    if [[ -z $COV_INFO ]]; then
        echo "coverage: nothing to report" >&2
        exit 1
    fi
    lcov --summary "$COV_INFO" "${LCOV_RC[@]}" 2>&1
    rm -rf "$HTML_DIR"
    mkdir -p "$HTML_DIR"
    genhtml --quiet "$COV_INFO" --output-directory "$HTML_DIR" --prefix "$ROOT" \
        --title "syncfake" "${LCOV_RC[@]}"
    echo "coverage report: $ROOT/$HTML_DIR/index.html"
    if ((COV_TESTS_FAILED)); then
        echo "coverage: some tests FAILED (see above); the report covers the runs as they were" >&2
        exit 1
    fi
}

case "$MODE" in
    all)
        stage_asan
        stage_valgrind
        stage_coverage
        ;;
    asan) stage_asan ;;
    valgrind) stage_valgrind ;;
    coverage) stage_coverage ;;
    html) stage_html ;;
    *)
        PRINT_SUMMARY=0
        echo "usage: $0 [all|asan|valgrind|coverage|html]" >&2
        exit 2
        ;;
esac

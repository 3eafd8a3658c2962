# Thin wrapper around CMake; the long logic lives in scripts/test.sh.
#   make            deps + Release build in $(BUILD)
#   make demo       build and run the narrated demo
#   make test       ASan/UBSan ctest, valgrind, coverage (+ COVERAGE_MIN gate)
#   make coverage   HTML coverage report in coverage/html/
#   make bench      build and run every $(BUILD)/bench_* program
#   make serve      build and run the loopback server (SERVE_ARGS='--clock manual ...')
#   make bench-http the loopback server under wrk (fetch and publish: req/s, p99)
#   make soak       SOAK_MINUTES (default 10) of mixed REST/SSE/WebSocket churn with clock
#                   moves; the server's RSS and live heap over time; fails unless RSS plateaus
#   make fuzz       libFuzzer: HTTP dispatcher, Twilsock session, WebSocket framing, timeline,
#                   replay, snapshots, scenarios, the front door's request checker
#                   (FUZZ_SECONDS in all, default 60, split between them)
#   make tsan       the loopback server, WebSocket tests, SDK suite and a fan-out under TSan
#   make sdk        the unmodified twilio-sync client SDK against the server (WebSocket)
#   make clients    the examples: official Node and Python libraries, the Node SDK, curl
#   make browser    the SDK's browser bundle in headless Chromium (tests/browser, examples/browser)
#   make format     clang-format -i every C file of the project (FORMAT_DIRS)
#   make format-check  fail, listing them, if any C file differs from clang-format's output
#   make install    libraries, headers, CMake package, .pc files and the server into $(PREFIX)
#                   (PREFIX=/usr/local; SHARED=ON for shared libraries; DESTDIR is honoured)
#   make consumers  tests/consumers: a small app built against syncfake four ways
#   make helpers    the Node and Python test-runner helpers (clients/) against the server
#   make sandbox    the teaching sandbox: syncfake-server on a manual clock with a teaching
#                   scenario played (SANDBOX_SCENARIO, SANDBOX_PORT=8787); prints the page's
#                   URL (/_syncfake/ui) and the credentials
#   make clean

BUILD ?= build
ASAN ?= build-asan
COV ?= build-cov
VALGRIND_BUILD ?= build-valgrind
HTML ?= coverage/html
COVERAGE_MIN ?= 95
FUZZ_SECONDS ?= 60
BENCH_SECONDS ?= 10
SOAK_MINUTES ?= 10
SOAK_ARGS ?=
JOBS ?= 2
SANDBOX_SCENARIO ?= examples/scenarios/lossy_chat.scn
SANDBOX_PORT ?= 8787
CMAKE ?= cmake
# Pinned: another clang-format version formats some constructs differently (scripts/deps.sh).
CLANG_FORMAT ?= clang-format-14
PREFIX ?= /usr/local
SHARED ?= OFF
INSTALL_BUILD ?= build-install

TEST_ENV = ASAN_DIR='$(ASAN)' VALGRIND_DIR='$(VALGRIND_BUILD)' COV_DIR='$(COV)' \
           HTML_DIR='$(HTML)' COVERAGE_MIN='$(COVERAGE_MIN)' JOBS='$(JOBS)'

FORMAT_DIRS = include src fake_http tests bench examples fuzz tools
FORMAT_FILES = find $(FORMAT_DIRS) -type f \( -name '*.c' -o -name '*.h' \) -not -path '*/node_modules/*' \
               2>/dev/null | LC_ALL=C sort

# Keep the make that cmake --build runs from printing Entering/Leaving directory.
MAKEFLAGS += --no-print-directory

.PHONY: all deps demo test coverage bench bench-http soak serve fuzz clients sdk tsan format format-check clean \
        install consumers helpers browser sandbox

all: deps
	@test -f '$(BUILD)/CMakeCache.txt' || $(CMAKE) -S . -B '$(BUILD)' -DCMAKE_BUILD_TYPE=Release
	$(CMAKE) --build '$(BUILD)' -j$(JOBS)

deps:
	@scripts/deps.sh

demo: all
	@test -x '$(BUILD)/syncfake-demo' || { echo "no demo: examples/demo.c not found" >&2; exit 1; }
	'$(BUILD)/syncfake-demo'

test: deps
	@$(TEST_ENV) scripts/test.sh all

coverage: deps
	@$(TEST_ENV) scripts/test.sh html

bench: all
	@set -e; found=0; \
	for b in $$(LC_ALL=C ls -1d '$(BUILD)'/bench_* 2>/dev/null); do \
	    if [ -f "$$b" ] && [ -x "$$b" ]; then \
	        found=1; echo "==== $$b"; "$$b"; \
	    fi; \
	done; \
	[ $$found = 1 ] || echo "no benchmarks ($(BUILD)/bench_*)"

bench-http: all
	@bench/http.sh $(BENCH_SECONDS)

# The server's stderr (libmicrohttpd's notes on clients that hang up mid-stream) goes to a log.
soak: all
	'$(BUILD)/soak' '$(BUILD)/syncfake-server' --minutes $(SOAK_MINUTES) \
	    --heap-count '$(BUILD)/libsf_heap_count.so' --server-log '$(BUILD)/soak-server.log' $(SOAK_ARGS)

fuzz: deps
	@fuzz/run.sh $(FUZZ_SECONDS)

# The loopback server's suites (tests/test_http_server_*.c, tests/test_websocket_*.c) run under
# ThreadSanitizer. The server under ThreadSanitizer also serves the client SDK suite and a fan-out
# to 200 WebSockets that ack every notification; both fail if the server reports or does not stop
# cleanly.
TSAN_TESTS = $(sort $(basename $(notdir $(wildcard tests/test_http_server_*.c tests/test_websocket_*.c))))

tsan: all
	@test -f build-tsan/CMakeCache.txt || $(CMAKE) -S . -B build-tsan -DSF_TSAN=ON \
	    -DCMAKE_BUILD_TYPE=Debug -DSF_BUILD_BENCH=OFF
	$(CMAKE) --build build-tsan -j$(JOBS) --target $(TSAN_TESTS) syncfake-server
	@for t in $(TSAN_TESTS); do echo "TSAN_OPTIONS=halt_on_error=1 build-tsan/$$t"; \
	    TSAN_OPTIONS=halt_on_error=1 build-tsan/$$t || exit 1; done
	TSAN_OPTIONS=halt_on_error=1 SYNCFAKE_SERVER=build-tsan/syncfake-server tests/sdk/run.sh
	@echo 'tsan: a fan-out for races only: its speed under TSan is no benchmark (MISS rows are expected)'
	TSAN_OPTIONS=halt_on_error=1 '$(BUILD)/ws_fanout' build-tsan/syncfake-server --conns 200 \
	    --messages 50 --ack --out build-tsan/ws_fanout.json

clients: deps
	@tests/clients/run.sh

sdk: all
	@tests/sdk/run.sh

browser: all
	@tests/browser/run.sh

serve: all
	'$(BUILD)/syncfake-server' $(SERVE_ARGS)

format:
	@command -v $(CLANG_FORMAT) >/dev/null || { echo "$(CLANG_FORMAT) not found (scripts/deps.sh)" >&2; exit 1; }
	@files=$$($(FORMAT_FILES)); $(CLANG_FORMAT) -i $$files && echo "formatted $$(echo "$$files" | wc -l) files"

format-check: deps
	@command -v $(CLANG_FORMAT) >/dev/null || { echo "$(CLANG_FORMAT) not found (scripts/deps.sh)" >&2; exit 1; }
	@bad=0; n=0; for f in $$($(FORMAT_FILES)); do n=$$((n + 1)); \
	    $(CLANG_FORMAT) "$$f" | cmp -s - "$$f" || { echo "not formatted: $$f"; bad=$$((bad + 1)); }; \
	done; \
	if [ $$bad -ne 0 ]; then echo "format-check: $$bad of $$n files differ; run make format" >&2; exit 1; fi; \
	echo "format-check: $$n files formatted"

# Its own build tree: only what is installed, configured for $(PREFIX).
install: deps
	$(CMAKE) -S . -B '$(INSTALL_BUILD)' --log-level=WARNING -DCMAKE_BUILD_TYPE=Release \
	    -DCMAKE_INSTALL_PREFIX='$(PREFIX)' -DBUILD_SHARED_LIBS='$(SHARED)' \
	    -DSF_BUILD_TESTS=OFF -DSF_BUILD_BENCH=OFF -DSF_BUILD_EXAMPLES=OFF
	$(CMAKE) --build '$(INSTALL_BUILD)' -j$(JOBS)
	$(CMAKE) --install '$(INSTALL_BUILD)'

consumers: deps
	@tests/consumers/run.sh

helpers: all
	@SYNCFAKE_SERVER='$(abspath $(BUILD))/syncfake-server' tests/helpers/run.sh

clean:
	rm -rf '$(BUILD)' '$(ASAN)' '$(COV)' '$(VALGRIND_BUILD)' '$(HTML)' build-fuzz build-tsan \
	    '$(INSTALL_BUILD)'

sandbox: all
	@scripts/sandbox.sh '$(BUILD)/syncfake-server' '$(SANDBOX_SCENARIO)' '$(SANDBOX_PORT)'

# make docs-check: every docs/*.md section the code cites exists, every link of README.md and
# docs/*.md resolves, and no file cites a document outside the repository (scripts/check_docs.py)
.PHONY: docs-check
docs-check:
	@python3 scripts/check_docs.py

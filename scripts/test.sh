#!/usr/bin/env bash
# Sets up, builds and runs the whole test suite: unit tests and integration tests with real
# peers (AMQP client, SMTP and HTTP servers, openssl), all on 127.0.0.1; ctest also replays the
# fuzz targets' corpus and crash regressions (fuzz/). Then:
#   - fuzzing: each libFuzzer target (clang, ASan + UBSan) runs briefly (scripts/fuzz.sh); a
#     crash, leak, undefined behaviour or a slow input fails the run;
#   - ASan + UBSan: everything built again with AddressSanitizer and UndefinedBehaviorSanitizer
#     and the same suite run on that build: a memory error, undefined behaviour or a leak at a
#     daemon's clean shutdown fails it;
#   - TSan: built again with ThreadSanitizer; the unit tests and the integration tests run on
#     that build; a data race or lock-order inversion fails it (tests/tsan.supp lists the false
#     positives from libraries built without TSan, each with its reason).
#
#   OZGHUB_SANITIZE=0 ./scripts/test.sh    skips all three (a quicker local run)
#   OZGHUB_FUZZ=0, OZGHUB_ASAN=0, OZGHUB_TSAN=0 skip one of them
#   OZGHUB_FUZZ_SECONDS=10                 how long each fuzz target runs (default 10)
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
BUILD_DIR=${OZGHUB_BUILD_DIR:-build}
ctest --test-dir "$BUILD_DIR" --output-on-failure -j2 --timeout 900

enabled() {  # enabled PASS: the pass runs unless its variable or OZGHUB_SANITIZE is 0
  [ "${OZGHUB_SANITIZE:-1}" != 0 ] && [ "${!1:-1}" != 0 ]
}

# sanitizer_build DIR SANITIZERS EXTRA_FLAGS: configures and builds the tree with them. To keep
# CI within its time: -O1 and line tables only (-g1, enough for the reports' stack traces), no
# benchmarks (test_flow_control drives the sanitized daemon with the normal build's load
# generator), and warnings are not errors (the normal build enforces them; -O1 differs).
sanitizer_build() {
  local flags="-fsanitize=$2 -fno-omit-frame-pointer $3"
  cmake -S . -B "$1" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1 -DNDEBUG" -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O1 -g1 -DNDEBUG" \
    -DOZGHUB_BUILD_BENCHMARKS=OFF -DOZGHUB_WERROR=OFF \
    -DCMAKE_CXX_FLAGS="$flags" -DCMAKE_C_FLAGS="$flags" \
    -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=$2" -DCMAKE_SHARED_LINKER_FLAGS="-fsanitize=$2" \
    -DCMAKE_MODULE_LINKER_FLAGS="-fsanitize=$2" >/dev/null
  cmake --build "$1" -j"$(nproc)"
}

if enabled OZGHUB_FUZZ; then
  echo "test: fuzzing each target for ${OZGHUB_FUZZ_SECONDS:-10} s"
  ./scripts/fuzz.sh all "${OZGHUB_FUZZ_SECONDS:-10}"
fi

if enabled OZGHUB_ASAN; then
  SAN_DIR=${OZGHUB_SANITIZE_BUILD_DIR:-build-asan}
  echo "test: the same suite under AddressSanitizer + UndefinedBehaviorSanitizer ($SAN_DIR)"
  sanitizer_build "$SAN_DIR" address,undefined -fno-sanitize-recover=undefined
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --test-dir "$SAN_DIR" --output-on-failure -j2 --timeout 900
fi

if enabled OZGHUB_TSAN; then
  TSAN_DIR=${OZGHUB_TSAN_BUILD_DIR:-build-tsan}
  echo "test: unit and integration tests under ThreadSanitizer ($TSAN_DIR)"
  # GCC warns that TSan does not model atomic_thread_fence (Boost.Asio uses them in the admin
  # server); the fences stay, TSan sees the mutexes around them.
  sanitizer_build "$TSAN_DIR" thread -Wno-tsan
  # Every report counts: the process goes on (so one run shows all of them) and exits 66; the
  # integration tests also fail on a report in a daemon's output (tests/integration/hubtest.py).
  TSAN_OPTIONS="suppressions=$PWD/tests/tsan.supp halt_on_error=0 exitcode=66 second_deadlock_stack=1" \
    ctest --test-dir "$TSAN_DIR" --output-on-failure -j2 --timeout 900
fi

#!/usr/bin/env bash
# Sets up, builds and runs the whole test suite: unit tests and integration tests with real
# peers (AMQP client, SMTP and HTTP servers, openssl), all on 127.0.0.1. Then builds everything
# again with AddressSanitizer and UndefinedBehaviorSanitizer and runs the same suite on that
# build: a memory error, undefined behaviour or a leak at a daemon's clean shutdown fails it.
#
#   OZGHUB_SANITIZE=0 ./scripts/test.sh    skips the sanitizer pass (a quicker local run)
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
BUILD_DIR=${OZGHUB_BUILD_DIR:-build}
ctest --test-dir "$BUILD_DIR" --output-on-failure -j2 --timeout 900

if [ "${OZGHUB_SANITIZE:-1}" != 0 ]; then
  SAN_DIR=${OZGHUB_SANITIZE_BUILD_DIR:-build-asan}
  FLAGS="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined"
  echo "test: the same suite under AddressSanitizer + UndefinedBehaviorSanitizer ($SAN_DIR)"
  cmake -S . -B "$SAN_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_CXX_FLAGS="$FLAGS" -DCMAKE_C_FLAGS="$FLAGS" \
    -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined" \
    -DCMAKE_SHARED_LINKER_FLAGS="-fsanitize=address,undefined" \
    -DCMAKE_MODULE_LINKER_FLAGS="-fsanitize=address,undefined" >/dev/null
  cmake --build "$SAN_DIR" -j"$(nproc)"
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --test-dir "$SAN_DIR" --output-on-failure -j2 --timeout 900
fi

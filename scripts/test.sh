#!/usr/bin/env bash
# Sets up, builds and runs the whole test suite: unit tests and integration tests with real
# peers (AMQP client, openssl), all on 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
BUILD_DIR=${OZGHUB_BUILD_DIR:-build}
ctest --test-dir "$BUILD_DIR" --output-on-failure -j2 --timeout 900

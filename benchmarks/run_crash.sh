#!/usr/bin/env bash
# Long crash run (issue 4): CYCLES cycles of load from a real AMQP portal and kill -9 of the
# daemon, at random moments and at the data path's fault points (OZGHUB_FAULT, test-only), then a
# clean run that drains everything; prints per destination folder what the portal saw accepted
# and what arrived: lost, duplicated, unexpected, receipt mismatches, orphaned temporary folders.
# Exit 0 only when all of them are 0. The CI variant is tests/integration/test_crash.py.
#
#   CYCLES=500 ./benchmarks/run_crash.sh
#   CYCLES=200 SEED=42 PER_CYCLE=100 MAX_NTH=50 ./benchmarks/run_crash.sh
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${OZGHUB_BUILD_DIR:-build}
export OZGHUB_SOURCE_DIR=$PWD
export OZGHUB_BINARY=$PWD/$BUILD/broker/ozg-hub
export OZGHUB_CTL=$PWD/$BUILD/ctl/ozg-hubctl
args=(--cycles "${CYCLES:-100}" --per-cycle "${PER_CYCLE:-40}" --max-nth "${MAX_NTH:-20}")
[ -n "${SEED:-}" ] && args+=(--seed "$SEED")
cd tests/integration
exec /usr/bin/python3 crashharness.py "${args[@]}"

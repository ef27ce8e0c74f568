#!/usr/bin/env bash
# Scale-out on an existing broker: the rate at which one hub, then two hubs (competing consumers,
# connector mode) drain a durable queue of a private RabbitMQ 3.10 node, alternating ROUNDS times.
# Prints the rates, their medians and the ratio; stops RabbitMQ and the hubs it started.
# docs/operations/scale-out.md.
#
#   COUNT=20000 ROUNDS=3 benchmarks/run_scale_out.sh     (from the project root, after a build)
set -euo pipefail
cd "$(dirname "$0")/.."
export OZGHUB_SOURCE_DIR=$PWD
export OZGHUB_BINARY=${OZGHUB_BINARY:-$PWD/${OZGHUB_BUILD_DIR:-build}/broker/ozg-hub}
exec /usr/bin/python3 benchmarks/scale_out.py

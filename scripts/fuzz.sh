#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/, clang with ASan + UBSan, build tree build-fuzz/) and runs
# one or all of them for SECONDS each. Fails if a target finds a crash, leak, undefined behaviour
# or an input slower than 25 s; the input is left in build-fuzz/findings/TARGET/ (minimise it
# with `build-fuzz/fuzz/fuzz_TARGET -minimize_crash=1 INPUT`, then keep it in
# fuzz/regressions/TARGET/ with the fix). Prints each target's executions.
#
#   scripts/fuzz.sh all 30               every target for 30 s (CI)
#   scripts/fuzz.sh xml_validator 3600   one target for an hour
#
# Seeds are made at run time from ../shared/corpus and the project's files (fuzz/seeds.py); new
# inputs libFuzzer finds stay in build-fuzz/corpus/TARGET/ for the next run. Extra arguments go
# to libFuzzer (e.g. -jobs=2 -workers=2, or -only_ascii=1).
set -euo pipefail
cd "$(dirname "$0")/.."
TARGETS=(message_decoder xml_validator config routing_directory)
if [ $# -lt 2 ]; then
  echo "usage: $0 TARGET|all SECONDS [libFuzzer options...]  (targets: ${TARGETS[*]})" >&2
  exit 2
fi
WHICH=$1 SECONDS_EACH=$2
shift 2
if [ "$WHICH" != all ]; then TARGETS=("$WHICH"); fi
BUILD_DIR=${OZGHUB_FUZZ_BUILD_DIR:-build-fuzz}
JOBS=${OZGHUB_JOBS:-2}

CC=clang CXX=clang++ cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DOZGHUB_FUZZ=ON -DOZGHUB_BUILD_TESTS=OFF -DOZGHUB_BUILD_BENCHMARKS=OFF >/dev/null
nice -n 10 cmake --build "$BUILD_DIR" -j"$JOBS" --target "${TARGETS[@]/#/fuzz_}"

status=0
for target in "${TARGETS[@]}"; do
  seeds=$BUILD_DIR/seeds/$target corpus=$BUILD_DIR/corpus/$target
  findings=$BUILD_DIR/findings/$target
  rm -rf "$seeds"
  mkdir -p "$seeds" "$corpus" "$findings"
  /usr/bin/python3 fuzz/seeds.py "$target" "$seeds"
  dict=()
  if [ -f "fuzz/dict/$target.dict" ]; then dict=(-dict="fuzz/dict/$target.dict"); fi
  log=$BUILD_DIR/fuzz-$target.log
  echo "fuzz: $target for ${SECONDS_EACH}s (log $log)"
  # The first folder receives what libFuzzer finds; the committed corpus and the regressions
  # start every run where the last long one ended.
  inputs=("$corpus")
  for d in "fuzz/corpus/$target" "fuzz/regressions/$target" "$seeds"; do
    if [ -d "$d" ]; then inputs+=("$d"); fi
  done
  if ASAN_OPTIONS=detect_leaks=1 nice -n 10 "$BUILD_DIR/fuzz/fuzz_$target" \
      -max_total_time="$SECONDS_EACH" -timeout=25 -rss_limit_mb=2048 -print_final_stats=1 \
      -artifact_prefix="$findings/" "${dict[@]}" "$@" "${inputs[@]}" >"$log" 2>&1; then
    echo "fuzz: $target: $(grep -m1 -o 'stat::number_of_executed_units: [0-9]*' "$log" | \
      awk '{print $2}') executions, $(grep -c '' < <(find "$corpus" -type f)) inputs in $corpus"
  else
    status=1
    echo "fuzz: $target FAILED (log $log; the input, if any, in $findings/):" >&2
    grep -E -A30 '^==[0-9]+==ERROR|runtime error|ALARM' "$log" | head -60 >&2 || tail -20 "$log" >&2
  fi
done
exit $status

#!/usr/bin/env bash
# The routing directory at national scale: writes a synthetic directory from the real GV100AD
# file (every German Gemeinde; RULES responsibilities over SERVICES LeiKa keys, seeded), then
#  1. loads it through the real loader and prints load seconds and memory (VmHWM, and VmRSS of
#     the directory itself), times lookups of realistic queries (Google Benchmark: median of
#     REPS repetitions, plus per-lookup percentiles), and reloads it while lookups continue;
#  2. runs `ozg-hub --check-config` on a configuration using it (the daemon's own load path:
#     areas, offices, channels bound to a transfer_dir adapter) under /usr/bin/time.
# The directory is written to $OZGHUB_BUILD_DIR/national (about 450 MB for 10 million rules)
# and reused while its parameters are unchanged; it is never written into the source tree.
#
#   RULES=10000000 SERVICES=3000 SEED=6 REPS=9 ./benchmarks/run_national_routing.sh
set -euo pipefail
cd "$(dirname "$0")/.."
RULES=${RULES:-10000000}
SERVICES=${SERVICES:-3000}
SEED=${SEED:-6}
REPS=${REPS:-9}
BUILD=${OZGHUB_BUILD_DIR:-build}
GV100AD=${GV100AD:-../shared/corpus/areas/GV100AD_301123.txt}
OUT="$BUILD/national"
STAMP="rules=$RULES services=$SERVICES seed=$SEED gv100ad=$(realpath "$GV100AD")"

cmake --build "$BUILD" --target ozg-hub-national-routing-bench ozg-hub >/dev/null
if [ "$(cat "$OUT/stamp" 2>/dev/null)" != "$STAMP" ]; then
  rm -rf "$OUT"
  /usr/bin/time -f "generate: %e s" /usr/bin/python3 benchmarks/national/generate_directory.py \
    --gv100ad "$GV100AD" --out "$OUT" --rules "$RULES" --services "$SERVICES" --seed "$SEED"
  echo "$STAMP" >"$OUT/stamp"
fi
ls -l "$OUT"/responsibilities.tsv "$OUT"/routing.yaml

echo "== loader, lookups, reload"
"$BUILD/benchmarks/ozg-hub-national-routing-bench" "$OUT" --benchmark_repetitions="$REPS" \
  --benchmark_report_aggregates_only=true

echo "== ozg-hub --check-config with the national directory"
WORK=$(mktemp -d "$PWD/$BUILD/national-check.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
cat >"$WORK/ozg-hub.yaml" <<YAML
listen: "127.0.0.1:0"
amqp: { dev_mode: true }
data_dir: $WORK/data
schemas:
  - namespace: "urn:ozg-hub:schema:antrag:1.0"
    xsd: $PWD/schemas/ozg-antrag/ozg-antrag-1.0.xsd
routing:
  directory: $PWD/$OUT/routing.yaml
adapters:
  transfer:
    type: transfer_dir
    root: $WORK/transfer
encryption:
  keks:
    bench: { type: file, path: $WORK/kek.key, create_if_missing: true }
YAML
/usr/bin/time -f "check-config: %e s wall, peak RSS %M KiB" \
  "$BUILD/broker/ozg-hub" --check-config "$WORK/ozg-hub.yaml"

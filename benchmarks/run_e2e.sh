#!/usr/bin/env bash
# End-to-end benchmark: starts ozg-hub on 127.0.0.1 with a fresh data directory on the project's
# disk, sends COUNT applications of SIZE bytes with a window of WINDOW unsettled messages, and
# reports accepted/s, accept latency percentiles and delivered/s (into the transfer directory,
# encrypted when ENCRYPT=1). Stops the hub it started.
#
#   COUNT=20000 SIZE=8192 WINDOW=500 ENCRYPT=1 ./benchmarks/run_e2e.sh
#   RATE=2500 ...: open loop at that many applications per second (accept latency at a rate)
set -euo pipefail
cd "$(dirname "$0")/.."
COUNT=${COUNT:-20000}
SIZE=${SIZE:-8192}
WINDOW=${WINDOW:-500}
ENCRYPT=${ENCRYPT:-1}
BUILD=${OZGHUB_BUILD_DIR:-build}
WORK=$(mktemp -d "$PWD/$BUILD/bench.XXXXXX")
trap 'kill $HUB 2>/dev/null || true; wait $HUB 2>/dev/null || true; rm -rf "$WORK"' EXIT

# Möckern's office has a certificate (encrypted delivery); Burg goes to the Kreis without one.
if [ "$ENCRYPT" = 1 ]; then AREA=150860140140; SERVICE=99085001000000; else AREA=150860015015; SERVICE=99050012104000; fi

cat > "$WORK/ozg-hub.yaml" <<YAML
listen: "127.0.0.1:0"
amqp: { dev_mode: true }  # plaintext ANONYMOUS: a local benchmark
admin: { listen: "127.0.0.1:0" }
data_dir: $WORK/data
schemas:
  - namespace: "urn:ozg-hub:schema:antrag:1.0"
    xsd: $PWD/schemas/ozg-antrag/ozg-antrag-1.0.xsd
routing:
  directory: $PWD/config/routing.demo.yaml
delivery_threads: ${DELIVERY_THREADS:-16}
adapters:
  transfer:
    type: transfer_dir
    root: ${TRANSFER_ROOT:-$WORK/transfer}
    sync: ${SYNC:-file}
encryption:
  keks:
    bench: { type: file, path: $WORK/kek.key, create_if_missing: true }
YAML
"$BUILD/broker/ozg-hub" --config "$WORK/ozg-hub.yaml" 2>"$WORK/hub.log" &
HUB=$!
for _ in $(seq 1 100); do grep -q amqp.listening "$WORK/hub.log" 2>/dev/null && break; sleep 0.1; done
PORT=$(grep '"event":"amqp.listening"' "$WORK/hub.log" | grep -o '"address":"127.0.0.1:[0-9]*"' | head -1 |
  grep -o '[0-9]*"$' | tr -d '"')
[ -n "$PORT" ] || { echo "hub did not start"; cat "$WORK/hub.log"; exit 1; }
echo "ozg-hub pid $HUB on port $PORT; $COUNT x ${SIZE} B, window $WINDOW, encrypt=$ENCRYPT"
/usr/bin/time -f "loadgen: %e s wall, %U s user, %S s sys" \
  "$BUILD/benchmarks/ozg-hub-loadgen" --url "amqp://127.0.0.1:$PORT" --count "$COUNT" \
  --size "$SIZE" --window "$WINDOW" --area "$AREA" --service "$SERVICE" \
  --transfer-dir "${TRANSFER_ROOT:-$WORK/transfer}" ${RATE:+--rate "$RATE"}
read -r utime stime < <(awk '{print $14, $15}' /proc/$HUB/stat)
rss=$(awk '/VmHWM/ {print $2}' /proc/$HUB/status)
tck=$(getconf CLK_TCK)
echo "hub: cpu_seconds=$(( (utime + stime) / tck )) user_s=$(awk -v t=$utime -v k=$tck "BEGIN{printf \"%.1f\", t/k}") sys_s=$(awk -v t=$stime -v k=$tck "BEGIN{printf \"%.1f\", t/k}") peak_rss_kib=$rss"

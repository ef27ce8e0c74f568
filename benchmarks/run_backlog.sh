#!/usr/bin/env bash
# Memory with a large backlog: one adapter instance (http) whose peer accepts connections and
# never answers, so every delivery stalls and COUNT applications pile up in the outbox. Sends
# COUNT applications, reports the hub's RSS once all are accepted, then restarts the hub on the
# same data (startup recovery with the whole backlog owed) and reports its RSS again.
#
#   COUNT=200000 ./benchmarks/run_backlog.sh
#   COUNT=200000 DELIVERY_WINDOW=100000000 ./benchmarks/run_backlog.sh   # the whole backlog in memory
# Other knobs: WINDOW (AMQP, default 500), OZGHUB_BINARY (default build/broker/ozg-hub).
set -euo pipefail
cd "$(dirname "$0")/.."
COUNT=${COUNT:-200000}
WINDOW=${WINDOW:-500}
. benchmarks/bench_hub.sh
bench_init backlog-bench KILL

start_stalled_peer "$WORK"
PORT=$STALLED_PORT

WINDOW_LINE=""
[ -n "${DELIVERY_WINDOW:-}" ] && WINDOW_LINE="delivery_window: $DELIVERY_WINDOW"
write_bench_config "$WORK" "type: http
    concurrency: 16
    timeout_ms: 3600000" "url: \"http://127.0.0.1:$PORT/\"" "$WINDOW_LINE"
rss_mib() { awk -v k="$2" '$1 == k":" {printf "%.0f", $2 / 1024}' "/proc/$1/status"; }

echo "backlog of $COUNT on a stalled http peer; binary $BINARY ${WINDOW_LINE:-delivery_window: default}"
start_bench_hub "$BINARY" "$WORK"
"$BUILD/benchmarks/ozg-hub-loadgen" --url "amqp://$AMQP" --count "$COUNT" --size 0 \
  --window "$WINDOW" --area 150860015015 --service 99012009001000 \
  --template "$PWD/schemas/ozg-antrag/example-antrag.xml" | grep -E 'accepted' || true
sleep 2
echo "after accepting: rss $(rss_mib $HUB VmRSS) MiB, peak $(rss_mib $HUB VmHWM) MiB"
kill -KILL $HUB; wait $HUB 2>/dev/null || true  # its threads wait on the peer: no clean stop
T0=$(date +%s.%N)
start_bench_hub "$BINARY" "$WORK"
T1=$(date +%s.%N)
sleep 3
echo "restarted: $(grep -o '"recovered_deliveries":"[0-9]*"' "$WORK/hub.log") in" \
     "$(echo "$T1 - $T0" | bc -l | xargs printf %.1f) s; rss $(rss_mib $HUB VmRSS) MiB," \
     "peak $(rss_mib $HUB VmHWM) MiB"

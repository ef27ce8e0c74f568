#!/usr/bin/env bash
# Delivery rate of one adapter: starts a counting peer (benchmarks/sinks/rate_sink.py) and
# ozg-hub on 127.0.0.1, sends COUNT applications with the load generator, and waits until the
# hub's /metrics report COUNT deliveries on that adapter. Prints delivered/s (first submission
# to last delivery) and the CPU seconds of the hub and of the peer, which tell which side limits.
# Stops everything it started.
#
#   ADAPTER=http COUNT=10000 ./benchmarks/run_adapter_rate.sh            # XML as is
#   ADAPTER=http PROFILE=autista COUNT=10000 ./benchmarks/run_adapter_rate.sh   # XSLT + XSD check
#   ADAPTER=smtp MODE=notification COUNT=10000 ./benchmarks/run_adapter_rate.sh
#   ADAPTER=smtp MODE=smime COUNT=10000 ./benchmarks/run_adapter_rate.sh  # encrypted for the office
#   ADAPTER=transfer_dir COUNT=10000 ./benchmarks/run_adapter_rate.sh
#   ADAPTER=plugin COUNT=10000 ./benchmarks/run_adapter_rate.sh   # the xfall_container example,
#                                      built against the SDK installed into a temporary prefix
# Other knobs: CONCURRENCY (adapter instance, default 16), WINDOW (default 500), OZGHUB_BINARY
# (default build/broker/ozg-hub: e.g. an older build to compare with).
set -euo pipefail
cd "$(dirname "$0")/.."
ADAPTER=${ADAPTER:-http}
COUNT=${COUNT:-10000}
CONCURRENCY=${CONCURRENCY:-16}
WINDOW=${WINDOW:-500}
MODE=${MODE:-notification}
PROFILE=${PROFILE:-none}
. benchmarks/bench_hub.sh
bench_init adapter-bench

free_port() { $PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

AUTISTA=$PWD/adapters/http/profiles/autista-sample
TEMPLATE=$PWD/schemas/ozg-antrag/example-antrag.xml
CERT=""
PLUGINS=""
case "$ADAPTER" in
  http)
    PORT=$(free_port)
    $PY benchmarks/sinks/rate_sink.py http "$PORT" > "$WORK/sink.out" & PEER=$!
    INSTANCE="type: http"
    PARAMS="url: \"http://127.0.0.1:$PORT/\""
    if [ "$PROFILE" = autista ]; then
      PARAMS="$PARAMS, stylesheet: \"$AUTISTA/antrag-to-urkundenbestellung.xsl\", validate_output: \"$AUTISTA/urkundenbestellung-1.0.xsd\""
      TEMPLATE=$AUTISTA/sample-antrag-geburtsurkunde.xml
    fi ;;
  smtp)
    PORT=$(free_port)
    $PY benchmarks/sinks/rate_sink.py smtp "$PORT" > "$WORK/sink.out" & PEER=$!
    INSTANCE="type: smtp
    server: 127.0.0.1
    port: $PORT
    tls: none
    from: ozg-hub@bench.invalid"
    PARAMS="to: \"amt@bench.invalid\", mode: $MODE"
    [ "$MODE" = smime ] && CERT="certificate: $PWD/config/demo-certs/moeckern-buergeramt.pem" ;;
  transfer_dir)
    INSTANCE="type: transfer_dir
    root: $WORK/transfer"
    PARAMS="" ;;
  plugin)
    cmake -S . -B "$WORK/sdk-build" -DOZGHUB_SDK_ONLY=ON >/dev/null
    cmake --install "$WORK/sdk-build" --prefix "$WORK/sdk" >/dev/null
    cmake -S adapters/examples/xfall_container -B "$WORK/plugin" -DCMAKE_PREFIX_PATH="$WORK/sdk" \
      -DXFALL_BUILD_TESTS=OFF -DCMAKE_BUILD_TYPE=Release >/dev/null
    cmake --build "$WORK/plugin" >/dev/null
    PLUGINS="plugins: { directory: $WORK/plugin, load: [libozghub_xfall_container.so] }"
    INSTANCE="type: xfall_container
    root: $WORK/xfall"
    PARAMS="" ;;
  *) echo "ADAPTER must be http, smtp, transfer_dir or plugin" >&2; exit 2 ;;
esac
if [ -n "$PEER" ]; then
  for _ in $(seq 1 100); do grep -q "sink ready" "$WORK/sink.out" 2>/dev/null && break; sleep 0.1; done
fi

write_bench_config "$WORK" "$INSTANCE
    concurrency: $CONCURRENCY" "$PARAMS" "$PLUGINS" "$CERT"
start_bench_hub "$BINARY" "$WORK"
delivered() {
  $PY - "$ADMIN" <<'PY'
import sys, urllib.request
text = urllib.request.urlopen(f"http://{sys.argv[1]}/metrics", timeout=10).read().decode()
key = 'ozghub_deliveries_total{adapter="bench",outcome="delivered"} '
print(next((int(float(l[len(key):])) for l in text.splitlines() if l.startswith(key)), 0))
PY
}

echo "adapter=$ADAPTER mode=$MODE profile=$PROFILE count=$COUNT concurrency=$CONCURRENCY window=$WINDOW"
START=$(date +%s.%N)
"$BUILD/benchmarks/ozg-hub-loadgen" --url "amqp://$AMQP" --count "$COUNT" --size 0 \
  --window "$WINDOW" --area 150860015015 --service 99012009001000 --template "$TEMPLATE" \
  | grep -E 'accepted|latency' || true
for _ in $(seq 1 6000); do [ "$(delivered)" -ge "$COUNT" ] && break; sleep 0.1; done
END=$(date +%s.%N)
N=$(delivered)
HUB_CPU=$(cpu_seconds "$HUB"); PEER_CPU=$([ -n "$PEER" ] && cpu_seconds "$PEER" || echo "-")
echo "delivered $N of $COUNT in $(echo "$END - $START" | bc -l | xargs printf %.2f) s:" \
     "$(echo "$N / ($END - $START)" | bc -l | xargs printf %.0f) delivered/s"
echo "cpu seconds: hub $HUB_CPU, peer $PEER_CPU; retries $(grep -c case.delivery_retry "$WORK/hub.log" || true)," \
     "dead letters $(grep -c case.dead_lettered "$WORK/hub.log" || true)"

#!/usr/bin/env bash
# The demo: sets up and builds ozg-hub, starts it on its embedded defaults (listening on
# 0.0.0.0:5672, data in ./ozg-hub-data, the sample routing directory config/routing.demo.yaml),
# sends real applications with a real AMQP client, and shows where they landed.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh

DATA=ozg-hub-data
if [ -e "$DATA" ]; then
  rm -rf "$DATA.previous"
  mv "$DATA" "$DATA.previous"
  echo "demo: moved the previous demo's $DATA/ to $DATA.previous/"
fi
LOG=$(mktemp /tmp/ozg-hub-demo.XXXXXX.log)
CASES=$(mktemp /tmp/ozg-hub-demo-cases.XXXXXX)

./build/broker/ozg-hub 2>"$LOG" &
HUB=$!
trap 'kill $HUB 2>/dev/null || true; wait $HUB 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  grep -q '"amqp.listening"' "$LOG" && break
  if ! kill -0 $HUB 2>/dev/null; then cat "$LOG"; exit 1; fi
  sleep 0.1
done
grep -q '"amqp.listening"' "$LOG" || { echo "demo: the hub did not start"; cat "$LOG"; exit 1; }

echo
echo "== ozg-hub is running (log: $LOG). Sending applications as a portal would:"
OZGHUB_DEMO_CASES=$CASES /usr/bin/python3 scripts/demo_client.py --url amqp://127.0.0.1:5672

expected=$(grep -c . "$CASES" || true)
for _ in $(seq 1 100); do
  delivered=$(find "$DATA/transfer" -mindepth 2 -maxdepth 2 -type d ! -name '.*' 2>/dev/null | wc -l)
  [ "$delivered" -ge "$expected" ] && break
  sleep 0.1
done

echo
echo "== The transfer directory ($DATA/transfer), one folder per case:"
(cd "$DATA/transfer" && find . -type f | sort | while read -r f; do
  printf '  %-75s %8d bytes\n' "$f" "$(stat -c %s "$f")"; done)

first=$(find "$DATA/transfer/moeckern-buergeramt" -mindepth 1 -maxdepth 1 -type d ! -name '.*' | head -1)
echo
echo "== $first/manifest.json:"
sed 's/^/  /' "$first/manifest.json"
echo
echo "== The office decrypts application.xml.p7m with its key (openssl cms -decrypt):"
openssl cms -decrypt -inform DER -in "$first/application.xml.p7m" \
  -recip config/demo-certs/moeckern-buergeramt.pem \
  -inkey config/demo-certs/moeckern-buergeramt.key | head -15 | sed 's/^/  /'
echo "  ..."
echo
echo "== What the hub logged (JSON lines, no personal data):"
grep -E '"(hub.started|case.delivered|application.rejected|case.duplicate)"' "$LOG" | head -20 | sed 's/^/  /'
echo
echo "== Metrics from the admin endpoint (http://127.0.0.1:9650/metrics; deploy/grafana has a dashboard):"
/usr/bin/python3 -c 'import urllib.request; print(urllib.request.urlopen("http://127.0.0.1:9650/metrics", timeout=10).read().decode())' \
  | grep -E '^ozghub_(applications_(accepted|rejected)_total|deliveries_total|dead_letters|oldest_undelivered)' \
  | grep -v ' 0$' | sed 's/^/  /'
echo
echo "== The hub at a glance (build/ctl/ozg-hubctl status):"
./build/ctl/ozg-hubctl status | sed 's/^/  /'
echo
echo "== Why Möckern's passport applications go where they go (ozg-hubctl route):"
./build/ctl/ozg-hubctl route --area 150860140140 --service 99085001000000 | sed 's/^/  /'
echo
echo "== Dead letters (build/ctl/ozg-hubctl deadletters list):"
./build/ctl/ozg-hubctl deadletters list | sed 's/^/  /'
echo
echo "== The audit trail of $(basename "$first") (build/ctl/ozg-hubctl case ...; no personal data;"
echo "   the case itself is stored encrypted and deleted 7 days after delivery):"
./build/ctl/ozg-hubctl case "$(basename "$first")" | sed 's/^/  /'
echo
echo "demo: done. The hub is stopped; its data stays in $DATA/."

# Sourced by the benchmark scripts: their common setup, a hub configuration with one office
# whose one channel uses the adapter instance `bench`, and starting the hub on it. Expects
# PWD = the project root.

# bench_init NAME [SIGNAL]: sets BUILD, BINARY (OZGHUB_BINARY, to compare builds) and PY, makes
# the scratch folder WORK under the build tree, and on exit (also after Ctrl-C or a failure)
# calls the script's bench_on_exit function if it defines one (servers other than the hub),
# kills $HUB and $PEER with SIGNAL (default TERM; KILL for a hub whose threads wait on a stalled
# peer) and removes WORK.
bench_init() {
  BUILD=${OZGHUB_BUILD_DIR:-build}
  BINARY=${OZGHUB_BINARY:-$BUILD/broker/ozg-hub}
  PY=/usr/bin/python3
  WORK=$(mktemp -d "$PWD/$BUILD/$1.XXXXXX")
  HUB=""; PEER=""; BENCH_SIGNAL=${2:-TERM}
  trap 'trap "" INT TERM; if declare -F bench_on_exit >/dev/null; then bench_on_exit || true; fi; for p in $HUB $PEER; do kill -$BENCH_SIGNAL $p 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$WORK"' EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
}

# start_stalled_peer WORK: a listening socket on 127.0.0.1 that never accepts; connections
# complete into its backlog and requests are never answered (a delivery peer that stalls). Sets
# PEER (its pid) and STALLED_PORT.
start_stalled_peer() {
  local port_file=$1/peer.port
  $PY -c '
import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(1024)
open(sys.argv[1], "w").write(str(s.getsockname()[1]))
time.sleep(86400)' "$port_file" & PEER=$!
  for _ in $(seq 1 100); do [ -s "$port_file" ] && break; sleep 0.1; done
  STALLED_PORT=$(cat "$port_file")
}

# cpu_seconds PID: user plus system CPU time the process has used so far.
cpu_seconds() { awk -v t="$(getconf CLK_TCK)" '{printf "%.2f", ($14 + $15) / t}' "/proc/$1/stat"; }

# write_bench_config WORK INSTANCE PARAMS [TOP_LEVEL] [OFFICE_LINE]
#   INSTANCE: the keys of the `bench` instance, one per line, indented by 4 after the first
#   PARAMS: the channel's params (a flow mapping's inside); TOP_LEVEL: more top-level YAML
#   OFFICE_LINE: one more key of the office (e.g. its certificate)
write_bench_config() {
  local work=$1 instance=$2 params=$3 top_level=${4:-} office_line=${5:-}
  cat > "$work/routing.yaml" <<YAML
areas:
  gv100ad: $PWD/../shared/corpus/areas/GV100AD_301123.txt
offices:
  - id: bench-office
    name: "Benchmark office"
    ${office_line}
    channels:
      - adapter: bench
        params: { ${params} }
responsibilities:
  - { service: "*", area: "150860015015", office: bench-office }
YAML
  cat > "$work/ozg-hub.yaml" <<YAML
listen: "127.0.0.1:0"
amqp: { dev_mode: true }  # plaintext ANONYMOUS: a local benchmark
admin: { listen: "127.0.0.1:0" }
data_dir: $work/data
schemas:
  - namespace: "urn:ozg-hub:schema:antrag:1.0"
    xsd: $PWD/schemas/ozg-antrag/ozg-antrag-1.0.xsd
routing:
  directory: $work/routing.yaml
$top_level
adapters:
  bench:
    $instance
encryption:
  keks:
    bench: { type: file, path: $work/kek.key, create_if_missing: true }
YAML
}

# start_bench_hub BINARY WORK: starts the hub in the background; sets HUB (its pid), AMQP and
# ADMIN (host:port), or exits with its log when it does not come up.
start_bench_hub() {
  local binary=$1 work=$2
  : > "$work/hub.log"
  "$binary" --config "$work/ozg-hub.yaml" 2>"$work/hub.log" & HUB=$!
  for _ in $(seq 1 600); do
    grep -q amqp.listening "$work/hub.log" 2>/dev/null && break
    kill -0 "$HUB" 2>/dev/null || break  # it exited: its log says why
    sleep 0.1
  done
  AMQP=$(bench_hub_address "$work" amqp.listening || true)
  ADMIN=$(bench_hub_address "$work" admin.listening || true)
  [ -n "$AMQP" ] || { echo "hub did not start"; cat "$work/hub.log"; exit 1; }
}

bench_hub_address() {
  grep "\"event\":\"$2\"" "$1/hub.log" | grep -o '"address":"[0-9.:]*"' | cut -d'"' -f4
}

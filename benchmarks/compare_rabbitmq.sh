#!/usr/bin/env bash
# Side-by-side benchmark of ozg-hub against RabbitMQ (issue 6), one command. Installs Debian's
# rabbitmq-server when it is missing, then for each message size runs RUNS alternating rounds of
#   rabbitmq    RabbitMQ 3.10, AMQP 1.0 plugin: a durable queue, persistent messages, each
#               publish counted when RabbitMQ accepts it (after its fsync; no consumer)
#   hub-accept  ozg-hub: accepted = committed with fsync, validated and routed; the office's only
#               channel stalls (an http peer that never answers), so the hub does no delivery
#               work, like RabbitMQ's queue without a consumer
#   hub-e2e     ozg-hub end to end: delivered into the transfer directory, CMS-encrypted for the
#               office's certificate (delivered/s: first send to last case folder)
# each against a fresh server (new data directory) on 127.0.0.1, with the same load generator
# (build/benchmarks/ozg-hub-loadgen), the same messages and the same window of unsettled
# messages. Prints one `run` line per run and a table of medians with accept latency (p50/p99),
# server CPU seconds per 1,000 applications (utime+stime of the hub, or of RabbitMQ's beam.smp,
# from the first send to the last accept, or the last delivery for hub-e2e) and peak RSS
# (VmHWM), then the ratios ozg-hub/RabbitMQ. Stops every server it started, also on Ctrl-C.
#
# Then, per size, the latency phase (issue 6: p99 accept latency under 20 ms at half RabbitMQ's
# rate): RUNS alternating rounds of rabbitmq@half, hub-accept@half and hub-e2e@half, the same
# three servers driven open loop (loadgen --rate) at half the median RabbitMQ accepted/s of that
# size measured above, for LATENCY_SECONDS (default 6) at that rate, at least LATENCY_MIN_COUNT
# (default 1000) applications; the window still caps what is in flight. hub-e2e@half delivers
# while it accepts but the run ends at the last accept (no wait for the deliveries). Printed as
# its own table: rate, achieved accepted/s, p50/p99 and whether p99 < 20 ms. HALF_RATE=N sets
# the rate for every size, LATENCY=0 skips the phase, LATENCY_SIZES picks the sizes (default
# SIZES).
#
# Fairness on a noisy disk: before every measurement (server started, idle) the script runs
# `sync` and waits SETTLE_SECONDS (default 3), so the previous run's writeback does not land in
# the next one. Each run's data directory is set aside (renamed) and only deleted at the end:
# on an ext4 file system without a journal (this VM's root) the inode allocator skips every
# inode deleted in the last 30 s one by one, so a run right after deleting a run's 60,000 files
# spent most of its system CPU there (perf: recently_deleted, find_inode_bit). A full run sets
# aside a few GB.
#
#   ./benchmarks/compare_rabbitmq.sh                                  # all sizes, 10 to 15 min
#   RUNS=1 COUNT=2000 SIZES="8k" ./benchmarks/compare_rabbitmq.sh     # a quick look
#   HALF_RATE=4000 SIZES=8k ./benchmarks/compare_rabbitmq.sh          # latency at 4,000/s
#
# Sizes (SIZES, default "2k 8k 64k 8k+pdf"): 2k, 8k and 64k are the application XML alone, padded
# and still valid against the hub's schema (loadgen/payload.cpp); 8k+pdf is 8 KiB of XML plus one attachment, the corpus's
# largest PDF/A (779,029 bytes) padded deterministically to 1 MiB with PDF comment lines.
# Counts per run: COUNT (default 10000) for 2k and 8k, COUNT_64K (COUNT/4) for 64k, COUNT_PDF
# (COUNT/40) for 8k+pdf. Other knobs: WINDOW (unsettled messages, default 500), OZGHUB_BINARY
# (default build/broker/ozg-hub), OZGHUB_BUILD_DIR.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-3}
COUNT=${COUNT:-10000}
COUNT_64K=${COUNT_64K:-$((COUNT / 4))}
COUNT_PDF=${COUNT_PDF:-$((COUNT / 40 > 0 ? COUNT / 40 : 1))}
WINDOW=${WINDOW:-500}
SIZES=${SIZES:-"2k 8k 64k 8k+pdf"}
SETTLE_SECONDS=${SETTLE_SECONDS:-3}
LATENCY=${LATENCY:-1}
LATENCY_SIZES=${LATENCY_SIZES:-$SIZES}
LATENCY_SECONDS=${LATENCY_SECONDS:-6}
LATENCY_MIN_COUNT=${LATENCY_MIN_COUNT:-1000}
HALF_RATE=${HALF_RATE:-}
RATE=""   # the latency phase's rate; empty: full speed
PDF=${PDF:-$PWD/../shared/corpus/attachments/pdfa/2u/test_pdf_a2-u.pdf}
PDF_BYTES=1048576
AREA=150860015015     # Burg (bei Magdeburg): in the GV100AD, routed to the bench office
SERVICE=99050012104000
CERT=$PWD/config/demo-certs/moeckern-buergeramt.pem
TEMPLATE=$PWD/schemas/ozg-antrag/example-antrag.xml
RABBIT=scripts/rabbitmq-private.sh
. benchmarks/bench_hub.sh

# "One command": the RabbitMQ from Debian, as scripts/setup.sh installs it.
if [ ! -x /usr/lib/rabbitmq/bin/rabbitmq-server ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "compare_rabbitmq: rabbitmq-server is not installed and installing it needs root" \
      "(scripts/setup.sh or apt-get install rabbitmq-server)" >&2
    exit 1
  fi
  echo "compare_rabbitmq: installing rabbitmq-server" >&2
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends rabbitmq-server >/dev/null
  # The package may start the system's node; this benchmark runs its own.
  invoke-rc.d rabbitmq-server stop >/dev/null 2>&1 || true
fi

bench_init compare-bench KILL
LOADGEN=$BUILD/benchmarks/ozg-hub-loadgen
for f in "$BINARY" "$LOADGEN"; do
  [ -x "$f" ] || { echo "compare_rabbitmq: $f is not built (cmake --build $BUILD)" >&2; exit 1; }
done
RABBIT_DIR="" CHILD=""
bench_on_exit() {
  if [ -n "$CHILD" ]; then kill -TERM "$CHILD" 2>/dev/null || true; fi
  if [ -n "$RABBIT_DIR" ]; then $RABBIT stop "$RABBIT_DIR" || true; fi
}

# run_fg COMMAND...: runs it and waits for it. Through `wait` so that Ctrl-C stops the benchmark
# even while a command that handles SIGINT itself runs (rabbitmqctl: bash ignores a SIGINT its
# foreground child survived); bench_on_exit then ends the command.
run_fg() {
  local rc=0
  "$@" &
  CHILD=$!
  wait "$CHILD" || rc=$?
  CHILD=""
  return $rc
}

# size_args SIZE: sets N (applications per run) and SIZE_ARGS (the load generator's options).
size_args() {
  case $1 in
    2k) N=$COUNT SIZE_ARGS=(--size 2048) ;;
    8k) N=$COUNT SIZE_ARGS=(--size 8192) ;;
    64k) N=$COUNT_64K SIZE_ARGS=(--size 65536) ;;
    8k+pdf) N=$COUNT_PDF SIZE_ARGS=(--size 8192 --attachment "$PDF" --attachment-size $PDF_BYTES) ;;
    *) echo "compare_rabbitmq: unknown size $1 (2k, 8k, 64k, 8k+pdf)" >&2; exit 2 ;;
  esac
}

# settle: before a measurement, lets the disk catch up with earlier runs (their writeback, the
# deletion of their data) so that it does not land in this one.
settle() {
  sync
  sleep "$SETTLE_SECONDS"
}

# set_aside DIR: renames a finished run's directory out of the way; WORK (deleted on exit) holds
# them all until the end (see "Fairness" above).
SET_ASIDE=0
set_aside() {
  SET_ASIDE=$((SET_ASIDE + 1))
  mv "$1" "$WORK/done.$SET_ASIDE"
}

# measure SIZE SERVER ROUND PID LOADGEN_OPTIONS...: one run of the load generator against the
# server whose process is PID, full speed or, with RATE set, open loop at RATE/s; prints its `run`
# line and appends it to $WORK/runs.
measure() {
  local size=$1 server=$2 round=$3 pid=$4 out=$WORK/loadgen.out log=$WORK/latency.log cpu0 cpu1
  local rate_args=()
  shift 4
  [ -z "$RATE" ] || rate_args=(--rate "$RATE" --latency-log "$log")
  settle
  cpu0=$(cpu_seconds "$pid")
  if ! run_fg "$LOADGEN" --count "$N" --window "$WINDOW" --template "$TEMPLATE" --area $AREA \
    --service $SERVICE "${SIZE_ARGS[@]}" "${rate_args[@]}" "$@" > "$out" 2>&1; then
    echo "compare_rabbitmq: $server $size: the load generator did not finish:" >&2
    cat "$out" >&2
    [ ! -f "$WORK/hub/hub.log" ] || grep -m 3 application.rejected "$WORK/hub/hub.log" >&2 || true
    exit 1
  fi
  cpu1=$(cpu_seconds "$pid")
  field() { grep -o "\b$1=[0-9.]*" "$out" | head -1 | cut -d= -f2; }
  local line
  line="run size=$size server=$server round=$round count=$N"
  line+=" accepted_per_s=$(field accepted_per_s) delivered_per_s=$(field delivered_per_s || true)"
  line+=" p50_ms=$(field p50_ms) p99_ms=$(field p99_ms)"
  line+=" cpu_s_per_1000=$(echo "($cpu1 - $cpu0) * 1000 / $N" | bc -l | xargs printf %.3f)"
  line+=" peak_rss_mib=$(awk '$1 == "VmHWM:" {printf "%.0f", $2 / 1024}' "/proc/$pid/status")"
  # Open loop: how far the sends fell behind the schedule (the i-th send due i / RATE after the
  # first); large when the window was full, i.e. the server did not keep up.
  [ -z "$RATE" ] || line+=" rate=$RATE behind_ms=$(sort -n -k1,1 "$log" | awk -v r="$RATE" \
    'NR == 1 {t0 = $1} {d = $1 - t0 - (NR - 1) * 1000 / r; if (d > m) m = d}
     END {printf "%.1f", m}')"
  echo "$line" | tee -a "$WORK/runs"
}

# run_rabbitmq SIZE ROUND [SUFFIX]: SUFFIX (@half) is appended to the server's name
run_rabbitmq() {
  local size=$1 round=$2 suffix=${3:-} dir=$WORK/rabbitmq
  rm -rf "$dir" && mkdir -p "$dir"
  RABBIT_DIR=$dir
  run_fg $RABBIT start "$RABBIT_DIR" > /dev/null
  measure "$size" "rabbitmq$suffix" "$round" "$($RABBIT pid "$RABBIT_DIR")" \
    --url "amqp://127.0.0.1:$(cat "$RABBIT_DIR/amqp_port")" --address /queue/bench --durable 1
  run_fg $RABBIT stop "$RABBIT_DIR"
  RABBIT_DIR=""
  set_aside "$dir"
}

# run_hub SIZE ROUND accept|e2e [SUFFIX]: SUFFIX (@half) is appended to the server's name; such a
# run ends at the last accept, also for e2e (its deliveries are not waited for)
run_hub() {
  local size=$1 round=$2 mode=$3 suffix=${4:-} dir=$WORK/hub
  rm -rf "$dir" && mkdir -p "$dir"
  if [ "$mode" = accept ]; then
    start_stalled_peer "$dir"
    write_bench_config "$dir" "type: http
    concurrency: 1
    timeout_ms: 3600000" "url: \"http://127.0.0.1:$STALLED_PORT/\"" "" "certificate: $CERT"
  else
    write_bench_config "$dir" "type: transfer_dir
    root: $dir/transfer" "" "" "certificate: $CERT"
  fi
  start_bench_hub "$BINARY" "$dir"
  if [ "$mode" = accept ]; then
    measure "$size" "hub-accept$suffix" "$round" "$HUB" --url "amqp://$AMQP"
    # Its delivery thread waits on the stalled peer: no clean stop; the data is thrown away.
    kill -KILL "$HUB" "$PEER"
  elif [ -n "$suffix" ]; then
    measure "$size" "hub-e2e$suffix" "$round" "$HUB" --url "amqp://$AMQP"
    kill -KILL "$HUB"  # in the middle of its backlog of deliveries; the data is thrown away
  else
    measure "$size" hub-e2e "$round" "$HUB" --url "amqp://$AMQP" --transfer-dir "$dir/transfer"
    kill -TERM "$HUB"
  fi
  wait "$HUB" 2>/dev/null || true
  [ -z "$PEER" ] || wait "$PEER" 2>/dev/null || true
  HUB="" PEER=""
  set_aside "$dir"
}

# latency_phase SIZE: RUNS alternating rounds of the three servers, open loop at HALF_RATE or
# half the median RabbitMQ accepted/s of SIZE in $WORK/runs, with enough applications for
# LATENCY_SECONDS at that rate (at least LATENCY_MIN_COUNT).
latency_phase() {
  local size=$1 round
  RATE=${HALF_RATE:-$($PY benchmarks/compare_table.py --half-rate "$WORK/runs" "$size")}
  N=$(awk -v r="$RATE" -v s="$LATENCY_SECONDS" -v m="$LATENCY_MIN_COUNT" \
    'BEGIN {n = int(r * s + 0.5); print (n > m ? n : m)}')
  for round in $(seq 1 "$RUNS"); do
    run_rabbitmq "$size" "$round" @half
    run_hub "$size" "$round" accept @half
    run_hub "$size" "$round" e2e @half
  done
  RATE=""
}

echo "ozg-hub $(git rev-parse --short HEAD 2>/dev/null || echo '?') vs RabbitMQ" \
  "$(dpkg-query -W -f='${Version}' rabbitmq-server 2>/dev/null || echo '?');" \
  "$(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg); window $WINDOW," \
  "$RUNS run(s) each; counts: 2k/8k $COUNT, 64k $COUNT_64K, 8k+pdf $COUNT_PDF;" \
  "sync and ${SETTLE_SECONDS}s before each run"
: > "$WORK/runs"
for size in $SIZES; do
  size_args "$size"
  for round in $(seq 1 "$RUNS"); do
    run_rabbitmq "$size" "$round"
    run_hub "$size" "$round" accept
    run_hub "$size" "$round" e2e
  done
  if [ "$LATENCY" != 0 ] && [[ " $LATENCY_SIZES " == *" $size "* ]]; then
    latency_phase "$size"
  fi
done
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
$PY benchmarks/compare_table.py "$WORK/runs"

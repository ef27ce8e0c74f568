#!/usr/bin/env bash
# A private RabbitMQ node (Debian's rabbitmq-server, 3.10) for benchmarks and tests: everything it
# writes lives under DIR, it listens on 127.0.0.1 only (AMQP 0-9-1 and 1.0 on one free port, its
# own epmd and distribution port), and it never touches /etc/rabbitmq or /var/lib/rabbitmq. No
# systemd needed.
#
#   scripts/rabbitmq-private.sh start DIR   starts it, waits until it serves, prints its AMQP
#                                           port; DIR/amqp_port holds it too
#   scripts/rabbitmq-private.sh ctl DIR ... runs rabbitmqctl against it (e.g. list_queues)
#   scripts/rabbitmq-private.sh pid DIR     prints the pid of its Erlang VM (beam.smp)
#   scripts/rabbitmq-private.sh stop DIR    stops it and its epmd; DIR stays
#
# The AMQP 1.0 plugin is enabled; clients log in as ANONYMOUS, which the plugin maps to `guest`
# (allowed because the node accepts loopback connections only). A sender whose target terminus
# asks for durability (Terminus.DELIVERIES) on address /queue/NAME declares NAME durable.
set -euo pipefail
cmd=${1:?usage: rabbitmq-private.sh start|ctl|pid|stop DIR}
dir=${2:?usage: rabbitmq-private.sh start|ctl|pid|stop DIR}
shift 2
dir=$(cd "$dir" && pwd)
bin=/usr/lib/rabbitmq/bin
[ -x "$bin/rabbitmq-server" ] || {
  echo "rabbitmq-private: rabbitmq-server is not installed (apt-get install rabbitmq-server)" >&2
  exit 1
}

free_port() {
  /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# The node's environment, written once by `start` and read by every other command.
node_env() {
  export HOME=$dir  # the Erlang cookie lives in $HOME
  export RABBITMQ_CONF_ENV_FILE=$dir/rabbitmq-env.conf
  export RABBITMQ_CONFIG_FILE=$dir/rabbitmq  # .conf is appended
  export RABBITMQ_ENABLED_PLUGINS_FILE=$dir/enabled_plugins
  export RABBITMQ_MNESIA_BASE=$dir/mnesia RABBITMQ_LOG_BASE=$dir/log
  export RABBITMQ_PID_FILE=$dir/rabbitmq.pid
  export RABBITMQ_NODENAME RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 RABBITMQ_NODE_PORT RABBITMQ_DIST_PORT
  export ERL_EPMD_ADDRESS=127.0.0.1 ERL_EPMD_PORT
  export RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
  RABBITMQ_NODENAME=$(cat "$dir/nodename")
  RABBITMQ_NODE_PORT=$(cat "$dir/amqp_port")
  RABBITMQ_DIST_PORT=$(cat "$dir/dist_port")
  ERL_EPMD_PORT=$(cat "$dir/epmd_port")
}

case $cmd in
  start)
    mkdir -p "$dir/log" "$dir/mnesia"
    echo "ozgbench$$@localhost" > "$dir/nodename"
    free_port > "$dir/amqp_port"
    free_port > "$dir/dist_port"
    free_port > "$dir/epmd_port"
    : > "$dir/rabbitmq-env.conf"
    echo '[rabbitmq_amqp1_0].' > "$dir/enabled_plugins"
    cat > "$dir/rabbitmq.conf" <<CONF
listeners.tcp.1 = 127.0.0.1:$(cat "$dir/amqp_port")
loopback_users.guest = true
amqp1_0.default_user = guest
log.file.level = warning
CONF
    head -c 20 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$dir/.erlang.cookie"
    chmod 0400 "$dir/.erlang.cookie"
    node_env
    "$bin/rabbitmq-server" > "$dir/log/server.out" 2>&1 &
    echo $! > "$dir/server.pid"
    if ! "$bin/rabbitmqctl" -n "$RABBITMQ_NODENAME" -q --timeout 120 wait "$RABBITMQ_PID_FILE" > "$dir/log/await.out" 2>&1; then
      echo "rabbitmq-private: the node did not start; its log:" >&2
      tail -40 "$dir/log/server.out" >&2
      exit 1
    fi
    cat "$dir/amqp_port"
    ;;
  ctl)
    node_env
    exec "$bin/rabbitmqctl" -n "$RABBITMQ_NODENAME" "$@"
    ;;
  pid)
    node_env
    cat "$RABBITMQ_PID_FILE"
    ;;
  stop)
    [ -f "$dir/nodename" ] || exit 0
    node_env
    "$bin/rabbitmqctl" -n "$RABBITMQ_NODENAME" -q stop "$RABBITMQ_PID_FILE" > /dev/null 2>&1 ||
      { [ -f "$dir/server.pid" ] && pkill -KILL -P "$(cat "$dir/server.pid")" 2>/dev/null || true; }
    epmd -port "$ERL_EPMD_PORT" -kill > /dev/null 2>&1 || true
    rm -f "$dir/nodename"
    ;;
  *)
    echo "rabbitmq-private: unknown command $cmd" >&2
    exit 2
    ;;
esac

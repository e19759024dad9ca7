#!/usr/bin/env bash
# A real OrleansLora cluster on one machine: redis-server plus N worker silo processes (and one
# gateway-only silo with --gateway), all on 127.0.0.1, clustered through Redis.
#
#   deploy/local-cluster.sh start [N] [--gateway]   start redis and N workers (default 2)
#   deploy/local-cluster.sh status                  what runs, with ports
#   deploy/local-cluster.sh stop                    stop the silos gracefully (SIGTERM), then redis
#
# Silo i listens on silo port 11110+i, Orleans gateway 30000+i and HTTP 8080+i; the gateway-only
# silo takes i = 0. Redis on REDIS_PORT (default 6380), with its append-only file in
# artifacts/local-cluster/ so a Redis restart keeps membership and grain state (REDIS_PERSIST=no runs
# it without persistence; the silos then restore the membership table from their own view and write
# back the grain state they hold, see docs/CLUSTER.md). Logs and pids in artifacts/local-cluster/.
# Clients: services.AddOrleansLoraClient(o => o.RedisConnectionString = "127.0.0.1:6380").
set -euo pipefail
cd "$(dirname "$0")/.."

run_dir=artifacts/local-cluster
data_dir=${OLORA_DATA:-$run_dir/data}
redis_port=${REDIS_PORT:-6380}
redis_persist=${REDIS_PERSIST:-yes}
cluster_id=${OLORA_CLUSTER_ID:-local}
server=src/OrleansLora.Server/bin/Release/net10.0/olora-server.dll

wait_http() { # url seconds
  for _ in $(seq 1 $(( $2 * 5 ))); do
    curl -fs "$1" >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  echo "timed out waiting for $1" >&2
  return 1
}

start_silo() { # index role
  local i=$1 role=$2
  dotnet "$server" --role "$role" --clustering Redis --redis "127.0.0.1:$redis_port" --cluster-id "$cluster_id" \
    --silo-port $((11110 + i)) --gateway-port $((30000 + i)) --urls "http://127.0.0.1:$((8080 + i))" \
    --data "$data_dir" >"$run_dir/silo-$i.log" 2>&1 &
  echo $! >"$run_dir/silo-$i.pid"
  echo "silo $i ($role): pid $!, http://127.0.0.1:$((8080 + i)), gateway port $((30000 + i)), log $run_dir/silo-$i.log"
}

start() {
  local n=${1:-2} gateway=${2:-}
  mkdir -p "$run_dir" "$data_dir"
  command -v redis-server >/dev/null || { echo "redis-server is missing: apt-get install redis-server" >&2; exit 1; }
  [ -f "$server" ] || dotnet build src/OrleansLora.Server -c Release -v q
  if [ ! -f "$run_dir/redis.pid" ] || ! kill -0 "$(cat "$run_dir/redis.pid")" 2>/dev/null; then
    [ "$redis_persist" = "no" ] && appendonly=no || appendonly=yes
    redis-server --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly "$appendonly" --appendfsync everysec \
      --dir "$PWD/$run_dir" --appendfilename "redis-$redis_port.aof" --daemonize yes \
      --pidfile "$PWD/$run_dir/redis.pid" --logfile "$PWD/$run_dir/redis.log"
    for _ in $(seq 1 50); do [ -f "$run_dir/redis.pid" ] && break; sleep 0.1; done
    echo "redis: 127.0.0.1:$redis_port (pid $(cat "$run_dir/redis.pid"), appendonly $appendonly)"
  fi
  # The first worker writes the embedded model and demo adapters into the shared data directory;
  # the others start once it is healthy, so nobody writes the same files at once.
  start_silo 1 worker
  wait_http "http://127.0.0.1:8081/health" 120
  for i in $(seq 2 "$n"); do start_silo "$i" worker; done
  [ "$gateway" = "--gateway" ] && start_silo 0 gateway
  for i in $(seq 2 "$n"); do wait_http "http://127.0.0.1:$((8080 + i))/health" 120; done
  [ "$gateway" = "--gateway" ] && wait_http "http://127.0.0.1:8080/health" 120
  echo "cluster '$cluster_id' is up"
}

stop() {
  for pidfile in "$run_dir"/silo-*.pid; do
    [ -f "$pidfile" ] || continue
    pid=$(cat "$pidfile")
    if kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid"
      for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
      echo "stopped $(basename "$pidfile" .pid) (pid $pid)"
    fi
    rm -f "$pidfile"
  done
  if [ -f "$run_dir/redis.pid" ]; then
    kill -TERM "$(cat "$run_dir/redis.pid")" 2>/dev/null || true
    rm -f "$run_dir/redis.pid"
    echo "stopped redis"
  fi
}

status() {
  for pidfile in "$run_dir"/*.pid; do
    [ -f "$pidfile" ] || continue
    pid=$(cat "$pidfile")
    if kill -0 "$pid" 2>/dev/null; then state=running; else state=dead; fi
    echo "$(basename "$pidfile" .pid): pid $pid $state"
  done
}

case "${1:-}" in
  start) shift; start "$@" ;;
  stop) stop ;;
  status) status ;;
  *) sed -n '2,14p' "$0"; exit 2 ;;
esac

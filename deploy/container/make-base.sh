#!/usr/bin/env bash
# Makes a minimal base image for the prebuilt server: the host's glibc, libstdc++ and libgcc_s (all a
# self-contained `dotnet publish` with libtorch links against, per ldd), zlib and OpenSSL (loaded by .NET), /etc/passwd with user 10001, /tmp,
# and empty /models, /adapters, /data owned by 10001 (volumes start with the image's ownership).
# For a framework-dependent publish (the CI's, which reuses the solution build) also the host's .NET runtime.
# Seconds instead of debootstrap's minutes; cached as a tarball keyed by date and the library list.
#   deploy/container/make-base.sh PUBLISH_DIR   -> prints the image name (localhost/olora-base:KEY)
set -euo pipefail
publish=${1:?usage: make-base.sh PUBLISH_DIR}
cd "$(dirname "$0")/../.."
cache=artifacts/deploy/rootfs
mkdir -p "$cache"

# A framework-dependent publish (no libcoreclr.so of its own) gets the host's .NET runtime under /usr/share/dotnet.
dotnet_root=""
if [ ! -f "$publish/libcoreclr.so" ]; then
  dotnet_root=$(dirname "$(readlink -f "$(command -v dotnet)")")
fi
natives=$(find "$publish" ${dotnet_root:+"$dotnet_root/shared" "$dotnet_root/host"} -name '*.so*' -path '*linux-x64*' -o -name '*.so*' ! -path '*/runtimes/*' | sort)
# Extra programs (OLORA_BASE_EXTRA, space-separated paths), copied to the same path with their libraries:
# the CI adds redis-server, so the compose test's Redis runs from this image too (no registry here).
extra=${OLORA_BASE_EXTRA:-}
libs=$( { for f in $natives "$publish"/olora-server $extra; do ldd "$f" 2>/dev/null || true; done; } \
  | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\/lib.*ld-linux/ {print $1}' | grep -v "^$(readlink -f "$publish")" | sort -u)
# .NET opens these itself (dlopen, not in ldd): zlib, and OpenSSL for hashing and TLS.
for so in libz.so.1 libssl.so.3 libcrypto.so.3; do
  libs="$libs
$(ldconfig -p | awk -v so="$so" '$1 == so && /x86-64/ && !found {print $NF; found = 1}')"
done
runtime_versions=""
[ -z "$dotnet_root" ] || runtime_versions=$(ls "$dotnet_root/shared/Microsoft.NETCore.App" "$dotnet_root/shared/Microsoft.AspNetCore.App")
key="$(date -u +%Y%m%d)-$(echo "$libs $dotnet_root $runtime_versions $extra" | sha256sum | cut -c1-12)"
image="localhost/olora-base:$key"
if podman image exists "$image"; then echo "$image"; exit 0; fi
tarball="$cache/base-$key.tar"
if [ ! -f "$tarball" ]; then
  root=$(mktemp -d)
  trap 'rm -rf "$root"' EXIT
  mkdir -p "$root/etc" "$root/tmp" "$root/models" "$root/adapters" "$root/data" "$root/lib64"
  chmod 1777 "$root/tmp"
  while read -r lib; do
    [ -n "$lib" ] || continue
    mkdir -p "$root$(dirname "$lib")"
    cp -L "$lib" "$root$lib"
  done <<<"$libs"
  cp -L /lib64/ld-linux-x86-64.so.2 "$root/lib64/"
  for f in $extra; do
    mkdir -p "$root$(dirname "$f")"
    cp -L "$f" "$root$f"
  done
  printf 'root:x:0:0:root:/root:/sbin/nologin\nolora:x:10001:10001:olora:/data:/sbin/nologin\n' >"$root/etc/passwd"
  printf 'root:x:0:\nolora:x:10001:\n' >"$root/etc/group"
  chown 10001:10001 "$root/models" "$root/adapters" "$root/data"
  if [ -n "$dotnet_root" ]; then
    mkdir -p "$root/usr/share/dotnet/shared"
    cp -a "$dotnet_root/dotnet" "$dotnet_root/host" "$root/usr/share/dotnet/"
    cp -a "$dotnet_root/shared/Microsoft.NETCore.App" "$dotnet_root/shared/Microsoft.AspNetCore.App" "$root/usr/share/dotnet/shared/"
  fi
  tar -C "$root" -cf "$tarball.tmp" . && mv "$tarball.tmp" "$tarball"
  find "$cache" -name 'base-*.tar' ! -name "base-$key.tar" -delete   # yesterday's
fi
podman import -q --change "ENV DOTNET_ROOT=/usr/share/dotnet" --change "ENV PATH=/usr/local/bin:/usr/bin:/bin" "$tarball" "$image" >/dev/null
echo "$image"

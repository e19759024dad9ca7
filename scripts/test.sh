#!/usr/bin/env bash
# Runs every test: the native-kernels GoogleTest suite (ctest) and the .NET test projects.
# Installs what the tests need when it is missing (needs root or sudo for apt on a fresh machine).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/ensure-deps.sh

configuration=${CONFIGURATION:-Release}
log_dir=artifacts/test-logs
mkdir -p "$log_dir"

echo "== native-kernels: cmake + ctest"
cmake -S native-kernels -B artifacts/native-tests -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build artifacts/native-tests -j 2 >/dev/null
set +e
ctest --test-dir artifacts/native-tests --output-on-failure 2>&1 | tee "$log_dir/ctest.log"
ctest_rc=${PIPESTATUS[0]}
set -e

echo "== dotnet build + test ($configuration)"
dotnet build OrleansLora.sln -c "$configuration" -warnaserror 2>&1 | tail -n 3
set +e
dotnet test OrleansLora.sln -c "$configuration" --no-build --blame-hang-timeout 10m 2>&1 | tee "$log_dir/dotnet-test.log"
dotnet_rc=${PIPESTATUS[0]}
set -e

# One closing line in the form CI reads: 'N passed, N failed'.
native_total=$(grep -Eo 'tests passed, [0-9]+ tests failed out of [0-9]+' "$log_dir/ctest.log" | grep -Eo '[0-9]+$' || echo 0)
native_failed=$(grep -Eo '[0-9]+ tests failed out of' "$log_dir/ctest.log" | grep -Eo '^[0-9]+' || echo 0)
sum() { grep -Eo "$1: +[0-9]+" "$log_dir/dotnet-test.log" | grep -Eo '[0-9]+' | awk '{s+=$1} END {print s+0}'; }
dotnet_passed=$(sum Passed)
dotnet_failed=$(sum Failed)
passed=$(( native_total - native_failed + ${dotnet_passed:-0} ))
failed=$(( native_failed + ${dotnet_failed:-0} ))
echo "tests: $passed passed, $failed failed"
if [ "$ctest_rc" -ne 0 ] || [ "$dotnet_rc" -ne 0 ] || [ "$failed" -ne 0 ]; then
  exit 1
fi

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
# nvcc named explicitly: a build directory configured before the toolkit was installed has it cached as
# NOTFOUND and would otherwise never compile the CUDA targets.
cuda_flag=()
command -v nvcc >/dev/null && cuda_flag=(-DCMAKE_CUDA_COMPILER="$(command -v nvcc)")
cmake -S native-kernels -B artifacts/native-tests -DCMAKE_BUILD_TYPE=Release "${cuda_flag[@]}" >/dev/null
cmake --build artifacts/native-tests -j 2 >/dev/null
set +e
ctest --test-dir artifacts/native-tests --output-on-failure 2>&1 | tee "$log_dir/ctest.log"
ctest_rc=${PIPESTATUS[0]}
set -e

# CUDA: the native build above compiles every CUDA target when nvcc exists (ensure-deps installs it);
# a compile error fails it. Running them needs a GPU: scripts/gpu-check.sh on a GPU machine.
if [ -f artifacts/native-tests/libolora_cuda.so ]; then
  if command -v nvidia-smi >/dev/null && nvidia-smi -L >/dev/null 2>&1; then
    cuda_summary="CUDA: compiled; a GPU is present: run scripts/gpu-check.sh OUT_DIR to run the CUDA checks"
  else
    cuda_summary="CUDA: compiled, not run (no GPU)"
  fi
  # The C# CUDA runner tests load this build (no GPU: they check the no-device errors through it).
  export OLORA_CUDA_LIBRARY="$PWD/artifacts/native-tests/libolora_cuda.so"
else
  cuda_summary="CUDA: not compiled (nvcc not found)"
fi
echo "$cuda_summary"

echo "== dotnet build + test ($configuration)"
dotnet build OrleansLora.sln -c "$configuration" -warnaserror 2>&1 | tail -n 3
set +e
dotnet test OrleansLora.sln -c "$configuration" --no-build --blame-hang-timeout 10m 2>&1 | tee "$log_dir/dotnet-test.log"
dotnet_rc=${PIPESTATUS[0]}
set -e

# Deployment: the compose stack from the image, and three network-namespace hosts with a partition and a kill
# (docs/DEPLOY.md). Each script is one test; both need root (podman, network namespaces).
echo "== deployment: compose test, multi-host test"
sudo_cmd=""
[ "$(id -u)" -eq 0 ] || sudo_cmd="sudo -E"
deploy_started=$(date +%s)
deploy_passed=0
deploy_failed=0
set +e
for t in compose-test multihost-test; do
  $sudo_cmd scripts/deploy/$t.sh 2>&1 | tee "$log_dir/$t.log"
  if [ "${PIPESTATUS[0]}" -eq 0 ]; then deploy_passed=$((deploy_passed + 1)); else deploy_failed=$((deploy_failed + 1)); fi
done
set -e
echo "deployment tests: $deploy_passed passed, $deploy_failed failed in $(( $(date +%s) - deploy_started )) s"

# One closing line in the form CI reads: 'N passed, N failed'.
native_total=$(grep -Eo 'tests passed, [0-9]+ tests failed out of [0-9]+' "$log_dir/ctest.log" | grep -Eo '[0-9]+$' || echo 0)
native_failed=$(grep -Eo '[0-9]+ tests failed out of' "$log_dir/ctest.log" | grep -Eo '^[0-9]+' || echo 0)
sum() { grep -Eo "$1: +[0-9]+" "$log_dir/dotnet-test.log" | grep -Eo '[0-9]+' | awk '{s+=$1} END {print s+0}'; }
dotnet_passed=$(sum Passed)
dotnet_failed=$(sum Failed)
passed=$(( native_total - native_failed + ${dotnet_passed:-0} + deploy_passed ))
failed=$(( native_failed + ${dotnet_failed:-0} + deploy_failed ))
echo "$cuda_summary"
echo "tests: $passed passed, $failed failed"
if [ "$ctest_rc" -ne 0 ] || [ "$dotnet_rc" -ne 0 ] || [ "$failed" -ne 0 ]; then
  exit 1
fi

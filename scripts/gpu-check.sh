#!/usr/bin/env bash
# The CUDA backend's checks on a machine WITH an NVIDIA GPU (issue 14): builds the CUDA library there, runs
# every CUDA kernel against the CPU kernel of its contract (outputs poisoned first), the end-to-end check and a
# benchmark, prints one line per check and writes OUT_DIR/gpu-check.json. Needs nvcc, cmake, a C++ compiler and
# python3 (the end-to-end part also torch, transformers, peft, safetensors, numpy); no .NET, no internet.
# Last line: "gpu-check: N passed, M failed". Bounded by OLORA_GPU_CHECK_SECONDS (default 480), build included.
#
#   scripts/gpu-check.sh OUT_DIR             the checks (a GPU is required)
#   scripts/gpu-check.sh OUT_DIR --dry-run   what runs without a GPU: the script's own parsing, the C ABI's
#                                            no-device answer through ctypes, the build when nvcc exists
#
# STATUS: ran on an H200 (CUDA 13.0), 2026-12-04: 112 passed, 0 failed; results and caveats in docs/GPU.md.
# cuda_model_check runs the whole-model forward on cuda:0 against a float64 reference (CI runs it on the host
# emulation context).
set -uo pipefail
export PYTHONUNBUFFERED=1 PYTHONFAULTHANDLER=1  # a crash in native code still names the Python line
cd "$(dirname "$0")/.."

out=${1:?usage: scripts/gpu-check.sh OUT_DIR [--dry-run]}
dry_run=0
[ "${2:-}" = "--dry-run" ] && dry_run=1
mkdir -p "$out"
out=$(cd "$out" && pwd)
build=${OLORA_GPU_CHECK_BUILD:-artifacts/gpu-check-build}
start=$(date +%s)
status_lines=()
# The whole check's budget in seconds (build included); each step's timeout is capped by what is left of it.
deadline=$(( start + ${OLORA_GPU_CHECK_SECONDS:-480} ))
left() {  # CAP -> min(CAP, seconds left), at least 5
  local rest=$(( deadline - $(date +%s) ))
  [ "$rest" -lt 5 ] && rest=5
  echo $(( rest < $1 ? rest : $1 ))
}

# A check step: its output to the console and LOG. A step killed at its time limit or by a signal (a crash)
# prints no FAIL line of its own, so one is added here: "0 failed" must never hide a step that did not finish.
run_step() {  # NAME LOG SECONDS COMMAND...
  local name=$1 log=$2 seconds=$3
  shift 3
  timeout "$seconds" "$@" | tee "$log"
  local rc=${PIPESTATUS[0]}
  if [ "$rc" -eq 124 ]; then
    line FAIL "$name: stopped at its time limit (${seconds} s)"
  elif [ "$rc" -gt 128 ]; then
    line FAIL "$name: killed by signal $((rc - 128))"
  fi
}

line() {  # PASS|FAIL name detail
  printf '%s %s\n' "$1" "$2${3:+  $3}"
  status_lines+=("$1 $2")
}

# Compile for this GPU only (fast); without one, for the CI pair.
arch="80;90"
if command -v nvidia-smi >/dev/null && cap=$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader 2>/dev/null | head -n 1) && [ -n "$cap" ]; then
  arch=${cap//./}
fi

if command -v nvcc >/dev/null || [ -x /usr/local/cuda/bin/nvcc ]; then
  export PATH="$PATH:/usr/local/cuda/bin"
  echo "== build (sm $arch, $(nvcc --version | grep -o 'release [0-9.]*'))"
  # What the results were measured on, kept with them.
  { nvcc --version; command -v nvidia-smi >/dev/null && nvidia-smi; } >"$out/machine.txt" 2>&1
  if cmake -S native-kernels -B "$build" -DCMAKE_BUILD_TYPE=Release -DCMAKE_CUDA_ARCHITECTURES="$arch" \
       -DOLORA_BUILD_TESTS=OFF -DOLORA_BUILD_BENCHMARKS=OFF >"$out/build.log" 2>&1 &&
     timeout "$(left 300)" cmake --build "$build" -j "$(nproc)" --target olora_kernels olora_cuda cuda_check cuda_runner_check cuda_model_check >>"$out/build.log" 2>&1; then
    line PASS "build libolora_cuda.so, cuda_check, cuda_runner_check, cuda_model_check (sm $arch)"
  else
    line FAIL "build (see $out/build.log)" "$(grep -m 3 -E 'error' "$out/build.log" | tr '\n' ' ')"
    tail -n 40 "$out/build.log"
  fi
else
  line FAIL "build: nvcc not found"
fi

if [ "$dry_run" -eq 0 ]; then
  # Correctness first, benchmarks last, each step capped by what is left of the whole budget: a short lease
  # still gets every check, and the benchmarks take what remains.
  if [ -x "$build/cuda_check" ]; then
    echo "== float32 kernels vs CPU (cuda_check)"
    run_step cuda_check "$out/cuda_check.log" "$(left 60)" "$build/cuda_check"
    echo "== runner kernels vs CPU (cuda_runner_check)"
    run_step cuda_runner_check "$out/runner_check.log" "$(left 120)" "$build/cuda_runner_check"
  fi
  if [ -x "$build/cuda_model_check" ]; then
    echo "== whole-model forward on cuda:0 vs a float64 reference (cuda_model_check --device 0)"
    run_step cuda_model_check "$out/model_check.log" "$(left 120)" "$build/cuda_model_check" --device 0
  fi
  echo "== end to end (Python ctypes vs transformers + PEFT), then the Mistral-7B-shaped benchmark"
  e2e_cap=$(left 300)
  run_step e2e "$out/e2e.log" "$e2e_cap" python3 scripts/gpu_check.py e2e --library "$build/libolora_cuda.so" \
    --out "$out" --budget $(( e2e_cap > 60 ? e2e_cap - 45 : 15 ))
  if [ -x "$build/cuda_runner_check" ]; then
    echo "== kernel benchmarks (cuda_runner_check --bench-only)"
    timeout "$(left 60)" "$build/cuda_runner_check" --bench-only | tee "$out/runner_bench.log"
  fi
else
  echo "== dry run: parsing self-test and the C ABI through ctypes without a GPU"
  python3 scripts/gpu_check.py self-test --library "$build/libolora_cuda.so" | tee "$out/self-test.log"
fi

printf '%s\n' "${status_lines[@]}" >"$out/script.log"
python3 scripts/gpu_check.py summarize --out "$out" --seconds $(( $(date +%s) - start )) --arch "$arch" \
  "$out/script.log" "$out"/cuda_check.log "$out"/runner_check.log "$out"/runner_bench.log "$out"/model_check.log "$out"/e2e.log "$out"/self-test.log

#!/usr/bin/env python3
"""Python side of scripts/gpu-check.sh (standard library only, except the end-to-end check).

  gpu_check.py summarize --out DIR [--seconds S] [--arch A] LOG...   PASS/FAIL/BENCH lines of the logs ->
                                                                     DIR/gpu-check.json and the last line
  gpu_check.py e2e --library SO --out DIR                            end to end through the C ABI (ctypes)
  gpu_check.py self-test [--library SO]                              runs without a GPU: the parser, and the C
                                                                     ABI's argument checks / no-device answer

Ran on an H200, 2026-12-04 (docs/GPU.md). The end-to-end check (gpu_e2e.py) drives the whole-model forward (olora_cuda_model_*) from
ctypes against transformers + PEFT, and benchmarks a Mistral-7B-shaped model.
"""
import argparse
import ctypes
import json
import os
import re
import sys
import time

STATUS = re.compile(r"^(?:(PASS|FAIL)\s+(.*?)|(.*?)\s+(PASS|FAIL)\b(.*))$")
BENCH = re.compile(r"^BENCH\s+(\S+)\s+(.*)$")
E2E_NEEDS = ("torch", "transformers", "peft", "safetensors", "numpy")


def parse(lines):
    """PASS/FAIL lines (either 'PASS name ...' or cuda_check's 'name PASS ...') and BENCH lines."""
    checks, bench = [], []
    for raw in lines:
        text = raw.rstrip("\n")
        m = BENCH.match(text)
        if m:
            bench.append({"name": m.group(1), "value": m.group(2)})
            continue
        m = STATUS.match(text)
        if not m:
            continue
        if m.group(1):
            checks.append({"status": m.group(1), "name": m.group(2).strip()})
        else:
            checks.append({"status": m.group(4), "name": m.group(3).strip(), "detail": m.group(5).strip()})
    return checks, bench


def summarize(args):
    checks, bench = [], []
    for path in args.logs:
        if os.path.isfile(path):
            with open(path, encoding="utf-8", errors="replace") as f:
                c, b = parse(f)
            for item in c + b:
                item["log"] = os.path.basename(path)
            checks += c
            bench += b
    passed = sum(1 for c in checks if c["status"] == "PASS")
    failed = len(checks) - passed
    if not checks:
        failed = 1  # nothing ran is a failure, never "0 failed"
    result = {"date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "seconds": args.seconds,
              "arch": args.arch, "passed": passed, "failed": failed, "checks": checks, "bench": bench}
    with open(os.path.join(args.out, "gpu-check.json"), "w", encoding="utf-8") as f:
        json.dump(result, f, indent=1)
    print(f"gpu-check: {passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


def load(library):
    lib = ctypes.CDLL(library)
    i32, i64, p = ctypes.c_int32, ctypes.c_int64, ctypes.c_void_p
    lib.olora_cuda_abi_version.restype = i32
    lib.olora_cuda_last_error.argtypes = [ctypes.c_char_p, i32]
    lib.olora_cuda_device_count.argtypes = [ctypes.POINTER(i32)]
    lib.olora_cuda_device_info.argtypes = [i32, ctypes.c_char_p, i32, ctypes.POINTER(i32), ctypes.POINTER(i32),
                                           ctypes.POINTER(i64), ctypes.POINTER(i64)]
    lib.olora_cuda_alloc.argtypes = [p, i64, ctypes.POINTER(p)]
    lib.olora_cuda_add_rmsnorm.argtypes = [p, p, p, p, i32, i32, ctypes.c_float, p]
    lib.olora_cuda_sgmv_shrink.argtypes = [p, i64, p, i64, p, i32, p, i32, i32, p, p]
    return lib


def last_error(lib):
    buf = ctypes.create_string_buffer(512)
    lib.olora_cuda_last_error(buf, 512)
    return buf.value.decode()


def devices(lib):
    n = ctypes.c_int32(-1)
    rc = lib.olora_cuda_device_count(ctypes.byref(n))
    return rc, n.value


def e2e(args):
    if not os.path.isfile(args.library):
        print(f"FAIL e2e: {args.library} was not built")
        return 1
    # torch first: it brings its own libcublas.so.13. Loading the library first and importing torch after it
    # segfaulted on the H200 (CUDA 13), most likely because the toolkit's libcublas.so.13 had taken the soname.
    missing = [m for m in E2E_NEEDS if not _importable(m)]
    if missing:
        print(f"FAIL e2e: python packages missing: {', '.join(missing)}")
        return 1
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import gpu_e2e  # noqa: E402 - needs torch & co., checked above

    lib = load(args.library)
    rc, n = devices(lib)
    if rc != 0:
        print(f"FAIL e2e: no CUDA device through the C ABI: {last_error(lib)}")
        return 1
    name = ctypes.create_string_buffer(256)
    major, minor, total, free = ctypes.c_int32(), ctypes.c_int32(), ctypes.c_int64(), ctypes.c_int64()
    rc = lib.olora_cuda_device_info(0, name, 256, ctypes.byref(major), ctypes.byref(minor), ctypes.byref(total),
                                    ctypes.byref(free))
    ok = rc == 0 and total.value > 0
    print(f"{'PASS' if ok else 'FAIL'} ctypes: {n} device(s), cuda:0 {name.value.decode()} sm_{major.value}{minor.value} "
          f"{total.value / 2**30:.1f} GiB")
    return gpu_e2e.run(args.library, args.out, args.budget)


def _importable(module):
    try:
        __import__(module)
        return True
    except Exception:  # noqa: BLE001 - any import failure means "not usable here"
        return False


def self_test(args):
    results = []

    def check(ok, name):
        results.append(ok)
        print(f"{'PASS' if ok else 'FAIL'} self-test: {name}")

    sample = ["device 0: x", "PASS add_rmsnorm rows=3  max rel err 0.001 (tol 0.008)",
              "sgmv shrink (v)                          FAIL  max rel err 1 at 3 (tol 1e-4)",
              "BENCH hbm_copy_bandwidth 3000.0 GB/s", "FAIL e2e: not implemented", "runner_check: 1 passed, 1 failed"]
    c, b = parse(sample)
    check([x["status"] for x in c] == ["PASS", "FAIL", "FAIL"] and c[1]["name"] == "sgmv shrink (v)", "PASS/FAIL lines parsed")
    check(b == [{"name": "hbm_copy_bandwidth", "value": "3000.0 GB/s"}], "BENCH lines parsed")
    if args.library and os.path.isfile(args.library):
        lib = load(args.library)
        check(lib.olora_cuda_abi_version() == 2, "ABI version 2")
        rc, n = devices(lib)
        if rc == 0:
            check(n > 0, f"device count {n} (a GPU is present: run without --dry-run)")
        else:
            msg = last_error(lib)
            check(rc == -2 and n == 0 and msg.startswith("cudaGetDeviceCount: cuda"), f"no device: rc {rc}, '{msg}'")
        # Argument checks run before any CUDA call, so they answer the same without a GPU.
        check(lib.olora_cuda_add_rmsnorm(None, None, None, None, -1, 8, 1e-5, None) == -1
              and "add_rmsnorm" in last_error(lib), "add_rmsnorm refuses rows < 0")
        check(lib.olora_cuda_sgmv_shrink(None, 8, None, 8, None, 1, None, 8, 8, None, None) == -1
              and "null pointer" in last_error(lib), "sgmv_shrink refuses null tables")
        out = ctypes.c_void_p()
        check(lib.olora_cuda_alloc(None, 16, ctypes.byref(out)) == -1 and last_error(lib) == "context is null",
              "alloc refuses a null context")
        model_smoke(lib, check)
    else:
        print(f"(no library at {args.library}: C ABI checks not run)")
    return 0 if all(results) else 1


def model_smoke(lib, check):
    """The whole-model binding gpu_e2e.py uses (olora_cuda_abi), on the host emulation context: a tiny random model
    loads, a forward gives finite logits, and a bad token id is refused by name."""
    import array
    import random

    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import olora_cuda_abi as abi

    abi.bind(lib)
    ctx, model = ctypes.c_void_p(), ctypes.c_void_p()
    check(lib.olora_cuda_context_create(abi.HOST_DEVICE, ctypes.byref(ctx)) == abi.OK, "host emulation context")
    c = abi.Config(rope_theta=10000.0, rms_norm_eps=1e-5, vocab_size=37, hidden_size=16, intermediate_size=24,
                   num_layers=1, num_heads=2, kv_heads=1, head_dim=8, max_positions=32, block_size=4, num_blocks=8,
                   num_slots=1, max_rank=4)
    check(ctypes.sizeof(abi.Config) == 112, f"config struct is 112 bytes ({ctypes.sizeof(abi.Config)})")
    rc = lib.olora_cuda_model_create(ctx, ctypes.byref(c), ctypes.byref(model))
    check(rc == abi.OK, "model_create" + ("" if rc == abi.OK else ": " + last_error(lib)))
    rng = random.Random(5)

    def bf16(n, ones=False):  # bf16 bits of N(0, 0.3) (or 1.0): the top half of a float32
        vals = array.array("f", [1.0 if ones else rng.gauss(0, 0.3) for _ in range(n)])
        return array.array("H", vals.tobytes())[1::2]

    def put(kind, layer, data):
        addr, _ = data.buffer_info()
        return lib.olora_cuda_model_set_weight(model, kind, layer, addr, len(data) * 2, None, 0) == abi.OK

    h, ff, v, qkv = 16, 24, 37, 16 + 2 * 8
    ok = (put(abi.W_EMBED, -1, bf16(v * h)) and put(abi.W_FINAL_NORM, -1, bf16(h, True)) and
          put(abi.W_LM_HEAD, -1, bf16(v * h)) and put(abi.W_INPUT_NORM, 0, bf16(h, True)) and
          put(abi.W_POST_NORM, 0, bf16(h, True)) and put(abi.W_QKV, 0, bf16(qkv * h)) and
          put(abi.W_O, 0, bf16(h * 16)) and put(abi.W_GATE_UP, 0, bf16(2 * ff * h)) and put(abi.W_DOWN, 0, bf16(h * ff)))
    check(ok, "set_weight of every tensor: " + (last_error(lib) if not ok else "ok"))

    def forward(ids):
        n = len(ids)
        i32 = ctypes.c_int32
        tok, start, count, slot = (i32 * n)(*ids), (i32 * 1)(0), (i32 * 1)(n), (i32 * 1)(-1)
        table, rows, out = (i32 * 2)(0, 1), (i32 * 1)(n - 1), (ctypes.c_float * v)(*([float("nan")] * v))
        rc = lib.olora_cuda_model_forward(model, n, tok, 1, start, count, slot, table, 2, 1, rows, out)
        return rc, list(out)

    rc, logits = forward([1, 2, 3, 4, 5])
    check(rc == abi.OK and all(x == x and abs(x) < 1e6 for x in logits) and len(set(logits)) > 1,
          "forward through the binding gives finite logits" + ("" if rc == abi.OK else ": " + last_error(lib)))
    rc, _ = forward([1, 99])
    check(rc == -1 and "outside the vocabulary" in last_error(lib), f"forward refuses token 99: '{last_error(lib)}'")
    lib.olora_cuda_model_destroy(model)
    lib.olora_cuda_context_destroy(ctx)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("summarize")
    s.add_argument("--out", required=True)
    s.add_argument("--seconds", type=int, default=0)
    s.add_argument("--arch", default="")
    s.add_argument("logs", nargs="*")
    e = sub.add_parser("e2e")
    e.add_argument("--library", required=True)
    e.add_argument("--out", required=True)
    e.add_argument("--budget", type=int, default=240, help="seconds for the comparisons and the benchmark")
    t = sub.add_parser("self-test")
    t.add_argument("--library")
    args = ap.parse_args()
    return {"summarize": summarize, "e2e": e2e, "self-test": self_test}[args.cmd](args)


if __name__ == "__main__":
    sys.exit(main())

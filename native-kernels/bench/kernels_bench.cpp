// Google Benchmark for the CPU kernels, with this machine's ceilings measured in the same run:
// streaming read bandwidth (multi-threaded sum over 1 GiB) and the fp32 GEMM rate of the
// library's own blocked micro-kernel (olora_gemm_f32). Memory-bound kernels rotate over copies
// of their weights spread across a 1 GiB arena, so each call reads from DRAM rather than cache.
// Counters: GB/s (weight / table bytes per second; see each benchmark), GFLOP/s.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <vector>

#include "bench_util.h"
#include "olora_kernels.h"

using namespace olora_bench;

namespace {

__attribute__((target("avx2"))) uint64_t sum_words(const uint64_t* p, size_t n) {
    uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    for (size_t i = 0; i + 4 <= n; i += 4) {
        s0 += p[i];
        s1 += p[i + 1];
        s2 += p[i + 2];
        s3 += p[i + 3];
    }
    return s0 + s1 + s2 + s3;
}

// Ceiling 1: streaming read bandwidth, all hardware threads summing disjoint halves of 1 GiB.
void BM_ReadBandwidth(benchmark::State& st) {
    const auto* w = reinterpret_cast<const uint64_t*>(arena());
    const int threads = olora_get_num_threads();
    const size_t n = kArena / 8, per = n / threads;
    std::vector<uint64_t> sums(threads);
    for (auto _ : st) {
        std::vector<std::thread> ts;
        for (int t = 1; t < threads; ++t) ts.emplace_back([&, t] { sums[t] = sum_words(w + t * per, per); });
        sums[0] = sum_words(w, per);
        for (auto& t : ts) t.join();
        benchmark::DoNotOptimize(sums.data());
    }
    set_counters(st, double(kArena), 0);
}

// Ceiling 2: fp32 GEMM rate, y[M,N] = x[M,K] w[N,K]^T, cache-resident operands.
void BM_GemmF32(benchmark::State& st) {
    const int m = int(st.range(0)), n = int(st.range(1)), k = int(st.range(2));
    std::vector<float> x(size_t(m) * k, 0.5f), w(size_t(n) * k, 0.25f), y(size_t(m) * n);
    for (auto _ : st) {
        olora_gemm_f32(x.data(), k, w.data(), k, y.data(), n, m, n, k, 0);
        benchmark::ClobberMemory();
    }
    set_counters(st, double(n) * k * 4, 2.0 * m * n * k);
}

std::vector<float> ones(size_t n) { return std::vector<float>(n, 0.01f); }

// Quantized / dense linear: GB/s counts weight bytes (codes + absmax, q + scales, or fp32 W). The
// quantized ones ask for OLORA_COMPUTE_BF16, so OLORA_ISA=amx (the default where present) times the
// AMX tile path and OLORA_ISA=avx512 the float32 paths.
template <int Compute>
void BM_Nf4LinearT(benchmark::State& st) {
    const int m = int(st.range(0)), n = int(st.range(1)), k = int(st.range(2));
    const size_t codes = size_t(n) * k / 2, blocks = size_t(n) * k / 64;
    Rotor rot(codes + blocks * 4);
    const auto x = ones(size_t(m) * k);
    std::vector<float> y(size_t(m) * n);
    for (auto _ : st) {
        uint8_t* p = rot.next();
        olora_nf4_linear_ex(x.data(), k, y.data(), n, m, n, k, p, reinterpret_cast<const float*>(p + codes), 0,
                            Compute);
        benchmark::ClobberMemory();
    }
    set_counters(st, double(codes + blocks * 4), 2.0 * m * n * k);
}

void BM_Nf4Linear(benchmark::State& st) { BM_Nf4LinearT<OLORA_COMPUTE_BF16>(st); }
// The same with float32 products everywhere: OLORA_COMPUTE_F32 beside OLORA_COMPUTE_BF16 in one run.
void BM_Nf4LinearF32(benchmark::State& st) { BM_Nf4LinearT<OLORA_COMPUTE_F32>(st); }
// And with int8 dot products (M <= 8 on AVX-512 VNNI; the same as BM_Nf4Linear elsewhere).
void BM_Nf4LinearI8(benchmark::State& st) { BM_Nf4LinearT<OLORA_COMPUTE_INT8>(st); }

// NF4 with W resident in cache (one copy, no rotation): the kernels' compute rate, which bounds
// them wherever memory does not (st.range(3) is the compute mode).
void BM_Nf4LinearCached(benchmark::State& st) {
    const int m = int(st.range(0)), n = int(st.range(1)), k = int(st.range(2)), compute = int(st.range(3));
    const size_t codes = size_t(n) * k / 2, blocks = size_t(n) * k / 64;
    std::vector<uint8_t> w(codes + blocks * 4, 0x3F);
    const auto x = ones(size_t(m) * k);
    std::vector<float> y(size_t(m) * n);
    for (auto _ : st) {
        olora_nf4_linear_ex(x.data(), k, y.data(), n, m, n, k, w.data(), reinterpret_cast<const float*>(w.data() + codes),
                            0, compute);
        benchmark::ClobberMemory();
    }
    set_counters(st, double(codes + blocks * 4), 2.0 * m * n * k);
}

// A batch-1 NF4 decode step of the small preset without the rest of the engine: its 33 GEMVs in order (8 layers of
// QKV 1,536 x 1,024, O 1,024 x 1,024, gate/up 5,632 x 1,024, down 1,024 x 2,816, then the 50,304 x 1,024 head; 80 MB,
// so each step streams from DRAM), with st.range(0) microseconds of busy work on the caller after each, standing for
// the step's serial work, and st.range(1) KiB of idle-thread prefetch (olora_set_idle_prefetch_bytes). Compare
// the budgets with --benchmark_enable_random_interleaving=true and repetitions, on a machine this noisy.
void BM_Nf4DecodeChain(benchmark::State& st) {
    const double glue_us = double(st.range(0));
    const int64_t was = olora_get_idle_prefetch_bytes();
    olora_set_idle_prefetch_bytes(st.range(1) * 1024);
    struct Weights {
        int n, k;
        std::vector<uint8_t> w;
    };
    std::vector<Weights> chain;
    for (int l = 0; l < 8; ++l)
        for (auto [n, k] : {std::pair{1536, 1024}, {1024, 1024}, {5632, 1024}, {1024, 2816}})
            chain.push_back({n, k, std::vector<uint8_t>(size_t(n) * k / 2 + size_t(n) * k / 16, 0x3F)});
    chain.push_back({50304, 1024, std::vector<uint8_t>(size_t(50304) * 1024 * 9 / 16, 0x3F)});
    double bytes = 0;
    for (const auto& c : chain) bytes += double(c.w.size());
    const auto x = ones(2816);
    std::vector<float> y(50304);
    for (auto _ : st) {
        for (const auto& c : chain) {
            olora_nf4_linear_ex(x.data(), c.k, y.data(), c.n, 1, c.n, c.k, c.w.data(),
                                reinterpret_cast<const float*>(c.w.data() + size_t(c.n) * c.k / 2), 0, OLORA_COMPUTE_BF16);
            const auto t0 = std::chrono::steady_clock::now();
            while (std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count() < glue_us) {
            }
        }
        benchmark::ClobberMemory();
    }
    set_counters(st, bytes, 0);
    olora_set_idle_prefetch_bytes(was);
}

void BM_Int8Linear(benchmark::State& st) {
    const int m = int(st.range(0)), n = int(st.range(1)), k = int(st.range(2));
    const size_t q = size_t(n) * k;
    Rotor rot(q + size_t(n) * 4);
    const auto x = ones(size_t(m) * k);
    std::vector<float> y(size_t(m) * n);
    for (auto _ : st) {
        uint8_t* p = rot.next();
        olora_int8_linear_ex(x.data(), k, y.data(), n, m, n, k, reinterpret_cast<const int8_t*>(p),
                             reinterpret_cast<const float*>(p + q), 0, OLORA_COMPUTE_BF16);
        benchmark::ClobberMemory();
    }
    set_counters(st, double(q + size_t(n) * 4), 2.0 * m * n * k);
}

void BM_F32Linear(benchmark::State& st) {
    const int m = int(st.range(0)), n = int(st.range(1)), k = int(st.range(2));
    const size_t bytes = size_t(n) * k * 4;
    Rotor rot(bytes);
    const auto x = ones(size_t(m) * k);
    std::vector<float> y(size_t(m) * n);
    for (auto _ : st) {
        olora_gemm_f32(x.data(), k, reinterpret_cast<const float*>(rot.next()), k, y.data(), n, m, n, k, 0);
        benchmark::ClobberMemory();
    }
    set_counters(st, double(bytes), 2.0 * m * n * k);
}

// SGMV: args = dtype (0 float32, 1 bfloat16, 2 float32 x/y with bfloat16 tables through
// olora_sgmv_mixed), segments, rows per segment, rank, hidden (in = out), mode
// (0 fused olora_sgmv, 1 olora_bgmv, 2 shrink only, 3 expand only). Every segment uses its own
// slot. GB/s counts the byte floor: the A and B rows of the used slots read once, x read once,
// y read and written once (as applicable to the mode).
void BM_Sgmv(benchmark::State& st) {
    const int kind = int(st.range(0)), segs = int(st.range(1)), rows_per = int(st.range(2)), r = int(st.range(3)),
              h = int(st.range(4)), mode = int(st.range(5));
    const int dtype = kind == 1 ? OLORA_DTYPE_BF16 : OLORA_DTYPE_F32;
    const int wdtype = kind >= 1 ? OLORA_DTYPE_BF16 : OLORA_DTYPE_F32;
    const size_t es = dtype == OLORA_DTYPE_BF16 ? 2 : 4, ws = wdtype == OLORA_DTYPE_BF16 ? 2 : 4;
    const int rows = segs * rows_per;
    const size_t table = size_t(segs) * r * h * ws;  // one table (A or B) for all slots
    Rotor rot(2 * table);
    std::vector<int32_t> starts(segs + 1), slots(segs), ranks(segs, r), row_slots(rows);
    std::vector<float> scales(segs, 0.5f), v(size_t(rows) * r), scratch(size_t(rows) * r);
    for (int i = 0; i <= segs; ++i) starts[i] = i * rows_per;
    for (int i = 0; i < segs; ++i) slots[i] = i;
    for (int i = 0; i < rows; ++i) row_slots[i] = i / rows_per;
    std::vector<uint8_t> x(size_t(rows) * h * es, 0x3C), y(size_t(rows) * h * es, 0x3C);
    for (auto _ : st) {
        uint8_t* a = rot.next();
        uint8_t* b = a + table;
        switch (mode) {
            case 0:
                olora_sgmv_mixed(dtype, wdtype, x.data(), h, y.data(), h, starts.data(), slots.data(), segs, a, b, segs,
                                 r, h, h, ranks.data(), scales.data(), scratch.data(), int64_t(scratch.size()));
                break;
            case 1:
                olora_bgmv(dtype, x.data(), h, y.data(), h, rows, row_slots.data(), a, b, segs, r, h, h, ranks.data(),
                           scales.data(), scratch.data(), int64_t(scratch.size()));
                break;
            case 2:
                olora_sgmv_shrink(dtype, x.data(), h, v.data(), r, starts.data(), slots.data(), segs, a, segs, r, h,
                                  ranks.data());
                break;
            default:
                olora_sgmv_expand(dtype, v.data(), r, y.data(), h, starts.data(), slots.data(), segs, b, segs, r, h,
                                  ranks.data(), scales.data());
                break;
        }
        benchmark::ClobberMemory();
    }
    const double act = double(rows) * h * es;
    double bytes = 0;
    if (mode <= 1) bytes = 2.0 * table + 3 * act;
    if (mode == 2) bytes = table + act;
    if (mode == 3) bytes = table + 2 * act;
    const double flops = (mode <= 1 ? 4.0 : 2.0) * rows * r * h;
    set_counters(st, bytes, flops);
}

// olora_check_finite over one adapter-sized buffer (64 MiB: a rank-16 all-projection 7B adapter
// in bf16 is ~80 MB), from DRAM, on the calling thread as the engine calls it. Arg: dtype.
void BM_CheckFinite(benchmark::State& st) {
    const int dtype = int(st.range(0));
    const size_t bytes = size_t(64) << 20;
    const int64_t n = int64_t(bytes / (dtype == OLORA_DTYPE_F32 ? 4 : 2));
    Rotor rotor(bytes);
    for (auto _ : st) {
        const int64_t at = olora_check_finite(dtype, rotor.next(), n, 65504.f);
        if (at != n) st.SkipWithError("the arena holds a refused value");
        benchmark::DoNotOptimize(at);
    }
    set_counters(st, double(bytes), 0);
}

// The small preset's decode step (hidden 1024, MLP 2816, tied 50304-row head) at M = 1: rows of 0.5-1.4
// KiB (NF4) that the hardware prefetchers do not follow, and calls of 15-500 us where the thread
// hand-off shows.
void SmallPresetGemvs(benchmark::internal::Benchmark* b) {
    b->ArgNames({"m", "n", "k"});
    b->Args({1, 1024, 1024})->Args({1, 2816, 1024})->Args({1, 1024, 2816})->Args({1, 50304, 1024});
}

// The shapes of both quantized linears: decode GEMV (M = 1) on square, tall and wide W, then every
// M path (fused GEMV, small-M, tiles or AMX) up to prefill-sized M.
void QuantizedShapes(benchmark::internal::Benchmark* b) {
    b->ArgNames({"m", "n", "k"});
    b->Args({1, 4096, 4096})->Args({1, 14336, 4096})->Args({1, 4096, 14336});
    SmallPresetGemvs(b);
    b->Args({1, 256, 1024});
    for (int m : {2, 4, 5, 8, 16, 32, 256}) b->Args({m, 4096, 4096});
    b->Unit(benchmark::kMicrosecond)->UseRealTime();
}

}  // namespace

BENCHMARK(BM_ReadBandwidth)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(1.0)->ComputeStatistics("min", min_of);
BENCHMARK(BM_GemmF32)->Args({256, 1024, 1024})->Args({512, 4096, 1024})->Unit(benchmark::kMillisecond)->UseRealTime();
// M = 8 and 32 beside the GEMVs: the task-per-tile path, where M <= 2 takes ranges (linear_cpu.cpp).
BENCHMARK(BM_F32Linear)
    ->Args({1, 4096, 4096})
    ->Apply(SmallPresetGemvs)
    ->Args({8, 1024, 1024})
    ->Args({8, 4096, 4096})
    ->Args({32, 4096, 4096})
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime();
BENCHMARK(BM_Nf4Linear)->Apply(QuantizedShapes);
BENCHMARK(BM_Nf4LinearF32)
    ->Apply(SmallPresetGemvs)
    ->Args({1, 4096, 4096})
    ->Args({2, 4096, 4096})
    ->Args({4, 4096, 4096})
    ->Args({8, 4096, 4096})
    ->Args({32, 4096, 4096})
    ->Args({256, 4096, 4096})
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime();
BENCHMARK(BM_Nf4LinearI8)
    ->Apply(SmallPresetGemvs)
    ->Args({1, 4096, 4096})
    ->Args({1, 14336, 4096})
    ->Args({1, 4096, 14336})
    ->Args({2, 4096, 4096})
    ->Args({4, 4096, 4096})
    ->Args({5, 4096, 4096})
    ->Args({8, 4096, 4096})
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime();
BENCHMARK(BM_Nf4LinearCached)
    ->ArgNames({"m", "n", "k", "compute"})
    ->Args({1, 1024, 1024, OLORA_COMPUTE_F32})
    ->Args({1, 1024, 1024, OLORA_COMPUTE_BF16})
    ->Args({1, 1024, 1024, OLORA_COMPUTE_INT8})
    // bfloat16 dots: the pair kernel (M <= 2) and the per-block one (M >= 3).
    ->Args({2, 1024, 1024, OLORA_COMPUTE_BF16})
    ->Args({4, 1024, 1024, OLORA_COMPUTE_BF16})
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime();
BENCHMARK(BM_Int8Linear)->Apply(QuantizedShapes);
BENCHMARK(BM_Nf4DecodeChain)
    ->ArgNames({"glue_us", "prefetch_kb"})
    ->ArgsProduct({{0, 8}, {0, 256, 1024}})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK(BM_CheckFinite)->ArgName("dtype")->Arg(OLORA_DTYPE_F32)->Arg(OLORA_DTYPE_BF16)->Arg(OLORA_DTYPE_F16)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_Sgmv)
    ->ArgNames({"dtype", "segs", "rows", "r", "h", "mode"})
    ->Args({0, 32, 1, 16, 4096, 0})
    ->Args({0, 32, 1, 16, 4096, 1})
    ->Args({0, 32, 1, 16, 4096, 2})
    ->Args({0, 32, 1, 16, 4096, 3})
    ->Args({1, 32, 1, 16, 4096, 0})
    ->Args({0, 32, 16, 16, 4096, 0})
    ->Args({0, 4, 1, 64, 4096, 0})
    ->Args({2, 32, 1, 16, 4096, 0})
    ->Args({0, 32, 1, 16, 1024, 0})
    ->Args({2, 32, 1, 16, 1024, 0})
    ->Args({0, 32, 1, 16, 2816, 0})
    ->Args({2, 32, 1, 16, 2816, 0})
    // The engine's scenario (2): a batch of 32 on one adapter (mixed: float32 rows, bf16 tables).
    ->Args({2, 1, 32, 16, 1024, 0})
    ->Args({2, 1, 32, 16, 2816, 0})
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime();

BENCHMARK_MAIN();

// What the benchmark sources share: a 1 GiB arena that memory-bound benchmarks rotate over (so
// each call reads from DRAM, not cache) and the GB/s / GFLOP/s counters.
#pragma once

#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace olora_bench {

constexpr size_t kArena = size_t(1) << 30;

inline uint8_t* arena() {
    static uint8_t* a = [] {
        auto* p = static_cast<uint8_t*>(std::aligned_alloc(4096, kArena));
        // 0x3F bytes: as float 0.747, as bf16 0.746, as int8 63, as NF4 codes 3 and 15 (no denormals).
        std::memset(p, 0x3F, kArena);
        return p;
    }();
    return a;
}

// Rotates over copies of `bytes` bytes inside the arena.
struct Rotor {
    size_t bytes, copies, i = 0;
    // Touches the arena here, outside the timed loop: its first use faults in and fills 1 GiB (~0.5 s),
    // which a --benchmark_filter run would otherwise charge to the first benchmark's first iteration.
    explicit Rotor(size_t b) : bytes((b + 4095) & ~size_t(4095)), copies(std::max<size_t>(1, kArena / bytes)) {
        arena();
    }
    uint8_t* next() { return arena() + (i++ % copies) * bytes; }
};

// The fastest of the repetitions (--benchmark_repetitions=N): on a shared machine the least
// disturbed run, the figure to compare between variants (ComputeStatistics("min", min_of)).
inline double min_of(const std::vector<double>& v) { return *std::min_element(v.begin(), v.end()); }

inline void set_counters(benchmark::State& st, double bytes, double flops) {
    st.counters["GB/s"] = benchmark::Counter(bytes * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
    st.counters["GFLOP/s"] = benchmark::Counter(flops * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

}  // namespace olora_bench

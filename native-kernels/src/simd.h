// Included by the SIMD sources instead of <immintrin.h>.
#pragma once
// GCC 12 reports the _mm512_undefined_* placeholders inside its own intrinsics as
// (maybe-)uninitialized when they are inlined into target("avx512*") functions; false positives.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include "kernels_internal.h"

namespace olora {

// Full unrolling keeps M x R accumulator arrays in registers (GCC's default stops at 16 iterations
// or a body size).
#define OLORA_UNROLL _Pragma("GCC unroll 64")

// The fused GEMVs read R consecutive W rows as R interleaved streams. Rows shorter than a page
// are too short for the hardware prefetchers (they train per 4 KiB page) to lock on, so there the
// kernels prefetch the next group of rows sequentially themselves; longer rows ran as fast or
// faster without (int8, K = 4096: 15-35 % slower with; native-kernels/BENCHMARKS.md).
inline bool prefetch_next_rows(int64_t row_bytes) { return row_bytes < 4096; }

// M x R vector partial sums of the K-chunked small-M kernels, kept between chunks at acc
// ([R][M] x 16 floats, 64-byte aligned): zero on the first chunk, else reload; store back.
template <int M, int R>
OLORA_TARGET_AVX512 inline void load_partials(__m512 (&s)[M][R], const float* acc, bool first) {
    OLORA_UNROLL
    for (int i = 0; i < M; ++i)
        OLORA_UNROLL
        for (int r = 0; r < R; ++r) s[i][r] = first ? _mm512_setzero_ps() : _mm512_load_ps(acc + (r * M + i) * 16);
}
template <int M, int R>
OLORA_TARGET_AVX512 inline void store_partials(const __m512 (&s)[M][R], float* acc) {
    OLORA_UNROLL
    for (int i = 0; i < M; ++i)
        OLORA_UNROLL
        for (int r = 0; r < R; ++r) _mm512_store_ps(acc + (r * M + i) * 16, s[i][r]);
}

}  // namespace olora

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
// kernels prefetch rows further on sequentially themselves; longer rows ran as fast or
// faster without (int8, K = 4096: 15-35 % slower with; native-kernels/BENCHMARKS.md).
inline bool prefetch_next_rows(int64_t row_bytes) { return row_bytes < 4096; }

// How far ahead of the rows being read the fused NF4 GEMVs prefetch: the group of R rows that starts this
// many rows on (8 KiB at K = 1024). One group ahead (2 KiB at R = 4) left too few lines in flight to stream
// DRAM at batch 1: 38 against 41 GB/s for the 50,304-row head (native-kernels/BENCHMARKS.md).
constexpr int kPrefetchRowsAhead = 16;

// R consecutive NF4 W rows from row n (k / 2 code bytes and k / 64 absmax floats per row) as the fused
// GEMVs walk them, step by step along K, and the group of R rows kPrefetchRowsAhead on, which they prefetch one step's
// worth of (R rows' codes and absmax of a step) per step where the rows are short.
template <int R>
struct Nf4RowGroup {
    const uint8_t* q;
    const float* am;
    int64_t half, nblk;
    bool pf;
    Nf4RowGroup(const uint8_t* codes, const float* absmax, int n, int k)
        : q(codes + static_cast<int64_t>(n) * (k / 2)),
          am(absmax + static_cast<int64_t>(n) * (k / 64)),
          half(k / 2),
          nblk(k / 64),
          pf(prefetch_next_rows(k / 2)) {}
    // Row r's codes and absmax.
    const uint8_t* codes(int r) const { return q + r * half; }
    const float* absmax(int r) const { return am + r * nblk; }
    // Step `step` of the group ahead: code_bytes and absmax floats per row and step. Forced inline: out of
    // line, GCC 12 finds a function of nothing but prefetches pure and deletes every call to it.
    __attribute__((always_inline)) void prefetch(int64_t step, int code_bytes, int scales) const {
        if (!pf) return;
        constexpr int ahead = R > kPrefetchRowsAhead ? R : kPrefetchRowsAhead;
        const char* next_q = reinterpret_cast<const char*>(q + ahead * half) + step * R * code_bytes;
        for (int j = 0; j < R * code_bytes; j += 64) _mm_prefetch(next_q + j, _MM_HINT_T0);
        _mm_prefetch(reinterpret_cast<const char*>(am + ahead * nblk + step * R * scales), _MM_HINT_T0);
    }
};

// The absmax of blocks 2p and 2p + 1 of a W row (two floats, possibly only 4-aligned) in lanes 0-7 and 8-15: the
// scales of the pair kernels' 64-byte loads of codes, whose dots hold block 2p in lanes 0-7.
OLORA_TARGET_AVX512 inline __m512 pair_absmax(const float* row_absmax, int p) {
    const __m128 a2 = _mm_castsi128_ps(_mm_loadu_si64(row_absmax + 2 * p));
    return _mm512_permutexvar_ps(_mm512_setr_epi32(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1),
                                 _mm512_castps128_ps512(a2));
}

// The M x R accumulators of a fused GEMV, zeroed.
template <int M, int R>
OLORA_TARGET_AVX512 inline void zero_sums(__m512 (&s)[M][R]) {
    for (int i = 0; i < M; ++i)
        for (int r = 0; r < R; ++r) s[i][r] = _mm512_setzero_ps();
}

// y[i, n + r] = (or +=) the sum of the lanes of s[i][r], for the M x R accumulators of a fused GEMV.
template <int M, int R>
OLORA_TARGET_AVX512 inline void store_row_sums(const __m512 (&s)[M][R], float* y, int64_t ldy, int n, bool acc) {
    for (int i = 0; i < M; ++i)
        for (int r = 0; r < R; ++r) {
            const float v = _mm512_reduce_add_ps(s[i][r]);
            float* o = y + i * ldy + n + r;
            *o = acc ? *o + v : v;
        }
}

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

// Lanes of v that vdpbf16ps would lose as an x operand, which then takes the float32 kernels: a nonzero |x| below
// 2^-100 (the instruction treats subnormal inputs and results as zero whatever MXCSR says; from 2^-100 on, a product
// with any weight of magnitude 2^-26 or more stays normal, every nonzero NF4 code (|code| >= 0.0796) times an absmax
// above 2^-22 included) or a finite |x| at or past the largest bfloat16 (0x1.fep127), which may round to inf. NaN and
// inf pass (the compares are false) and propagate as in float32.
OLORA_TARGET_AVX512 inline __mmask16 bf16_dot_loses(__m512 v) {
    const __m512 a = _mm512_andnot_ps(_mm512_set1_ps(-0.0f), v);
    return (_mm512_cmp_ps_mask(a, _mm512_setzero_ps(), _CMP_NEQ_OQ) &
            _mm512_cmp_ps_mask(a, _mm512_set1_ps(0x1p-100f), _CMP_LT_OQ)) |
           (_mm512_cmp_ps_mask(a, _mm512_set1_ps(0x1.fep127f), _CMP_GE_OQ) &
            _mm512_cmp_ps_mask(a, _mm512_set1_ps(0x1.fffffep127f), _CMP_LE_OQ));
}

}  // namespace olora

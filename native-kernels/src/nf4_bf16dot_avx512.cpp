// NF4 GEMV with bfloat16 dot products (OLORA_COMPUTE_BF16, M <= 8, K % 64 == 0): the arithmetic that
// bitsandbytes users get with bnb_4bit_compute_dtype=bfloat16, x and the code book rounded to
// bfloat16, products summed in float32. The float32 kernel (nf4_avx512.cpp) spends a `vpmovzxbd`, a
// `vpermps` and an FMA per 16 weights and is bound by them at batch 1 on AVX-512 machines that run
// 512-bit operations as two halves; here `vpermw` looks up 32 bfloat16 code values at once and
// `vdpbf16ps` multiplies 32 pairs per instruction.
//
// Up to kNf4Bf16PairMaxM rows of x, each 64-byte load of codes is two whole blocks. Its 32 words each hold
// four nibbles, which `vpermw` reads in place (it uses index bits 4:0) and after shifts by 4, 8 and 12, with
// no widening of bytes to words; x is stored in that nibble order, so the float32 lanes 0-7 of the dot hold
// block 2p and lanes 8-15 block 2p + 1, and one FMA per pair applies both absmax. With W in L2, one thread
// ran it at 50-52 GB/s of codes against 44-45 for the per-block kernel, which widens each block's 32 code
// bytes to words first (docs/BENCHMARKS.md). From 3 rows of x on, the per-block kernel: the pair kernel's
// four decoded vectors per W row left too few registers (M = 4-5 ran 30 % slower).
#include <utility>

#include "simd.h"

namespace olora {
namespace {

// The code book as bfloat16, 32 words: vpermw reads index bits 4:0, so entry j holds code j % 16 and
// a word holding a whole code byte looks up its low nibble without masking.
struct Bf16CodeTable {
    alignas(64) uint16_t words[32];
    Bf16CodeTable() {
        for (int j = 0; j < 32; ++j) words[j] = f32_to_bf16(kNf4CodeBook[j & 15]);
    }
};
const Bf16CodeTable kBf16Codes;

OLORA_TARGET_AVX512 inline __m512bh as_bh(__m512i v) { return reinterpret_cast<__m512bh&>(v); }

// Adds block b of W rows [n, n + R) against M rows of x in its even-then-odd layout to s.
template <int M, int R>
OLORA_TARGET_AVX512 inline void add_block(const Nf4Bf16Block* xb, int nblk, const Nf4RowGroup<R>& rows, int b,
                                          __m512i lut, __m512 (&s)[M][R]) {
    OLORA_UNROLL
    for (int r = 0; r < R; ++r) {
        // Word j: code byte j of the block, whose high nibble is element 2j and low nibble 2j + 1.
        const __m512i w = _mm512_cvtepu8_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(rows.codes(r) + 32 * b)));
        const __m512bh hi = as_bh(_mm512_permutexvar_epi16(_mm512_srli_epi16(w, 4), lut));
        const __m512bh lo = as_bh(_mm512_permutexvar_epi16(w, lut));
        const __m512 a = _mm512_set1_ps(rows.absmax(r)[b]);
        OLORA_UNROLL
        for (int i = 0; i < M; ++i) {
            const uint16_t* xe = xb[static_cast<int64_t>(i) * nblk + b].w;
            __m512 t = _mm512_dpbf16_ps(_mm512_setzero_ps(), hi, as_bh(_mm512_load_si512(xe)));
            t = _mm512_dpbf16_ps(t, lo, as_bh(_mm512_load_si512(xe + 32)));
            s[i][r] = _mm512_fmadd_ps(t, a, s[i][r]);
        }
    }
}

// W rows [n, n + R) against M rows of x, block by block (x in the per-block layout).
template <int M, int R>
OLORA_TARGET_AVX512 void gemv_block_group(const Nf4Bf16Block* xb, int k, const uint8_t* codes, const float* absmax,
                                          int n, float* y, int64_t ldy, bool acc) {
    const __m512i lut = _mm512_load_si512(kBf16Codes.words);
    const int nblk = k / 64;
    const Nf4RowGroup<R> rows(codes, absmax, n, k);
    __m512 s[M][R];
    zero_sums(s);
    for (int b = 0; b < nblk; ++b) {
        rows.prefetch(b, 32, 1);
        add_block<M, R>(xb, nblk, rows, b, lut, s);
    }
    store_row_sums<M, R>(s, y, ldy, n, acc);
}

// W rows [n, n + R) against M rows of x, two blocks per step (x in the pair layout).
template <int M, int R>
OLORA_TARGET_AVX512 void gemv_pair_group(const Nf4Bf16Block* xb, int k, const uint8_t* codes, const float* absmax, int n,
                                         float* y, int64_t ldy, bool acc) {
    const __m512i lut = _mm512_load_si512(kBf16Codes.words);
    const int nblk = k / 64, npair = nblk / 2;
    const Nf4RowGroup<R> rows(codes, absmax, n, k);
    __m512 s[M][R];
    zero_sums(s);
    for (int p = 0; p < npair; ++p) {
        rows.prefetch(p, 64, 2);
        OLORA_UNROLL
        for (int r = 0; r < R; ++r) {
            // Word j of the pair's codes: bytes 2j and 2j + 1, elements 4j + 1, 4j, 4j + 3, 4j + 2 from bit 0 on.
            const __m512i w = _mm512_loadu_si512(rows.codes(r) + 64 * p);
            const __m512bh c0 = as_bh(_mm512_permutexvar_epi16(w, lut));
            const __m512bh c1 = as_bh(_mm512_permutexvar_epi16(_mm512_srli_epi16(w, 4), lut));
            const __m512bh c2 = as_bh(_mm512_permutexvar_epi16(_mm512_srli_epi16(w, 8), lut));
            const __m512bh c3 = as_bh(_mm512_permutexvar_epi16(_mm512_srli_epi16(w, 12), lut));
            const __m512 a = pair_absmax(rows.absmax(r), p);
            OLORA_UNROLL
            for (int i = 0; i < M; ++i) {
                const uint16_t* xe = xb[static_cast<int64_t>(i) * nblk + 2 * p].w;
                // Two chains of two dots, not one of four: the dots' latency bound one chain (7 % slower).
                __m512 t = _mm512_dpbf16_ps(_mm512_setzero_ps(), c0, as_bh(_mm512_load_si512(xe)));
                t = _mm512_dpbf16_ps(t, c1, as_bh(_mm512_load_si512(xe + 32)));
                __m512 u = _mm512_dpbf16_ps(_mm512_setzero_ps(), c2, as_bh(_mm512_load_si512(xe + 64)));
                u = _mm512_dpbf16_ps(u, c3, as_bh(_mm512_load_si512(xe + 96)));
                s[i][r] = _mm512_fmadd_ps(_mm512_add_ps(t, u), a, s[i][r]);
            }
        }
    }
    if (nblk % 2) add_block<M, R>(xb, nblk, rows, nblk - 1, lut, s);  // the last block alone
    store_row_sums<M, R>(s, y, ldy, n, acc);
}

template <int M>
void gemv_rows(const Nf4Bf16Block* xb, int k, const uint8_t* codes, const float* absmax, int n0, int n1, float* y,
               int64_t ldy, bool acc) {
    // M x R accumulators, R rows' decoded code vectors (four per row in pairs, two per block) and the
    // table fit the 32 zmm registers.
    if constexpr (M <= kNf4Bf16PairMaxM) {
        constexpr int R = 4;
        int n = n0;
        for (; n + R <= n1; n += R) gemv_pair_group<M, R>(xb, k, codes, absmax, n, y, ldy, acc);
        for (; n < n1; ++n) gemv_pair_group<M, 1>(xb, k, codes, absmax, n, y, ldy, acc);
    } else {
        constexpr int R = M <= 4 ? 3 : 2;
        int n = n0;
        for (; n + R <= n1; n += R) gemv_block_group<M, R>(xb, k, codes, absmax, n, y, ldy, acc);
        for (; n < n1; ++n) gemv_block_group<M, 1>(xb, k, codes, absmax, n, y, ldy, acc);
    }
}

using GemvFn = void (*)(const Nf4Bf16Block*, int, const uint8_t*, const float*, int, int, float*, int64_t, bool);

}  // namespace

OLORA_TARGET_AVX512 bool nf4_x_to_bf16(const float* x, int64_t ldx, int m, int k, Nf4Bf16Block* out) {
    const __m512i even_idx = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    const __m512i odd_idx = _mm512_add_epi32(even_idx, _mm512_set1_epi32(1));
    // (even, odd) elements of the 32 floats a then b.
    auto split = [&](__m512 a, __m512 b) OLORA_TARGET_AVX512 {
        return std::pair{_mm512_permutex2var_ps(a, even_idx, b), _mm512_permutex2var_ps(a, odd_idx, b)};
    };
    // 32 bfloat16 words from 16 floats lo then 16 floats hi (rounded to nearest even).
    auto store = [](uint16_t* o, __m512 lo, __m512 hi) OLORA_TARGET_AVX512 {
        const __m512bh v = _mm512_cvtne2ps_pbh(hi, lo);
        _mm512_store_si512(o, reinterpret_cast<const __m512i&>(v));
    };
    const int nblk = k / 64;
    for (int i = 0; i < m; ++i) {
        const float* xr = x + i * ldx;
        Nf4Bf16Block* xo = out + static_cast<int64_t>(i) * nblk;
        const int paired = m <= kNf4Bf16PairMaxM ? nblk / 2 * 2 : 0;  // blocks in pairs
        for (int b = 0; b < paired; b += 2) {  // a pair: words 32 c + j hold element 4j + {1, 0, 3, 2}[c]
            const float* xs = xr + 64 * b;
            __m512 v[8];
            __mmask16 bad = 0;
            for (int q = 0; q < 8; ++q) bad |= bf16_dot_loses(v[q] = _mm512_loadu_ps(xs + 16 * q));
            if (bad) return false;
            const auto [e0, o0] = split(v[0], v[1]);  // elements 2i and 2i + 1 of each 32
            const auto [e1, o1] = split(v[2], v[3]);
            const auto [e2, o2] = split(v[4], v[5]);
            const auto [e3, o3] = split(v[6], v[7]);
            const auto [ee0, eo0] = split(e0, e1);  // elements 4j and 4j + 2 of the first 64
            const auto [ee1, eo1] = split(e2, e3);
            const auto [oe0, oo0] = split(o0, o1);  // elements 4j + 1 and 4j + 3
            const auto [oe1, oo1] = split(o2, o3);
            uint16_t* o = xo[b].w;
            store(o, oe0, oe1);
            store(o + 32, ee0, ee1);
            store(o + 64, oo0, oo1);
            store(o + 96, eo0, eo1);
        }
        for (int b = paired; b < nblk; ++b) {  // a block alone: words 0-31 elements 0, 2, ... 62, then the odd ones
            const float* xs = xr + 64 * b;
            const __m512 x0 = _mm512_loadu_ps(xs), x1 = _mm512_loadu_ps(xs + 16);
            const __m512 x2 = _mm512_loadu_ps(xs + 32), x3 = _mm512_loadu_ps(xs + 48);
            if (bf16_dot_loses(x0) | bf16_dot_loses(x1) | bf16_dot_loses(x2) | bf16_dot_loses(x3)) return false;
            const auto [e0, o0] = split(x0, x1);
            const auto [e1, o1] = split(x2, x3);
            store(xo[b].w, e0, e1);
            store(xo[b].w + 32, o0, o1);
        }
    }
    return true;
}

void nf4_gemv_bf16_avx512(const Nf4Bf16Block* xb, int m, int k, const uint8_t* codes, const float* absmax, int n0,
                          int n1, float* y, int64_t ldy, bool accumulate) {
    static const GemvFn tab[kNf4Bf16MaxM] = {gemv_rows<1>, gemv_rows<2>, gemv_rows<3>, gemv_rows<4>,
                                             gemv_rows<5>, gemv_rows<6>, gemv_rows<7>, gemv_rows<8>};
    tab[m - 1](xb, k, codes, absmax, n0, n1, y, ldy, accumulate);
}

}  // namespace olora

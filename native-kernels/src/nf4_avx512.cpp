// AVX-512 NF4 kernels for K % 64 == 0 (each W row is whole blocks of 32 code bytes).
// The code book is one zmm register; vpermps looks codes up 16 at a time. Each 16 code bytes
// give 16 high-nibble values (even elements) and 16 low-nibble values (odd elements).
#include <algorithm>

#include "simd.h"

namespace olora {
namespace {

// One 64-value block (32 code bytes) to 4 vectors: v[0] = high nibbles of bytes 0..15 (even
// elements 0..30), v[1] = their low nibbles (odd elements), v[2], v[3] = the same for bytes 16..31.
OLORA_TARGET_AVX512 inline void decode_block(const uint8_t* qb, __m512 lut, __m512 v[4]) {
    const __m512i i0 = _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(qb)));
    const __m512i i1 = _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(qb + 16)));
    v[0] = _mm512_permutexvar_ps(_mm512_srli_epi32(i0, 4), lut);
    v[1] = _mm512_permutexvar_ps(i0, lut);  // vpermps reads index bits 3:0 only
    v[2] = _mm512_permutexvar_ps(_mm512_srli_epi32(i1, 4), lut);
    v[3] = _mm512_permutexvar_ps(i1, lut);
}

// R rows of W at a time: the x vectors of a block are loaded from memory once per block and
// hit L1 for the other rows, even when x is larger than L1 (K = 14336).
template <int M, int R>
OLORA_TARGET_AVX512 void gemv_block(const float* xd, int k, const uint8_t* codes, const float* absmax, int n,
                                    float* y, int64_t ldy, bool acc) {
    const __m512 lut = _mm512_loadu_ps(kNf4CodeBook);
    const int nblk = k / 64;
    const int half = k / 2;
    const Nf4RowGroup<R> rows(codes, absmax, n, k);
    __m512 s[M][R];
    zero_sums(s);
    for (int b = 0; b < nblk; ++b) {
        rows.prefetch(b, 32, 1);
        for (int r = 0; r < R; ++r) {
            __m512 v[4];
            decode_block(rows.codes(r) + 32 * b, lut, v);
            const __m512 h0 = v[0], l0 = v[1], h1 = v[2], l1 = v[3];
            const __m512 a = _mm512_set1_ps(rows.absmax(r)[b]);
            for (int i = 0; i < M; ++i) {
                const float* xe = xd + static_cast<int64_t>(i) * k + 32 * b;
                const float* xo = xe + half;
                __m512 t = _mm512_mul_ps(h0, _mm512_loadu_ps(xe));
                t = _mm512_fmadd_ps(l0, _mm512_loadu_ps(xo), t);
                t = _mm512_fmadd_ps(h1, _mm512_loadu_ps(xe + 16), t);
                t = _mm512_fmadd_ps(l1, _mm512_loadu_ps(xo + 16), t);
                s[i][r] = _mm512_fmadd_ps(t, a, s[i][r]);
            }
        }
    }
    store_row_sums<M, R>(s, y, ldy, n, acc);
}

// Small-M variant: each 64-value block of R W rows is decoded once into 4R registers and
// pre-scaled by its absmax, then applied to M rows of x (each x vector loaded once per block and
// used for R rows): 4 FMAs per row of x, row of W and block. Blocks [b0, b1) only: the caller walks
// K in chunks whose x fits L1 and keeps the vector partial sums in acc ([R][M] x 16 floats).
template <int M, int R>
OLORA_TARGET_AVX512 void gemm_block(const float* xd, int k, const uint8_t* codes, const float* absmax, int n,
                                    int b0, int b1, float* accp, bool first) {
    const __m512 lut = _mm512_loadu_ps(kNf4CodeBook);
    const int nblk = k / 64;
    const int half = k / 2;
    const uint8_t* q = codes + static_cast<int64_t>(n) * half;
    const float* am = absmax + static_cast<int64_t>(n) * nblk;
    __m512 s[M][R];
    load_partials<M, R>(s, accp, first);
    for (int b = b0; b < b1; ++b) {
        __m512 w[R][4];
        OLORA_UNROLL
        for (int r = 0; r < R; ++r) {
            decode_block(q + static_cast<int64_t>(r) * half + 32 * b, lut, w[r]);
            const __m512 a = _mm512_set1_ps(am[static_cast<int64_t>(r) * nblk + b]);
            OLORA_UNROLL
            for (int j = 0; j < 4; ++j) w[r][j] = _mm512_mul_ps(w[r][j], a);
        }
        OLORA_UNROLL
        for (int i = 0; i < M; ++i) {
            const float* xe = xd + static_cast<int64_t>(i) * (k + kSmallPad) + 32 * b;
            const float* xo = xe + half + kSmallPad / 2;
            const __m512 x0 = _mm512_loadu_ps(xe), x1 = _mm512_loadu_ps(xo);
            const __m512 x2 = _mm512_loadu_ps(xe + 16), x3 = _mm512_loadu_ps(xo + 16);
            OLORA_UNROLL
        for (int r = 0; r < R; ++r) {
                s[i][r] = _mm512_fmadd_ps(w[r][0], x0, s[i][r]);
                s[i][r] = _mm512_fmadd_ps(w[r][1], x1, s[i][r]);
                s[i][r] = _mm512_fmadd_ps(w[r][2], x2, s[i][r]);
                s[i][r] = _mm512_fmadd_ps(w[r][3], x3, s[i][r]);
            }
        }
    }
    store_partials<M, R>(s, accp);
}

// R (W rows per block) so that 4R decoded + M*R accumulators + 4 x + code book fit 32 zmm.
template <int M>
constexpr int small_m_rows() {
    return M <= 2 ? 4 : M <= 4 ? 3 : 2;
}

// W rows [n0, n1) (at most kQuantTaskRows) against M rows of x; acc holds n1-n0 rows x M vectors.
template <int M>
OLORA_TARGET_AVX512 void gemm_rows(const float* xd, int k, const uint8_t* codes, const float* absmax, int n0, int n1,
                                   float* y, int64_t ldy, bool acc) {
    constexpr int R = small_m_rows<M>();
    alignas(64) float accb[kQuantTaskRows * M * 16];
    const int nblk = k / 64;
    // x chunk of all M rows (2 x 128 B per row and block) stays within ~24 KiB of L1.
    const int chunk = std::max(2, 24576 / (M * 256));
    for (int b0 = 0; b0 < nblk; b0 += chunk) {
        const int b1 = std::min(nblk, b0 + chunk);
        int n = n0;
        for (; n + R <= n1; n += R)
            gemm_block<M, R>(xd, k, codes, absmax, n, b0, b1, accb + (n - n0) * M * 16, b0 == 0);
        for (; n < n1; ++n) gemm_block<M, 1>(xd, k, codes, absmax, n, b0, b1, accb + (n - n0) * M * 16, b0 == 0);
    }
    // Row group layout [R][M] is row-major per W row, so W row n's vectors sit at (n - n0) * M.
    for (int n = n0; n < n1; ++n)
        for (int i = 0; i < M; ++i) {
            const float v = _mm512_reduce_add_ps(_mm512_load_ps(accb + ((n - n0) * M + i) * 16));
            float* o = y + i * ldy + n;
            *o = acc ? *o + v : v;
        }
}

template <int M>
void gemv_rows(const float* xd, int k, const uint8_t* codes, const float* absmax, int n0, int n1, float* y,
               int64_t ldy, bool acc) {
    constexpr int R = 4;
    int n = n0;
    for (; n + R <= n1; n += R) gemv_block<M, R>(xd, k, codes, absmax, n, y, ldy, acc);
    for (; n < n1; ++n) gemv_block<M, 1>(xd, k, codes, absmax, n, y, ldy, acc);
}

using GemvFn = void (*)(const float*, int, const uint8_t*, const float*, int, int, float*, int64_t, bool);

}  // namespace

void nf4_gemv_avx512(const float* xd, int m, int k, const uint8_t* codes, const float* absmax, int n0, int n1,
                     float* y, int64_t ldy, bool accumulate) {
    // Rows 3..8 go to nf4_gemm_small_avx512, which decodes each block once for all of them.
    static const GemvFn tab[kNf4SmallMinM - 1] = {gemv_rows<1>, gemv_rows<2>};
    tab[m - 1](xd, k, codes, absmax, n0, n1, y, ldy, accumulate);
}

void nf4_gemm_small_avx512(const float* xd, int m, int k, const uint8_t* codes, const float* absmax, int n0, int n1,
                           float* y, int64_t ldy, bool accumulate) {
    static const GemvFn tab[kNf4SmallMaxM - kNf4SmallMinM + 1] = {gemm_rows<3>, gemm_rows<4>, gemm_rows<5>,
                                                                  gemm_rows<6>, gemm_rows<7>, gemm_rows<8>};
    tab[m - kNf4SmallMinM](xd, k, codes, absmax, n0, n1, y, ldy, accumulate);
}

OLORA_TARGET_AVX512 void nf4_dequant_rows_avx512(const uint8_t* codes, const float* absmax, int k, int n0, int n1,
                                                 float* out) {
    const __m512 lut = _mm512_loadu_ps(kNf4CodeBook);
    const __m512i lo = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    const __m512i hi = _mm512_setr_epi32(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
    const int64_t b0 = static_cast<int64_t>(n0) * (k / 64), b1 = static_cast<int64_t>(n1) * (k / 64);
    for (int64_t b = b0; b < b1; ++b) {
        const uint8_t* q = codes + 32 * b;
        const __m512i i0 = _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(q)));
        const __m512i i1 = _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(q + 16)));
        const __m512 a = _mm512_set1_ps(absmax[b]);
        const __m512 h0 = _mm512_mul_ps(_mm512_permutexvar_ps(_mm512_srli_epi32(i0, 4), lut), a);
        const __m512 l0 = _mm512_mul_ps(_mm512_permutexvar_ps(i0, lut), a);
        const __m512 h1 = _mm512_mul_ps(_mm512_permutexvar_ps(_mm512_srli_epi32(i1, 4), lut), a);
        const __m512 l1 = _mm512_mul_ps(_mm512_permutexvar_ps(i1, lut), a);
        float* o = out + (b - b0) * 64;
        _mm512_storeu_ps(o, _mm512_permutex2var_ps(h0, lo, l0));
        _mm512_storeu_ps(o + 16, _mm512_permutex2var_ps(h0, hi, l0));
        _mm512_storeu_ps(o + 32, _mm512_permutex2var_ps(h1, lo, l1));
        _mm512_storeu_ps(o + 48, _mm512_permutex2var_ps(h1, hi, l1));
    }
}

}  // namespace olora

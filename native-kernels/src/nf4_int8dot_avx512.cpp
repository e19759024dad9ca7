// NF4 GEMV with int8 dot products (OLORA_COMPUTE_INT8; the scheme of IPEX's weight-only
// quantization in lowp_mode INT8 and of llama.cpp's 4-bit x 8-bit dots): x is quantized per 64-value
// block to int8 once per call, the code book is an int8 table (round(127 * code)), and `vpdpbusd`
// multiplies 64 code-activation pairs per instruction, where the float32 kernel needs a `vpermps`
// and an FMA per 16. Each 64-byte load of codes is two whole blocks; after one `vpshufb` per nibble
// half, the int32 lanes 0-7 of the dot hold block 2p and lanes 8-15 block 2p + 1, so one convert and
// one FMA per pair apply both blocks' scales (W absmax x x scale).
#include <algorithm>
#include <cmath>
#include <limits>

#include "simd.h"

namespace olora {
namespace {

// `vpdpbusd` multiplies unsigned by signed bytes: W codes enter as round(127 * code) + 128
// (1..255) and x as signed bytes; the 128 * sum(x) that the offset adds is subtracted by starting
// each block's accumulator at -128 * sum(xq) (kept in the pair's corr lanes 0 and 8).
constexpr int kCodeOffset = 128;

inline int8_t code_i8(int c) { return static_cast<int8_t>(std::lrint(127.0f * kNf4CodeBook[c])); }

// The unsigned code table, 16 bytes repeated over the 4 lanes of a zmm.
struct CodeTable {
    alignas(64) uint8_t bytes[64];
    CodeTable() {
        for (int j = 0; j < 64; ++j) bytes[j] = static_cast<uint8_t>(code_i8(j & 15) + kCodeOffset);
    }
};
const CodeTable kCodeTable;

// W rows [n, n + R) against M (1..8) rows of quantized x: each 64-byte load of codes is unpacked
// once and applied to every row of x.
template <int M, int R>
OLORA_TARGET_AVX512 void gemv_group(const Nf4QxPair* qx, int64_t qx_row_pairs, int k, const uint8_t* codes,
                                    const float* absmax, int n, float* y, int64_t ldy, bool acc) {
    const __m512i lut = _mm512_load_si512(kCodeTable.bytes);
    const __m512i low4 = _mm512_set1_epi8(0x0F);
    const int nblk = k / 64, npair = nblk / 2;
    const Nf4RowGroup<R> rows(codes, absmax, n, k);
    __m512 s[M][R];
    zero_sums(s);
    // Codes v (64 bytes: blocks 2p and 2p + 1, or one block zero-extended) and the blocks' absmax in
    // lanes 0-7 / 8-15 against every row of x.
    auto apply = [&](int r, int p, __m512i v, __m512 av) OLORA_TARGET_AVX512 {
        const __m512i we = _mm512_shuffle_epi8(lut, _mm512_and_si512(_mm512_srli_epi16(v, 4), low4));
        const __m512i wo = _mm512_shuffle_epi8(lut, _mm512_and_si512(v, low4));
        OLORA_UNROLL
        for (int i = 0; i < M; ++i) {
            const Nf4QxPair& xp = qx[i * qx_row_pairs + p];
            __m512i d = _mm512_load_si512(xp.corr);
            d = _mm512_dpbusd_epi32(d, we, _mm512_load_si512(xp.even));
            d = _mm512_dpbusd_epi32(d, wo, _mm512_load_si512(xp.odd));
            s[i][r] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(d), _mm512_mul_ps(av, _mm512_load_ps(xp.scale)), s[i][r]);
        }
    };
    for (int p = 0; p < npair; ++p) {
        rows.prefetch(p, 64, 2);
        OLORA_UNROLL
        for (int r = 0; r < R; ++r) {
            apply(r, p, _mm512_loadu_si512(rows.codes(r) + 64 * p), pair_absmax(rows.absmax(r), p));
        }
    }
    if (nblk % 2) {  // the last block alone: its x pair is zero in lanes 8-15
        OLORA_UNROLL
        for (int r = 0; r < R; ++r) {
            const uint8_t* qb = rows.codes(r) + 64 * npair;
            apply(r, npair, _mm512_zextsi256_si512(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(qb))),
                  _mm512_set1_ps(rows.absmax(r)[2 * npair]));
        }
    }
    store_row_sums<M, R>(s, y, ldy, n, acc);
}

template <int M>
void gemv_rows(const Nf4QxPair* qx, int64_t qx_row_pairs, int k, const uint8_t* codes, const float* absmax, int n0,
               int n1, float* y, int64_t ldy, bool acc) {
    // M x R accumulators, the R decoded code vectors and x's four vectors fit the 32 zmm registers.
    constexpr int R = M <= 2 ? 4 : M <= 4 ? 3 : 2;
    int n = n0;
    for (; n + R <= n1; n += R) gemv_group<M, R>(qx, qx_row_pairs, k, codes, absmax, n, y, ldy, acc);
    for (; n < n1; ++n) gemv_group<M, 1>(qx, qx_row_pairs, k, codes, absmax, n, y, ldy, acc);
}

}  // namespace

OLORA_TARGET_AVX512 bool nf4_quantize_x_int8(const float* x, int64_t ldx, int m, int k, Nf4QxPair* out) {
    const int nblk = k / 64, npair = (nblk + 1) / 2;
    const __m512i even_idx = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    const __m512i odd_idx = _mm512_add_epi32(even_idx, _mm512_set1_epi32(1));
    const __m512 sign = _mm512_set1_ps(-0.0f);
    for (int i = 0; i < m; ++i) {
        const float* xr = x + i * ldx;
        for (int p = 0; p < npair; ++p) {
            Nf4QxPair& o = out[static_cast<int64_t>(i) * npair + p];
            _mm512_store_si512(o.corr, _mm512_setzero_si512());
            if (2 * p + 1 == nblk) {  // odd block count: the last pair's second half is zero
                _mm256_store_si256(reinterpret_cast<__m256i*>(o.even + 32), _mm256_setzero_si256());
                _mm256_store_si256(reinterpret_cast<__m256i*>(o.odd + 32), _mm256_setzero_si256());
                _mm256_store_ps(o.scale + 8, _mm256_setzero_ps());
            }
            for (int h = 0; h < 2 && 2 * p + h < nblk; ++h) {  // the pair's two blocks
                const float* xb = xr + (2 * p + h) * 64;
                const __m512 x0 = _mm512_loadu_ps(xb), x1 = _mm512_loadu_ps(xb + 16);
                const __m512 x2 = _mm512_loadu_ps(xb + 32), x3 = _mm512_loadu_ps(xb + 48);
                // fpclass 0x99: QNaN, SNaN, +inf, -inf.
                if (_mm512_fpclass_ps_mask(x0, 0x99) | _mm512_fpclass_ps_mask(x1, 0x99) |
                    _mm512_fpclass_ps_mask(x2, 0x99) | _mm512_fpclass_ps_mask(x3, 0x99))
                    return false;
                const __m512 a = _mm512_max_ps(_mm512_max_ps(_mm512_andnot_ps(sign, x0), _mm512_andnot_ps(sign, x1)),
                                               _mm512_max_ps(_mm512_andnot_ps(sign, x2), _mm512_andnot_ps(sign, x3)));
                const float mx = _mm512_reduce_max_ps(a);
                // 127 / mx overflows below ~3.7e-37 (denormals included): such a block takes the
                // float32 kernels rather than rounding to nothing.
                if (mx > 0.f && mx < 127.f / std::numeric_limits<float>::max()) return false;
                const __m512 inv = _mm512_set1_ps(mx > 0.f ? 127.f / mx : 0.f);
                // Round to nearest even (MXCSR default); |x| <= mx keeps every value in [-127, 127].
                const __m512i e0 = _mm512_cvtps_epi32(_mm512_mul_ps(_mm512_permutex2var_ps(x0, even_idx, x1), inv));
                const __m512i e1 = _mm512_cvtps_epi32(_mm512_mul_ps(_mm512_permutex2var_ps(x2, even_idx, x3), inv));
                const __m512i o0 = _mm512_cvtps_epi32(_mm512_mul_ps(_mm512_permutex2var_ps(x0, odd_idx, x1), inv));
                const __m512i o1 = _mm512_cvtps_epi32(_mm512_mul_ps(_mm512_permutex2var_ps(x2, odd_idx, x3), inv));
                _mm_store_si128(reinterpret_cast<__m128i*>(o.even + 32 * h), _mm512_cvtepi32_epi8(e0));
                _mm_store_si128(reinterpret_cast<__m128i*>(o.even + 32 * h + 16), _mm512_cvtepi32_epi8(e1));
                _mm_store_si128(reinterpret_cast<__m128i*>(o.odd + 32 * h), _mm512_cvtepi32_epi8(o0));
                _mm_store_si128(reinterpret_cast<__m128i*>(o.odd + 32 * h + 16), _mm512_cvtepi32_epi8(o1));
                const int32_t sum =
                    _mm512_reduce_add_epi32(_mm512_add_epi32(_mm512_add_epi32(e0, e1), _mm512_add_epi32(o0, o1)));
                o.corr[8 * h] = -kCodeOffset * sum;
                // x = xq * mx / 127, W = code_i8 * absmax / 127.
                _mm256_store_ps(o.scale + 8 * h, _mm256_set1_ps(mx / (127.f * 127.f)));
            }
        }
    }
    return true;
}

void nf4_gemv_int8_avx512(const Nf4QxPair* qx, int m, int k, const uint8_t* codes, const float* absmax, int n0, int n1,
                          float* y, int64_t ldy, bool accumulate) {
    const int64_t pairs = (k / 64 + 1) / 2;
    using Fn = void (*)(const Nf4QxPair*, int64_t, int, const uint8_t*, const float*, int, int, float*, int64_t, bool);
    static const Fn tab[kNf4Int8MaxM] = {gemv_rows<1>, gemv_rows<2>, gemv_rows<3>, gemv_rows<4>,
                                         gemv_rows<5>, gemv_rows<6>, gemv_rows<7>, gemv_rows<8>};
    tab[m - 1](qx, pairs, k, codes, absmax, n0, n1, y, ldy, accumulate);
}

}  // namespace olora

// NF4 GEMV with bfloat16 dot products (OLORA_COMPUTE_BF16, M <= 8, K % 64 == 0): the arithmetic that
// bitsandbytes users get with bnb_4bit_compute_dtype=bfloat16, x and the code book rounded to
// bfloat16, products summed in float32. The float32 kernel (nf4_avx512.cpp) spends a `vpmovzxbd`, a
// `vpermps` and an FMA per 16 weights and is bound by them at batch 1 on AVX-512 machines that run
// 512-bit operations as two halves; here 32 code bytes widen to 32 words at once, one `vpermw` per
// nibble half looks up 32 bfloat16 code values, and `vdpbf16ps` multiplies 32 pairs per instruction.
// The block's absmax is applied once per block in float32.
#include <limits>

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

// W rows [n, n + R) against M rows of x (bfloat16 blocks, as nf4_x_to_bf16 writes them).
template <int M, int R>
OLORA_TARGET_AVX512 void gemv_group(const Nf4Bf16Block* xb, int k, const uint8_t* codes, const float* absmax, int n,
                                    float* y, int64_t ldy, bool acc) {
    const __m512i lut = _mm512_load_si512(kBf16Codes.words);
    const int nblk = k / 64;
    const Nf4RowGroup<R> rows(codes, absmax, n, k);
    __m512 s[M][R];
    zero_sums(s);
    for (int b = 0; b < nblk; ++b) {
        rows.prefetch(b, 32, 1);
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
    store_row_sums<M, R>(s, y, ldy, n, acc);
}

template <int M>
void gemv_rows(const Nf4Bf16Block* xb, int k, const uint8_t* codes, const float* absmax, int n0, int n1, float* y,
               int64_t ldy, bool acc) {
    // M x R accumulators, R pairs of decoded code vectors and the table fit the 32 zmm registers.
    constexpr int R = M <= 2 ? 4 : M <= 4 ? 3 : 2;
    int n = n0;
    for (; n + R <= n1; n += R) gemv_group<M, R>(xb, k, codes, absmax, n, y, ldy, acc);
    for (; n < n1; ++n) gemv_group<M, 1>(xb, k, codes, absmax, n, y, ldy, acc);
}

using GemvFn = void (*)(const Nf4Bf16Block*, int, const uint8_t*, const float*, int, int, float*, int64_t, bool);

}  // namespace

OLORA_TARGET_AVX512 bool nf4_x_to_bf16(const float* x, int64_t ldx, int m, int k, Nf4Bf16Block* out) {
    const __m512i even_idx = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    const __m512i odd_idx = _mm512_add_epi32(even_idx, _mm512_set1_epi32(1));
    const __m512 sign = _mm512_set1_ps(-0.0f), zero = _mm512_setzero_ps();
    // vdpbf16ps treats subnormal inputs and results as zero whatever MXCSR says, and a finite |x| above the
    // largest bfloat16 (0x1.fep127) may round to inf: such an x takes the float32 kernels. From 2^-100 on, a
    // product with a nonzero code (|code| >= 0.0796) stays normal. NaN and inf pass (the compares are false).
    const __m512 tiny = _mm512_set1_ps(0x1p-100f), huge = _mm512_set1_ps(0x1.fep127f);
    const __m512 fmax = _mm512_set1_ps(std::numeric_limits<float>::max());
    auto uncarried = [&](__m512 v) OLORA_TARGET_AVX512 {
        const __m512 a = _mm512_andnot_ps(sign, v);
        return (_mm512_cmp_ps_mask(a, zero, _CMP_NEQ_OQ) & _mm512_cmp_ps_mask(a, tiny, _CMP_LT_OQ)) |
               (_mm512_cmp_ps_mask(a, huge, _CMP_GE_OQ) & _mm512_cmp_ps_mask(a, fmax, _CMP_LE_OQ));
    };
    for (int i = 0; i < m; ++i) {
        const float* xr = x + i * ldx;
        for (int b = 0; b < k / 64; ++b) {
            const float* xs = xr + 64 * b;
            const __m512 x0 = _mm512_loadu_ps(xs), x1 = _mm512_loadu_ps(xs + 16);
            const __m512 x2 = _mm512_loadu_ps(xs + 32), x3 = _mm512_loadu_ps(xs + 48);
            if (uncarried(x0) | uncarried(x1) | uncarried(x2) | uncarried(x3)) return false;
            // Words 0-31: elements 0, 2, ... 62; words 32-63: elements 1, 3, ... 63 (rounded to nearest even).
            uint16_t* o = out[static_cast<int64_t>(i) * (k / 64) + b].w;
            const __m512bh even = _mm512_cvtne2ps_pbh(_mm512_permutex2var_ps(x2, even_idx, x3),
                                                      _mm512_permutex2var_ps(x0, even_idx, x1));
            const __m512bh odd = _mm512_cvtne2ps_pbh(_mm512_permutex2var_ps(x2, odd_idx, x3),
                                                     _mm512_permutex2var_ps(x0, odd_idx, x1));
            _mm512_store_si512(o, reinterpret_cast<const __m512i&>(even));
            _mm512_store_si512(o + 32, reinterpret_cast<const __m512i&>(odd));
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

// The fused decode-step kernels (fused_impl.h) over 16-float AVX-512 vectors.
#include <cstdint>
#include <cstring>

#include "fused_ops.h"
#include "simd.h"

#pragma GCC push_options
#pragma GCC target("avx512f,avx512bw,avx512vl,avx512dq,avx2,fma,f16c")

namespace olora {
namespace {

struct V {
    using R = __m512;
    static constexpr int W = 16;
    static constexpr bool kLibmExp = false;  // vexp in fused_impl.h
    static constexpr int kRegs = 32;

    static __mmask16 mask(int n) { return static_cast<__mmask16>((1u << n) - 1u); }
    static R zero() { return _mm512_setzero_ps(); }
    static R set1(float x) { return _mm512_set1_ps(x); }
    static R load(const float* p) { return _mm512_loadu_ps(p); }
    static R loadn(const float* p, int n) { return _mm512_maskz_loadu_ps(mask(n), p); }
    static R loadn_or(const float* p, int n, float fill) { return _mm512_mask_loadu_ps(set1(fill), mask(n), p); }
    static void store(float* p, R v) { _mm512_storeu_ps(p, v); }
    static void storen(float* p, R v, int n) { _mm512_mask_storeu_ps(p, mask(n), v); }
    static R widen(__m256i h) { return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16)); }
    static R load_bf16(const uint16_t* p) { return widen(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p))); }
    static R loadn_bf16(const uint16_t* p, int n) { return widen(_mm256_maskz_loadu_epi16(mask(n), p)); }
    // Round to nearest even in integer arithmetic (vcvtneps2bf16 would flush denormals), NaN kept quiet.
    static __m256i narrow(R v) {
        const __m512i u = _mm512_castps_si512(v);
        const __m512i hi = _mm512_srli_epi32(u, 16);
        const __m512i bias = _mm512_add_epi32(_mm512_and_si512(hi, _mm512_set1_epi32(1)), _mm512_set1_epi32(0x7fff));
        __m512i r = _mm512_srli_epi32(_mm512_add_epi32(u, bias), 16);
        r = _mm512_mask_mov_epi32(r, _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q),
                                  _mm512_or_si512(hi, _mm512_set1_epi32(0x40)));
        return _mm512_cvtepi32_epi16(r);
    }
    static void store_bf16(uint16_t* p, R v) { _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), narrow(v)); }
    static void storen_bf16(uint16_t* p, R v, int n) { _mm256_mask_storeu_epi16(p, mask(n), narrow(v)); }
    static R add(R a, R b) { return _mm512_add_ps(a, b); }
    static R sub(R a, R b) { return _mm512_sub_ps(a, b); }
    static R mul(R a, R b) { return _mm512_mul_ps(a, b); }
    static R div(R a, R b) { return _mm512_div_ps(a, b); }
    static R fma(R a, R b, R c) { return _mm512_fmadd_ps(a, b, c); }
    static R max(R a, R b) { return _mm512_max_ps(a, b); }  // b when either is NaN
    static float reduce_add(R v) { return _mm512_reduce_add_ps(v); }
    static float reduce_max(R v) { return _mm512_reduce_max_ps(v); }
    static float lane0(R v) { return _mm512_cvtss_f32(v); }
    // Per 128-bit lane: unpack pairs (a, b) and (c, d), add; shuffle the halves together, add; then
    // add the four lanes: out = {sum a, sum b, sum c, sum d}.
    static void reduce4(R a, R b, R c, R d, float* out) {
        const R ab = _mm512_add_ps(_mm512_unpacklo_ps(a, b), _mm512_unpackhi_ps(a, b));
        const R cd = _mm512_add_ps(_mm512_unpacklo_ps(c, d), _mm512_unpackhi_ps(c, d));
        const R t = _mm512_add_ps(_mm512_shuffle_ps(ab, cd, _MM_SHUFFLE(1, 0, 1, 0)),
                                  _mm512_shuffle_ps(ab, cd, _MM_SHUFFLE(3, 2, 3, 2)));
        const __m256 h = _mm256_add_ps(_mm512_castps512_ps256(t), _mm512_extractf32x8_ps(t, 1));
        _mm_storeu_ps(out, _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1)));
    }
    static bool any_nan(R v) { return _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q) != 0; }
    static int first_match(R v, float m) {
        const __mmask16 k = _mm512_cmp_ps_mask(v, set1(m), _CMP_EQ_OQ) | _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
        return k ? __builtin_ctz(k) : -1;
    }
    static int first_above(R v, float t) {
        const __mmask16 k = _mm512_cmp_ps_mask(v, set1(t), _CMP_GT_OQ) | _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
        return k ? __builtin_ctz(k) : -1;
    }
    static R min(R a, R b) { return _mm512_min_ps(a, b); }
    static R round(R x) { return _mm512_roundscale_ps(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
    static __m512 pow2(__m512i n) {
        return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_add_epi32(n, _mm512_set1_epi32(127)), 23));
    }
    // y * 2^n for integral n in [-150, 128], as two factors so that each stays a normal float.
    static R scale2(R y, R n) {
        const __m512i ni = _mm512_cvtps_epi32(n);
        const __m512i n1 = _mm512_srai_epi32(ni, 1);
        return mul(mul(y, pow2(n1)), pow2(_mm512_sub_epi32(ni, n1)));
    }
    // x > limit ? value : y, and x < limit ? value : y (false for NaN x).
    static R if_greater(R x, R limit, R value, R y) {
        return _mm512_mask_mov_ps(y, _mm512_cmp_ps_mask(x, limit, _CMP_GT_OQ), value);
    }
    static R if_less(R x, R limit, R value, R y) {
        return _mm512_mask_mov_ps(y, _mm512_cmp_ps_mask(x, limit, _CMP_LT_OQ), value);
    }
};

#include "fused_impl.h"

}  // namespace
}  // namespace olora

#pragma GCC pop_options

namespace olora {
const FusedOps& fused_ops_avx512() {
    static const FusedOps ops = make_ops();
    return ops;
}
}  // namespace olora

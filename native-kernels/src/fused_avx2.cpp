// The fused decode-step kernels (fused_impl.h) over 8-float AVX2 + FMA vectors.
#include <cstdint>
#include <cstring>

#include "fused_ops.h"
#include "simd.h"

#pragma GCC push_options
#pragma GCC target("avx2,fma,f16c")

namespace olora {
namespace {

struct V {
    using R = __m256;
    static constexpr int W = 8;
    static constexpr bool kLibmExp = false;  // vexp in fused_impl.h
    static constexpr int kRegs = 16;

    static __m256i mask(int n) {
        return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    }
    static R zero() { return _mm256_setzero_ps(); }
    static R set1(float x) { return _mm256_set1_ps(x); }
    static R load(const float* p) { return _mm256_loadu_ps(p); }
    static R loadn(const float* p, int n) { return _mm256_maskload_ps(p, mask(n)); }
    static R loadn_or(const float* p, int n, float fill) {
        const __m256i m = mask(n);
        return _mm256_blendv_ps(set1(fill), _mm256_maskload_ps(p, m), _mm256_castsi256_ps(m));
    }
    static void store(float* p, R v) { _mm256_storeu_ps(p, v); }
    static void storen(float* p, R v, int n) { _mm256_maskstore_ps(p, mask(n), v); }
    static R widen(__m128i h) { return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16)); }
    static R load_bf16(const uint16_t* p) { return widen(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))); }
    static R loadn_bf16(const uint16_t* p, int n) {
        alignas(16) uint16_t t[8] = {0, 0, 0, 0, 0, 0, 0, 0};
        for (int i = 0; i < n; ++i) t[i] = p[i];
        return widen(_mm_load_si128(reinterpret_cast<const __m128i*>(t)));
    }
    // Round to nearest even in integer arithmetic, NaN kept quiet.
    static __m128i narrow(R v) {
        const __m256i u = _mm256_castps_si256(v);
        const __m256i hi = _mm256_srli_epi32(u, 16);
        const __m256i bias = _mm256_add_epi32(_mm256_and_si256(hi, _mm256_set1_epi32(1)), _mm256_set1_epi32(0x7fff));
        __m256i r = _mm256_srli_epi32(_mm256_add_epi32(u, bias), 16);
        const __m256i nan = _mm256_castps_si256(_mm256_cmp_ps(v, v, _CMP_UNORD_Q));
        r = _mm256_blendv_epi8(r, _mm256_or_si256(hi, _mm256_set1_epi32(0x40)), nan);
        return _mm_packus_epi32(_mm256_castsi256_si128(r), _mm256_extracti128_si256(r, 1));
    }
    static void store_bf16(uint16_t* p, R v) { _mm_storeu_si128(reinterpret_cast<__m128i*>(p), narrow(v)); }
    static void storen_bf16(uint16_t* p, R v, int n) {
        alignas(16) uint16_t t[8];
        _mm_store_si128(reinterpret_cast<__m128i*>(t), narrow(v));
        for (int i = 0; i < n; ++i) p[i] = t[i];
    }
    static R add(R a, R b) { return _mm256_add_ps(a, b); }
    static R sub(R a, R b) { return _mm256_sub_ps(a, b); }
    static R mul(R a, R b) { return _mm256_mul_ps(a, b); }
    static R div(R a, R b) { return _mm256_div_ps(a, b); }
    static R fma(R a, R b, R c) { return _mm256_fmadd_ps(a, b, c); }
    static R max(R a, R b) { return _mm256_max_ps(a, b); }  // b when either is NaN
    static float reduce_add(R v) {
        __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
        s = _mm_add_ps(s, _mm_movehl_ps(s, s));
        return _mm_cvtss_f32(_mm_add_ss(s, _mm_shuffle_ps(s, s, 1)));
    }
    static float reduce_max(R v) {
        __m128 s = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
        s = _mm_max_ps(s, _mm_movehl_ps(s, s));
        return _mm_cvtss_f32(_mm_max_ss(s, _mm_shuffle_ps(s, s, 1)));
    }
    static float lane0(R v) { return _mm256_cvtss_f32(v); }
    // hadd(a, b), hadd(c, d), hadd of those: per 128-bit half {a, b, c, d} partial sums; add the halves.
    static void reduce4(R a, R b, R c, R d, float* out) {
        const R t = _mm256_hadd_ps(_mm256_hadd_ps(a, b), _mm256_hadd_ps(c, d));
        _mm_storeu_ps(out, _mm_add_ps(_mm256_castps256_ps128(t), _mm256_extractf128_ps(t, 1)));
    }
    static bool any_nan(R v) { return _mm256_movemask_ps(_mm256_cmp_ps(v, v, _CMP_UNORD_Q)) != 0; }
    static int first_match(R v, float m) {
        const int k =
            _mm256_movemask_ps(_mm256_or_ps(_mm256_cmp_ps(v, set1(m), _CMP_EQ_OQ), _mm256_cmp_ps(v, v, _CMP_UNORD_Q)));
        return k ? __builtin_ctz(static_cast<unsigned>(k)) : -1;
    }
    static int first_above(R v, float t) {
        const int k =
            _mm256_movemask_ps(_mm256_or_ps(_mm256_cmp_ps(v, set1(t), _CMP_GT_OQ), _mm256_cmp_ps(v, v, _CMP_UNORD_Q)));
        return k ? __builtin_ctz(static_cast<unsigned>(k)) : -1;
    }
    static R min(R a, R b) { return _mm256_min_ps(a, b); }
    static R round(R x) { return _mm256_round_ps(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
    static R pow2(__m256i n) {
        return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n, _mm256_set1_epi32(127)), 23));
    }
    // y * 2^n for integral n in [-150, 128], as two factors so that each stays a normal float.
    static R scale2(R y, R n) {
        const __m256i ni = _mm256_cvtps_epi32(n);
        const __m256i n1 = _mm256_srai_epi32(ni, 1);
        return mul(mul(y, pow2(n1)), pow2(_mm256_sub_epi32(ni, n1)));
    }
    // x > limit ? value : y, and x < limit ? value : y (false for NaN x).
    static R if_greater(R x, R limit, R value, R y) {
        return _mm256_blendv_ps(y, value, _mm256_cmp_ps(x, limit, _CMP_GT_OQ));
    }
    static R if_less(R x, R limit, R value, R y) {
        return _mm256_blendv_ps(y, value, _mm256_cmp_ps(x, limit, _CMP_LT_OQ));
    }
};

#include "fused_impl.h"

}  // namespace
}  // namespace olora

#pragma GCC pop_options

namespace olora {
const FusedOps& fused_ops_avx2() {
    static const FusedOps ops = make_ops();
    return ops;
}
}  // namespace olora

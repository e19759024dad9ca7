// AVX-512 int8 (per-row scale) kernels: fused GEMV for up to 8 rows of x (3..8 K-chunked) and row dequantization
// for the tiled (prefill) path. Any K; the tail is masked.
#include <algorithm>

#include "simd.h"

namespace olora {
namespace {

OLORA_TARGET_AVX512 inline __m512 cvt16(const int8_t* p) {
    return _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))));
}
OLORA_TARGET_AVX512 inline __m512 cvt16m(const int8_t* p, __mmask16 m) {
    return _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_maskz_loadu_epi8(m, p)));
}

// R rows of W at a time so each x vector loaded is used R times.
template <int M, int R>
OLORA_TARGET_AVX512 void gemv_block(const float* x, int64_t ldx, int k, const int8_t* q, const float* scales, int n,
                                    float* y, int64_t ldy, bool acc) {
    const int8_t* qr = q + static_cast<int64_t>(n) * k;
    // R short row streams: prefetch the next group's rows (see prefetch_next_rows), R * 16 bytes per step.
    const bool pf = prefetch_next_rows(k);
    const char* next = reinterpret_cast<const char*>(qr + static_cast<int64_t>(R) * k);
    __m512 s[M][R];
    zero_sums(s);
    int kk = 0;
    for (; kk + 16 <= k; kk += 16) {
        // One prefetch per new line of the next group's run (R * 16 bytes per step).
        if (pf && (kk * R) % 64 < R * 16) _mm_prefetch(next + static_cast<int64_t>(kk) * R, _MM_HINT_T0);
        __m512 w[R];
        for (int r = 0; r < R; ++r) w[r] = cvt16(qr + static_cast<int64_t>(r) * k + kk);
        for (int i = 0; i < M; ++i) {
            const __m512 xv = _mm512_loadu_ps(x + i * ldx + kk);
            for (int r = 0; r < R; ++r) s[i][r] = _mm512_fmadd_ps(w[r], xv, s[i][r]);
        }
    }
    if (kk < k) {
        const __mmask16 mk = static_cast<__mmask16>((1u << (k - kk)) - 1u);
        __m512 w[R];
        for (int r = 0; r < R; ++r) w[r] = cvt16m(qr + static_cast<int64_t>(r) * k + kk, mk);
        for (int i = 0; i < M; ++i) {
            const __m512 xv = _mm512_maskz_loadu_ps(mk, x + i * ldx + kk);
            for (int r = 0; r < R; ++r) s[i][r] = _mm512_fmadd_ps(w[r], xv, s[i][r]);
        }
    }
    for (int i = 0; i < M; ++i)
        for (int r = 0; r < R; ++r) {
            const float v = _mm512_reduce_add_ps(s[i][r]) * scales[n + r];
            float* o = y + i * ldy + n + r;
            *o = acc ? *o + v : v;
        }
}

template <int M>
void gemv_rows(const float* x, int64_t ldx, int k, const int8_t* q, const float* scales, int n0, int n1, float* y,
               int64_t ldy, bool acc) {
    constexpr int R = M <= 2 ? 4 : 2;
    int n = n0;
    for (; n + R <= n1; n += R) gemv_block<M, R>(x, ldx, k, q, scales, n, y, ldy, acc);
    for (; n < n1; ++n) gemv_block<M, 1>(x, ldx, k, q, scales, n, y, ldy, acc);
}


// Small M (3..8): as gemv_block, but over K columns [k0, k1) only with the vector partial sums
// kept in accp ([R][M] x 16 floats), so the caller can walk K in chunks whose x rows stay in L1
// for all W rows of a task instead of streaming all M rows of x from L2 once per R W rows.
template <int M, int R>
OLORA_TARGET_AVX512 void small_block(const float* x, int64_t ldx, int k, const int8_t* q, int n, int k0, int k1,
                                     float* accp, bool first) {
    const int8_t* qr = q + static_cast<int64_t>(n) * k;
    __m512 s[M][R];
    load_partials<M, R>(s, accp, first);
    int kk = k0;
    for (; kk + 16 <= k1; kk += 16) {
        __m512 w[R];
        OLORA_UNROLL
        for (int r = 0; r < R; ++r) w[r] = cvt16(qr + static_cast<int64_t>(r) * k + kk);
        OLORA_UNROLL
        for (int i = 0; i < M; ++i) {
            const __m512 xv = _mm512_loadu_ps(x + i * ldx + kk);
            OLORA_UNROLL
            for (int r = 0; r < R; ++r) s[i][r] = _mm512_fmadd_ps(w[r], xv, s[i][r]);
        }
    }
    if (kk < k1) {
        const __mmask16 mk = static_cast<__mmask16>((1u << (k1 - kk)) - 1u);
        __m512 w[R];
        for (int r = 0; r < R; ++r) w[r] = cvt16m(qr + static_cast<int64_t>(r) * k + kk, mk);
        for (int i = 0; i < M; ++i) {
            const __m512 xv = _mm512_maskz_loadu_ps(mk, x + i * ldx + kk);
            for (int r = 0; r < R; ++r) s[i][r] = _mm512_fmadd_ps(w[r], xv, s[i][r]);
        }
    }
    store_partials<M, R>(s, accp);
}

template <int M>
OLORA_TARGET_AVX512 void small_rows(const float* x, int64_t ldx, int k, const int8_t* q, const float* scales, int n0,
                                    int n1, float* y, int64_t ldy, bool acc) {
    constexpr int R = M <= 4 ? 4 : 3;
    alignas(64) float accb[kQuantTaskRows * M * 16];
    // K chunk (a multiple of 16) so that M rows of x take ~24 KiB of L1.
    const int kc = std::max(256, (24576 / (M * 4)) & ~15);
    for (int k0 = 0; k0 < k; k0 += kc) {
        const int k1 = std::min(k, k0 + kc);
        int n = n0;
        for (; n + R <= n1; n += R) small_block<M, R>(x, ldx, k, q, n, k0, k1, accb + (n - n0) * M * 16, k0 == 0);
        for (; n < n1; ++n) small_block<M, 1>(x, ldx, k, q, n, k0, k1, accb + (n - n0) * M * 16, k0 == 0);
    }
    for (int n = n0; n < n1; ++n)
        for (int i = 0; i < M; ++i) {
            const float v = _mm512_reduce_add_ps(_mm512_load_ps(accb + ((n - n0) * M + i) * 16)) * scales[n];
            float* o = y + i * ldy + n;
            *o = acc ? *o + v : v;
        }
}

using GemvFn = void (*)(const float*, int64_t, int, const int8_t*, const float*, int, int, float*, int64_t, bool);

}  // namespace

void int8_gemv_avx512(const float* x, int64_t ldx, int m, int k, const int8_t* q, const float* scales, int n0, int n1,
                      float* y, int64_t ldy, bool accumulate) {
    static const GemvFn tab[kFusedMaxM] = {gemv_rows<1>,  gemv_rows<2>,  small_rows<3>, small_rows<4>,
                                           small_rows<5>, small_rows<6>, small_rows<7>, small_rows<8>};
    tab[m - 1](x, ldx, k, q, scales, n0, n1, y, ldy, accumulate);
}

OLORA_TARGET_AVX512 void int8_dequant_rows_avx512(const int8_t* q, const float* scales, int k, int n0, int n1,
                                                  float* out) {
    for (int n = n0; n < n1; ++n) {
        const int8_t* qr = q + static_cast<int64_t>(n) * k;
        float* o = out + static_cast<int64_t>(n - n0) * k;
        const __m512 s = _mm512_set1_ps(scales[n]);
        int kk = 0;
        for (; kk + 16 <= k; kk += 16) _mm512_storeu_ps(o + kk, _mm512_mul_ps(cvt16(qr + kk), s));
        if (kk < k) {
            const __mmask16 mk = static_cast<__mmask16>((1u << (k - kk)) - 1u);
            _mm512_mask_storeu_ps(o + kk, mk, _mm512_mul_ps(cvt16m(qr + kk, mk), s));
        }
    }
}

}  // namespace olora

// AVX-512 NT product (register-blocked 4x4 micro-kernel over 16-float vectors, masked K tail)
// and LoRA expand (rows x 64-column accumulators, masked column tail). f32 and bf16 storage.
#include "simd.h"

namespace olora {
namespace {

OLORA_TARGET_AVX512 inline __m512 ld(const float* p) { return _mm512_loadu_ps(p); }
OLORA_TARGET_AVX512 inline __m512 ld(const uint16_t* p) {
    const __m512i h = _mm512_cvtepu16_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
    return _mm512_castsi512_ps(_mm512_slli_epi32(h, 16));
}
OLORA_TARGET_AVX512 inline __m512 ldm(const float* p, __mmask16 m) { return _mm512_maskz_loadu_ps(m, p); }
OLORA_TARGET_AVX512 inline __m512 ldm(const uint16_t* p, __mmask16 m) {
    const __m512i h = _mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(m, p));
    return _mm512_castsi512_ps(_mm512_slli_epi32(h, 16));
}
OLORA_TARGET_AVX512 inline void stm(float* p, __m512 v, __mmask16 m) { _mm512_mask_storeu_ps(p, m, v); }
OLORA_TARGET_AVX512 inline void stm(uint16_t* p, __m512 v, __mmask16 m) {
    const __m256i h = (__m256i)_mm512_cvtneps_pbh(v);
    _mm256_mask_storeu_epi16(p, m, h);
}

inline __mmask16 tail_mask(int n) { return static_cast<__mmask16>((1u << n) - 1u); }

template <typename TX, typename TW, int MR, int NR>
OLORA_TARGET_AVX512 void nt_block(const TX* x, int64_t ldx, const TW* w, int64_t ldw, float* c, int64_t ldc, int k,
                                  bool acc) {
    // Few accumulators: two interleaved sets over K so the FMA chains overlap.
    constexpr int U = (MR * NR <= 4) ? 2 : 1;
    __m512 s[U][MR][NR];
    for (int u = 0; u < U; ++u)
        for (int i = 0; i < MR; ++i)
            for (int j = 0; j < NR; ++j) s[u][i][j] = _mm512_setzero_ps();
    int kk = 0;
    for (; kk + 16 * U <= k; kk += 16 * U) {
        for (int u = 0; u < U; ++u) {
            __m512 xv[MR];
            for (int i = 0; i < MR; ++i) xv[i] = ld(x + i * ldx + kk + 16 * u);
            for (int j = 0; j < NR; ++j) {
                const __m512 wv = ld(w + j * ldw + kk + 16 * u);
                for (int i = 0; i < MR; ++i) s[u][i][j] = _mm512_fmadd_ps(xv[i], wv, s[u][i][j]);
            }
        }
    }
    for (; kk < k; kk += 16) {
        const __mmask16 mk = tail_mask(k - kk < 16 ? k - kk : 16);
        __m512 xv[MR];
        for (int i = 0; i < MR; ++i) xv[i] = ldm(x + i * ldx + kk, mk);
        for (int j = 0; j < NR; ++j) {
            const __m512 wv = ldm(w + j * ldw + kk, mk);
            for (int i = 0; i < MR; ++i) s[0][i][j] = _mm512_fmadd_ps(xv[i], wv, s[0][i][j]);
        }
    }
    for (int i = 0; i < MR; ++i)
        for (int j = 0; j < NR; ++j) {
            __m512 t = s[0][i][j];
            if (U > 1) t = _mm512_add_ps(t, s[U - 1][i][j]);
            const float r = _mm512_reduce_add_ps(t);
            float* o = c + i * ldc + j;
            *o = acc ? *o + r : r;
        }
}

template <typename TX, typename TW>
using NtFn = void (*)(const TX*, int64_t, const TW*, int64_t, float*, int64_t, int, bool);

template <typename TX, typename TW>
void nt_driver(const TX* x, int64_t ldx, const TW* w, int64_t ldw, float* c, int64_t ldc, int m, int n, int k,
               bool acc) {
    static const NtFn<TX, TW> tab[4][4] = {
        {nt_block<TX, TW, 1, 1>, nt_block<TX, TW, 1, 2>, nt_block<TX, TW, 1, 3>, nt_block<TX, TW, 1, 4>},
        {nt_block<TX, TW, 2, 1>, nt_block<TX, TW, 2, 2>, nt_block<TX, TW, 2, 3>, nt_block<TX, TW, 2, 4>},
        {nt_block<TX, TW, 3, 1>, nt_block<TX, TW, 3, 2>, nt_block<TX, TW, 3, 3>, nt_block<TX, TW, 3, 4>},
        {nt_block<TX, TW, 4, 1>, nt_block<TX, TW, 4, 2>, nt_block<TX, TW, 4, 3>, nt_block<TX, TW, 4, 4>},
    };
    for (int j = 0; j < n; j += 4) {
        const int nr = n - j < 4 ? n - j : 4;
        for (int i = 0; i < m; i += 4) {
            const int mr = m - i < 4 ? m - i : 4;
            tab[mr - 1][nr - 1](x + i * ldx, ldx, w + j * ldw, ldw, c + i * ldc + j, ldc, k, acc);
        }
    }
}

template <typename TB, typename TY, int MR>
OLORA_TARGET_AVX512 void expand_rows(const float* v, int64_t ldv, const TB* b, int64_t ldb, TY* y, int64_t ldy, int r,
                                     int j0, int j1, float scale) {
    const __m512 sc = _mm512_set1_ps(scale);
    int j = j0;
    for (; j + 64 <= j1; j += 64) {
        __m512 a[MR][4];
        for (int i = 0; i < MR; ++i)
            for (int q = 0; q < 4; ++q) a[i][q] = _mm512_setzero_ps();
        for (int kk = 0; kk < r; ++kk) {
            const TB* br = b + kk * ldb + j;
            __m512 bv[4];
            for (int q = 0; q < 4; ++q) bv[q] = ld(br + 16 * q);
            for (int i = 0; i < MR; ++i) {
                const __m512 vb = _mm512_set1_ps(v[i * ldv + kk]);
                for (int q = 0; q < 4; ++q) a[i][q] = _mm512_fmadd_ps(vb, bv[q], a[i][q]);
            }
        }
        for (int i = 0; i < MR; ++i)
            for (int q = 0; q < 4; ++q) {
                TY* yp = y + i * ldy + j + 16 * q;
                stm(yp, _mm512_fmadd_ps(a[i][q], sc, ld(yp)), 0xFFFF);
            }
    }
    for (; j < j1; j += 16) {
        const __mmask16 mk = tail_mask(j1 - j < 16 ? j1 - j : 16);
        __m512 a[MR];
        for (int i = 0; i < MR; ++i) a[i] = _mm512_setzero_ps();
        for (int kk = 0; kk < r; ++kk) {
            const __m512 bv = ldm(b + kk * ldb + j, mk);
            for (int i = 0; i < MR; ++i) a[i] = _mm512_fmadd_ps(_mm512_set1_ps(v[i * ldv + kk]), bv, a[i]);
        }
        for (int i = 0; i < MR; ++i) {
            TY* yp = y + i * ldy + j;
            stm(yp, _mm512_fmadd_ps(a[i], sc, ldm(yp, mk)), mk);
        }
    }
}

template <typename TB, typename TY>
void expand_driver(const float* v, int64_t ldv, const TB* b, int64_t ldb, TY* y, int64_t ldy, int m, int r, int j0,
                   int j1, float scale) {
    int i = 0;
    for (; i + 4 <= m; i += 4) expand_rows<TB, TY, 4>(v + i * ldv, ldv, b, ldb, y + i * ldy, ldy, r, j0, j1, scale);
    switch (m - i) {
        case 3: expand_rows<TB, TY, 3>(v + i * ldv, ldv, b, ldb, y + i * ldy, ldy, r, j0, j1, scale); break;
        case 2: expand_rows<TB, TY, 2>(v + i * ldv, ldv, b, ldb, y + i * ldy, ldy, r, j0, j1, scale); break;
        case 1: expand_rows<TB, TY, 1>(v + i * ldv, ldv, b, ldb, y + i * ldy, ldy, r, j0, j1, scale); break;
        default: break;
    }
}

}  // namespace

void gemm_nt_avx512(int x_dtype, int w_dtype, const void* x, int64_t ldx, const void* w, int64_t ldw, float* c,
                 int64_t ldc, int m, int n, int k, bool accumulate) {
    with_dtypes(x_dtype, w_dtype, [&](auto tx, auto tw) {
        using TX = decltype(tx);
        using TW = decltype(tw);
        nt_driver(static_cast<const TX*>(x), ldx, static_cast<const TW*>(w), ldw, c, ldc, m, n, k, accumulate);
    });
}

void expand_avx512(int b_dtype, int y_dtype, const float* v, int64_t ldv, const void* b, int64_t ldb, void* y,
                 int64_t ldy, int m, int r, int j0, int j1, float scale) {
    with_dtypes(b_dtype, y_dtype, [&](auto tb, auto ty) {
        using TB = decltype(tb);
        using TY = decltype(ty);
        expand_driver(v, ldv, static_cast<const TB*>(b), ldb, static_cast<TY*>(y), ldy, m, r, j0, j1, scale);
    });
}

}  // namespace olora

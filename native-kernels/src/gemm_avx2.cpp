// AVX2+FMA NT product (4x2 register blocks over 8-float vectors) and LoRA expand (2 rows x 32
// columns). f32 and bf16 storage; K and column tails go through a zero-padded stack buffer.
#include "simd.h"

namespace olora {
namespace {

OLORA_TARGET_AVX2 inline __m256 ld(const float* p) { return _mm256_loadu_ps(p); }
OLORA_TARGET_AVX2 inline __m256 ld(const uint16_t* p) {
    const __m256i h = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
    return _mm256_castsi256_ps(_mm256_slli_epi32(h, 16));
}
inline float to_f32(float v) { return v; }
inline float to_f32(uint16_t v) { return bf16_to_f32(v); }
// Loads n < 8 elements, zero-padded.
template <typename T>
OLORA_TARGET_AVX2 inline __m256 ldn(const T* p, int n) {
    alignas(32) float t[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    for (int i = 0; i < n; ++i) t[i] = to_f32(p[i]);
    return _mm256_load_ps(t);
}
OLORA_TARGET_AVX2 inline void stn(float* p, __m256 v, int n) {
    if (n == 8) {
        _mm256_storeu_ps(p, v);
        return;
    }
    alignas(32) float t[8];
    _mm256_store_ps(t, v);
    for (int i = 0; i < n; ++i) p[i] = t[i];
}
OLORA_TARGET_AVX2 inline void stn(uint16_t* p, __m256 v, int n) {
    alignas(32) float t[8];
    _mm256_store_ps(t, v);
    for (int i = 0; i < n; ++i) p[i] = f32_to_bf16(t[i]);
}
template <typename T>
OLORA_TARGET_AVX2 inline __m256 ld_or_n(const T* p, int n) {
    return n == 8 ? ld(p) : ldn(p, n);
}
OLORA_TARGET_AVX2 inline float hsum(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));
    return _mm_cvtss_f32(s);
}

template <typename TX, typename TW, int MR, int NR>
OLORA_TARGET_AVX2 void nt_block(const TX* x, int64_t ldx, const TW* w, int64_t ldw, float* c, int64_t ldc, int k,
                                bool acc) {
    __m256 s[MR][NR];
    for (int i = 0; i < MR; ++i)
        for (int j = 0; j < NR; ++j) s[i][j] = _mm256_setzero_ps();
    int kk = 0;
    for (; kk + 8 <= k; kk += 8) {
        __m256 xv[MR];
        for (int i = 0; i < MR; ++i) xv[i] = ld(x + i * ldx + kk);
        for (int j = 0; j < NR; ++j) {
            const __m256 wv = ld(w + j * ldw + kk);
            for (int i = 0; i < MR; ++i) s[i][j] = _mm256_fmadd_ps(xv[i], wv, s[i][j]);
        }
    }
    if (kk < k) {
        __m256 xv[MR];
        for (int i = 0; i < MR; ++i) xv[i] = ldn(x + i * ldx + kk, k - kk);
        for (int j = 0; j < NR; ++j) {
            const __m256 wv = ldn(w + j * ldw + kk, k - kk);
            for (int i = 0; i < MR; ++i) s[i][j] = _mm256_fmadd_ps(xv[i], wv, s[i][j]);
        }
    }
    for (int i = 0; i < MR; ++i)
        for (int j = 0; j < NR; ++j) {
            const float r = hsum(s[i][j]);
            float* o = c + i * ldc + j;
            *o = acc ? *o + r : r;
        }
}

template <typename TX, typename TW>
using NtFn = void (*)(const TX*, int64_t, const TW*, int64_t, float*, int64_t, int, bool);

template <typename TX, typename TW>
void nt_driver(const TX* x, int64_t ldx, const TW* w, int64_t ldw, float* c, int64_t ldc, int m, int n, int k,
               bool acc) {
    static const NtFn<TX, TW> tab[4][2] = {
        {nt_block<TX, TW, 1, 1>, nt_block<TX, TW, 1, 2>},
        {nt_block<TX, TW, 2, 1>, nt_block<TX, TW, 2, 2>},
        {nt_block<TX, TW, 3, 1>, nt_block<TX, TW, 3, 2>},
        {nt_block<TX, TW, 4, 1>, nt_block<TX, TW, 4, 2>},
    };
    for (int j = 0; j < n; j += 2) {
        const int nr = n - j < 2 ? n - j : 2;
        for (int i = 0; i < m; i += 4) {
            const int mr = m - i < 4 ? m - i : 4;
            tab[mr - 1][nr - 1](x + i * ldx, ldx, w + j * ldw, ldw, c + i * ldc + j, ldc, k, acc);
        }
    }
}

template <typename TB, typename TY, int MR>
OLORA_TARGET_AVX2 void expand_rows(const float* v, int64_t ldv, const TB* b, int64_t ldb, TY* y, int64_t ldy, int r,
                                   int j0, int j1, float scale) {
    const __m256 sc = _mm256_set1_ps(scale);
    int j = j0;
    for (; j + 32 <= j1; j += 32) {
        __m256 a[MR][4];
        for (int i = 0; i < MR; ++i)
            for (int q = 0; q < 4; ++q) a[i][q] = _mm256_setzero_ps();
        for (int kk = 0; kk < r; ++kk) {
            const TB* br = b + kk * ldb + j;
            __m256 bv[4];
            for (int q = 0; q < 4; ++q) bv[q] = ld(br + 8 * q);
            for (int i = 0; i < MR; ++i) {
                const __m256 vb = _mm256_set1_ps(v[i * ldv + kk]);
                for (int q = 0; q < 4; ++q) a[i][q] = _mm256_fmadd_ps(vb, bv[q], a[i][q]);
            }
        }
        for (int i = 0; i < MR; ++i)
            for (int q = 0; q < 4; ++q) {
                TY* yp = y + i * ldy + j + 8 * q;
                stn(yp, _mm256_fmadd_ps(a[i][q], sc, ld(yp)), 8);
            }
    }
    for (; j < j1; j += 8) {
        const int n = j1 - j < 8 ? j1 - j : 8;
        __m256 a[MR];
        for (int i = 0; i < MR; ++i) a[i] = _mm256_setzero_ps();
        for (int kk = 0; kk < r; ++kk) {
            const __m256 bv = ld_or_n(b + kk * ldb + j, n);
            for (int i = 0; i < MR; ++i) a[i] = _mm256_fmadd_ps(_mm256_set1_ps(v[i * ldv + kk]), bv, a[i]);
        }
        for (int i = 0; i < MR; ++i) {
            TY* yp = y + i * ldy + j;
            stn(yp, _mm256_fmadd_ps(a[i], sc, ld_or_n(yp, n)), n);
        }
    }
}

template <typename TB, typename TY>
void expand_driver(const float* v, int64_t ldv, const TB* b, int64_t ldb, TY* y, int64_t ldy, int m, int r, int j0,
                   int j1, float scale) {
    int i = 0;
    for (; i + 2 <= m; i += 2) expand_rows<TB, TY, 2>(v + i * ldv, ldv, b, ldb, y + i * ldy, ldy, r, j0, j1, scale);
    if (i < m) expand_rows<TB, TY, 1>(v + i * ldv, ldv, b, ldb, y + i * ldy, ldy, r, j0, j1, scale);
}

}  // namespace

void gemm_nt_avx2(int x_dtype, int w_dtype, const void* x, int64_t ldx, const void* w, int64_t ldw, float* c,
                 int64_t ldc, int m, int n, int k, bool accumulate) {
    with_dtypes(x_dtype, w_dtype, [&](auto tx, auto tw) {
        using TX = decltype(tx);
        using TW = decltype(tw);
        nt_driver(static_cast<const TX*>(x), ldx, static_cast<const TW*>(w), ldw, c, ldc, m, n, k, accumulate);
    });
}

void expand_avx2(int b_dtype, int y_dtype, const float* v, int64_t ldv, const void* b, int64_t ldb, void* y,
                 int64_t ldy, int m, int r, int j0, int j1, float scale) {
    with_dtypes(b_dtype, y_dtype, [&](auto tb, auto ty) {
        using TB = decltype(tb);
        using TY = decltype(ty);
        expand_driver(v, ldv, static_cast<const TB*>(b), ldb, static_cast<TY*>(y), ldy, m, r, j0, j1, scale);
    });
}

}  // namespace olora

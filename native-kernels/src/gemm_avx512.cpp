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

template <typename T, int MR, int NR>
OLORA_TARGET_AVX512 void nt_block(const T* x, int64_t ldx, const T* w, int64_t ldw, float* c, int64_t ldc, int k,
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

template <typename T>
using NtFn = void (*)(const T*, int64_t, const T*, int64_t, float*, int64_t, int, bool);

template <typename T>
void nt_driver(const T* x, int64_t ldx, const T* w, int64_t ldw, float* c, int64_t ldc, int m, int n, int k,
               bool acc) {
    static const NtFn<T> tab[4][4] = {
        {nt_block<T, 1, 1>, nt_block<T, 1, 2>, nt_block<T, 1, 3>, nt_block<T, 1, 4>},
        {nt_block<T, 2, 1>, nt_block<T, 2, 2>, nt_block<T, 2, 3>, nt_block<T, 2, 4>},
        {nt_block<T, 3, 1>, nt_block<T, 3, 2>, nt_block<T, 3, 3>, nt_block<T, 3, 4>},
        {nt_block<T, 4, 1>, nt_block<T, 4, 2>, nt_block<T, 4, 3>, nt_block<T, 4, 4>},
    };
    for (int j = 0; j < n; j += 4) {
        const int nr = n - j < 4 ? n - j : 4;
        for (int i = 0; i < m; i += 4) {
            const int mr = m - i < 4 ? m - i : 4;
            tab[mr - 1][nr - 1](x + i * ldx, ldx, w + j * ldw, ldw, c + i * ldc + j, ldc, k, acc);
        }
    }
}

template <typename T, int MR>
OLORA_TARGET_AVX512 void expand_rows(const float* v, int64_t ldv, const T* b, int64_t ldb, T* y, int64_t ldy, int r,
                                     int j0, int j1, float scale) {
    const __m512 sc = _mm512_set1_ps(scale);
    int j = j0;
    for (; j + 64 <= j1; j += 64) {
        __m512 a[MR][4];
        for (int i = 0; i < MR; ++i)
            for (int q = 0; q < 4; ++q) a[i][q] = _mm512_setzero_ps();
        for (int kk = 0; kk < r; ++kk) {
            const T* br = b + kk * ldb + j;
            __m512 bv[4];
            for (int q = 0; q < 4; ++q) bv[q] = ld(br + 16 * q);
            for (int i = 0; i < MR; ++i) {
                const __m512 vb = _mm512_set1_ps(v[i * ldv + kk]);
                for (int q = 0; q < 4; ++q) a[i][q] = _mm512_fmadd_ps(vb, bv[q], a[i][q]);
            }
        }
        for (int i = 0; i < MR; ++i)
            for (int q = 0; q < 4; ++q) {
                T* yp = y + i * ldy + j + 16 * q;
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
            T* yp = y + i * ldy + j;
            stm(yp, _mm512_fmadd_ps(a[i], sc, ldm(yp, mk)), mk);
        }
    }
}

template <typename T>
void expand_driver(const float* v, int64_t ldv, const T* b, int64_t ldb, T* y, int64_t ldy, int m, int r, int j0,
                   int j1, float scale) {
    int i = 0;
    for (; i + 4 <= m; i += 4) expand_rows<T, 4>(v + i * ldv, ldv, b, ldb, y + i * ldy, ldy, r, j0, j1, scale);
    switch (m - i) {
        case 3: expand_rows<T, 3>(v + i * ldv, ldv, b, ldb, y + i * ldy, ldy, r, j0, j1, scale); break;
        case 2: expand_rows<T, 2>(v + i * ldv, ldv, b, ldb, y + i * ldy, ldy, r, j0, j1, scale); break;
        case 1: expand_rows<T, 1>(v + i * ldv, ldv, b, ldb, y + i * ldy, ldy, r, j0, j1, scale); break;
        default: break;
    }
}

}  // namespace

void gemm_nt_avx512(int dtype, const void* x, int64_t ldx, const void* w, int64_t ldw, float* c, int64_t ldc,
                    int m, int n, int k, bool accumulate) {
    if (dtype == OLORA_DTYPE_BF16)
        nt_driver(static_cast<const uint16_t*>(x), ldx, static_cast<const uint16_t*>(w), ldw, c, ldc, m, n, k,
                  accumulate);
    else
        nt_driver(static_cast<const float*>(x), ldx, static_cast<const float*>(w), ldw, c, ldc, m, n, k, accumulate);
}

void expand_avx512(int dtype, const float* v, int64_t ldv, const void* b, int64_t ldb, void* y, int64_t ldy, int m,
                   int r, int j0, int j1, float scale) {
    if (dtype == OLORA_DTYPE_BF16)
        expand_driver(v, ldv, static_cast<const uint16_t*>(b), ldb, static_cast<uint16_t*>(y), ldy, m, r, j0, j1,
                      scale);
    else
        expand_driver(v, ldv, static_cast<const float*>(b), ldb, static_cast<float*>(y), ldy, m, r, j0, j1, scale);
}

}  // namespace olora

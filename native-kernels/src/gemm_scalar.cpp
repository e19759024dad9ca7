// Portable scalar NT product and LoRA expand (the fallback path; also the reference for the
// SIMD paths' structure).
#include "kernels_internal.h"

namespace olora {
namespace {

inline float load(const float* p, int64_t i) { return p[i]; }
inline float load(const uint16_t* p, int64_t i) { return bf16_to_f32(p[i]); }

template <typename T>
void nt(const T* x, int64_t ldx, const T* w, int64_t ldw, float* c, int64_t ldc, int m, int n, int k, bool acc) {
    for (int i = 0; i < m; ++i) {
        for (int j = 0; j < n; ++j) {
            const T* xr = x + i * ldx;
            const T* wr = w + j * ldw;
            float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
            int kk = 0;
            for (; kk + 4 <= k; kk += 4) {
                s0 += load(xr, kk) * load(wr, kk);
                s1 += load(xr, kk + 1) * load(wr, kk + 1);
                s2 += load(xr, kk + 2) * load(wr, kk + 2);
                s3 += load(xr, kk + 3) * load(wr, kk + 3);
            }
            for (; kk < k; ++kk) s0 += load(xr, kk) * load(wr, kk);
            const float s = (s0 + s1) + (s2 + s3);
            float* o = c + i * ldc + j;
            *o = acc ? *o + s : s;
        }
    }
}

template <typename T>
void expand(const float* v, int64_t ldv, const T* b, int64_t ldb, T* y, int64_t ldy, int m, int r, int j0, int j1,
            float scale) {
    constexpr int kChunk = 256;
    float acc[kChunk];
    for (int i = 0; i < m; ++i) {
        for (int c0 = j0; c0 < j1; c0 += kChunk) {
            const int w = (j1 - c0) < kChunk ? (j1 - c0) : kChunk;
            for (int j = 0; j < w; ++j) acc[j] = 0.f;
            for (int kk = 0; kk < r; ++kk) {
                const float a = v[i * ldv + kk];
                const T* br = b + kk * ldb + c0;
                for (int j = 0; j < w; ++j) acc[j] += a * load(br, j);
            }
            T* yr = y + i * ldy + c0;
            for (int j = 0; j < w; ++j) {
                if constexpr (sizeof(T) == 4) {
                    yr[j] = yr[j] + scale * acc[j];
                } else {
                    yr[j] = f32_to_bf16(bf16_to_f32(yr[j]) + scale * acc[j]);
                }
            }
        }
    }
}

}  // namespace

void gemm_nt_scalar(int dtype, const void* x, int64_t ldx, const void* w, int64_t ldw, float* c, int64_t ldc,
                    int m, int n, int k, bool accumulate) {
    if (dtype == OLORA_DTYPE_BF16)
        nt(static_cast<const uint16_t*>(x), ldx, static_cast<const uint16_t*>(w), ldw, c, ldc, m, n, k, accumulate);
    else
        nt(static_cast<const float*>(x), ldx, static_cast<const float*>(w), ldw, c, ldc, m, n, k, accumulate);
}

void expand_scalar(int dtype, const float* v, int64_t ldv, const void* b, int64_t ldb, void* y, int64_t ldy, int m,
                   int r, int j0, int j1, float scale) {
    if (dtype == OLORA_DTYPE_BF16)
        expand(v, ldv, static_cast<const uint16_t*>(b), ldb, static_cast<uint16_t*>(y), ldy, m, r, j0, j1, scale);
    else
        expand(v, ldv, static_cast<const float*>(b), ldb, static_cast<float*>(y), ldy, m, r, j0, j1, scale);
}

}  // namespace olora

// Portable scalar NT product and LoRA expand (the fallback path; also the reference for the
// SIMD paths' structure).
#include "kernels_internal.h"

namespace olora {
namespace {

inline float load(const float* p, int64_t i) { return p[i]; }
inline float load(const uint16_t* p, int64_t i) { return bf16_to_f32(p[i]); }

template <typename TX, typename TW>
void nt(const TX* x, int64_t ldx, const TW* w, int64_t ldw, float* c, int64_t ldc, int m, int n, int k, bool acc) {
    for (int i = 0; i < m; ++i) {
        for (int j = 0; j < n; ++j) {
            const TX* xr = x + i * ldx;
            const TW* wr = w + j * ldw;
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

template <typename TB, typename TY>
void expand(const float* v, int64_t ldv, const TB* b, int64_t ldb, TY* y, int64_t ldy, int m, int r, int j0, int j1,
            float scale) {
    constexpr int kChunk = 256;
    float acc[kChunk];
    for (int i = 0; i < m; ++i) {
        for (int c0 = j0; c0 < j1; c0 += kChunk) {
            const int w = (j1 - c0) < kChunk ? (j1 - c0) : kChunk;
            for (int j = 0; j < w; ++j) acc[j] = 0.f;
            for (int kk = 0; kk < r; ++kk) {
                const float a = v[i * ldv + kk];
                const TB* br = b + kk * ldb + c0;
                for (int j = 0; j < w; ++j) acc[j] += a * load(br, j);
            }
            TY* yr = y + i * ldy + c0;
            for (int j = 0; j < w; ++j) {
                if constexpr (sizeof(TY) == 4) {
                    yr[j] = yr[j] + scale * acc[j];
                } else {
                    yr[j] = f32_to_bf16(bf16_to_f32(yr[j]) + scale * acc[j]);
                }
            }
        }
    }
}

}  // namespace

void gemm_nt_scalar(int x_dtype, int w_dtype, const void* x, int64_t ldx, const void* w, int64_t ldw, float* c,
                 int64_t ldc, int m, int n, int k, bool accumulate) {
    with_dtypes(x_dtype, w_dtype, [&](auto tx, auto tw) {
        using TX = decltype(tx);
        using TW = decltype(tw);
        nt(static_cast<const TX*>(x), ldx, static_cast<const TW*>(w), ldw, c, ldc, m, n, k, accumulate);
    });
}

void expand_scalar(int b_dtype, int y_dtype, const float* v, int64_t ldv, const void* b, int64_t ldb, void* y,
                 int64_t ldy, int m, int r, int j0, int j1, float scale) {
    with_dtypes(b_dtype, y_dtype, [&](auto tb, auto ty) {
        using TB = decltype(tb);
        using TY = decltype(ty);
        expand(v, ldv, static_cast<const TB*>(b), ldb, static_cast<TY*>(y), ldy, m, r, j0, j1, scale);
    });
}

}  // namespace olora

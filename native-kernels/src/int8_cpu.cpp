// int8 (per output channel, symmetric) linear, quantizer and dequantizer: argument checks and
// path choice (bfloat16 AMX tiles from M = 9 when asked and available, fused AVX-512 GEMV for
// small M, otherwise dequantized float32 tiles).
#include <algorithm>
#include <atomic>
#include <cmath>

#include "kernels_internal.h"
#include "thread_pool.h"

namespace olora {
namespace {

struct Int8Source final : TileSource {
    const int8_t* q;
    const float* scales;
    int k;
    bool simd;
    const float* rows(int n0, int n1, float* buf, int64_t* ld) const override {
        *ld = k;
        if (simd) {
            int8_dequant_rows_avx512(q, scales, k, n0, n1, buf);
        } else {
            for (int n = n0; n < n1; ++n) {
                const int8_t* qr = q + static_cast<int64_t>(n) * k;
                float* o = buf + static_cast<int64_t>(n - n0) * k;
                const float s = scales[n];
                for (int j = 0; j < k; ++j) o[j] = static_cast<float>(qr[j]) * s;
            }
        }
        return buf;
    }
};

}  // namespace
}  // namespace olora

using namespace olora;

extern "C" OLORA_API int32_t olora_int8_linear(const float* x, int64_t x_row_stride, float* y, int64_t y_row_stride,
                                               int32_t m, int32_t n, int32_t k, const int8_t* q, const float* scales,
                                               int32_t accumulate) {
    return olora_int8_linear_ex(x, x_row_stride, y, y_row_stride, m, n, k, q, scales, accumulate, OLORA_COMPUTE_F32);
}

extern "C" OLORA_API int32_t olora_int8_linear_ex(const float* x, int64_t x_row_stride, float* y,
                                                  int64_t y_row_stride, int32_t m, int32_t n, int32_t k,
                                                  const int8_t* q, const float* scales, int32_t accumulate,
                                                  int32_t compute) {
    if (const int32_t rc = check_quant_linear(x, x_row_stride, y, y_row_stride, m, n, k, q, scales, compute);
        rc != OLORA_OK)
        return rc == kNothingToDo ? OLORA_OK : rc;
    const bool acc = accumulate != 0;
    const int isa = active_isa();
    const bool simd = avx512_paths(isa);
    if (compute != OLORA_COMPUTE_F32 && isa == OLORA_ISA_AMX && m >= kAmxMinMInt8 && k % 32 == 0) {
        int8_linear_amx(x, x_row_stride, y, y_row_stride, m, n, k, q, scales, acc);
        return OLORA_OK;
    }
    if (simd && m <= kFusedMaxM) {
        // M >= 3 keeps partial sums for kQuantTaskRows rows: each task in such pieces (M <= 2 takes any range).
        for_row_tasks(n, m <= 2 ? 0 : kQuantTaskRows, [&](int n0, int n1) {
            int8_gemv_avx512(x, x_row_stride, m, k, q, scales, n0, n1, y, y_row_stride, acc);
        });
        if (m <= 2) {
            const PrefetchRegion regions[] = {{q, int64_t(n) * k}, {scales, int64_t(n) * 4}};
            decode_weights_read(regions, 2);
        }
        return OLORA_OK;
    }
    // Without AMX, bfloat16 dot products past the fused GEMV's rows: the float32 tiled path is bound by FMA
    // throughput there (see quant_bf16dot_avx512.cpp).
    if (simd && compute != OLORA_COMPUTE_F32 && isa != OLORA_ISA_AMX && m >= kBf16DotMinM && k % 32 == 0 &&
        int8_linear_bf16dot(x, x_row_stride, y, y_row_stride, m, n, k, q, scales, acc))
        return OLORA_OK;
    Int8Source src;
    src.q = q;
    src.scales = scales;
    src.k = k;
    src.simd = simd;
    linear_tiled(x, x_row_stride, y, y_row_stride, m, n, k, acc, src);
    return OLORA_OK;
}

extern "C" OLORA_API int32_t olora_int8_quantize(const float* w, int32_t n, int32_t k, int8_t* q, float* scales) {
    if (!w || !q || !scales || n < 1 || k < 1) return OLORA_E_ARGUMENT;
    std::atomic<bool> bad{false};
    parallel_for(n, [&](int64_t r) {
        const float* wr = w + r * k;
        int8_t* qr = q + r * k;
        float mx = 0.f;
        for (int j = 0; j < k; ++j) {
            if (!std::isfinite(wr[j])) bad.store(true, std::memory_order_relaxed);
            mx = std::max(mx, std::fabs(wr[j]));
        }
        const float s = mx / 127.f;
        scales[r] = s;
        for (int j = 0; j < k; ++j) {
            float v = s > 0.f ? std::round(wr[j] / s) : 0.f;
            v = std::min(127.f, std::max(-127.f, v));
            qr[j] = static_cast<int8_t>(v);
        }
    });
    return bad.load() ? OLORA_E_ARGUMENT : OLORA_OK;
}

extern "C" OLORA_API int32_t olora_int8_dequantize(const int8_t* q, const float* scales, int32_t n, int32_t k,
                                                   float* out) {
    if (!q || !scales || !out || n < 1 || k < 1) return OLORA_E_ARGUMENT;
    for (int64_t r = 0; r < n; ++r)
        for (int64_t j = 0; j < k; ++j) out[r * k + j] = static_cast<float>(q[r * k + j]) * scales[r];
    return OLORA_OK;
}

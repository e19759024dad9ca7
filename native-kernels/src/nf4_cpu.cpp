// NF4 (bitsandbytes layout) linear, quantizer and dequantizer: argument checks, path choice
// (bfloat16 AMX tiles from M = 6 when asked and available, fused AVX-512 kernels for M <= 8 and
// K % 64 == 0, otherwise dequantized float32 tiles), and the
// portable per-element dequantization that handles any K and a final partial block.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <vector>

#include "kernels_internal.h"
#include "thread_pool.h"

namespace olora {

const float kNf4CodeBook[16] = {
    -1.0f,
    -0.6961928009986877f,
    -0.5250730514526367f,
    -0.39491748809814453f,
    -0.28444138169288635f,
    -0.18477343022823334f,
    -0.09105003625154495f,
    0.0f,
    0.07958029955625534f,
    0.16093020141124725f,
    0.24611230194568634f,
    0.33791524171829224f,
    0.44070982933044434f,
    0.5626170039176941f,
    0.7229568362236023f,
    1.0f,
};

namespace {

// Flat elements [g0, g1) into out.
void dequant_flat(const uint8_t* codes, const float* absmax, int64_t g0, int64_t g1, float* out) {
    for (int64_t g = g0; g < g1; ++g) {
        const uint8_t byte = codes[g >> 1];
        const int c = (g & 1) ? (byte & 0xF) : (byte >> 4);
        out[g - g0] = kNf4CodeBook[c] * absmax[g >> 6];
    }
}

struct Nf4Source final : TileSource {
    const uint8_t* codes;
    const float* absmax;
    int k;
    bool simd;
    const float* rows(int n0, int n1, float* buf, int64_t* ld) const override {
        *ld = k;
        if (simd)
            nf4_dequant_rows_avx512(codes, absmax, k, n0, n1, buf);
        else
            dequant_flat(codes, absmax, static_cast<int64_t>(n0) * k, static_cast<int64_t>(n1) * k, buf);
        return buf;
    }
};

int nearest_code(float v) {
    // Midpoints between consecutive code-book values; ties go to the lower index.
    int c = 0;
    for (int i = 1; i < 16; ++i)
        if (v > 0.5f * (kNf4CodeBook[i - 1] + kNf4CodeBook[i])) c = i;
    return c;
}

}  // namespace
}  // namespace olora

using namespace olora;

extern "C" OLORA_API int32_t olora_nf4_code_book(float* out) {
    if (!out) return OLORA_E_ARGUMENT;
    for (int i = 0; i < 16; ++i) out[i] = kNf4CodeBook[i];
    return OLORA_OK;
}

extern "C" OLORA_API int32_t olora_nf4_linear(const float* x, int64_t x_row_stride, float* y, int64_t y_row_stride,
                                              int32_t m, int32_t n, int32_t k, const uint8_t* codes,
                                              const float* absmax, int32_t accumulate) {
    return olora_nf4_linear_ex(x, x_row_stride, y, y_row_stride, m, n, k, codes, absmax, accumulate, OLORA_COMPUTE_F32);
}

namespace {
// The decode GEMVs' weights, for the idle threads to prefetch the next ones (decode_weights_read).
void nf4_decode_weights_read(const uint8_t* codes, const float* absmax, int n, int k) {
    const int64_t numel = int64_t(n) * k;
    const PrefetchRegion regions[] = {{codes, (numel + 1) / 2}, {absmax, (numel + 63) / 64 * 4}};
    decode_weights_read(regions, 2);
}
}  // namespace

extern "C" OLORA_API int32_t olora_nf4_linear_ex(const float* x, int64_t x_row_stride, float* y,
                                                 int64_t y_row_stride, int32_t m, int32_t n, int32_t k,
                                                 const uint8_t* codes, const float* absmax, int32_t accumulate,
                                                 int32_t compute) {
    if (const int32_t rc = check_quant_linear(x, x_row_stride, y, y_row_stride, m, n, k, codes, absmax, compute);
        rc != OLORA_OK)
        return rc == kNothingToDo ? OLORA_OK : rc;
    const bool acc = accumulate != 0;
    const int isa = active_isa();
    const bool simd = avx512_paths(isa) && k % 64 == 0;
    // Int8 dots up to kNf4Int8MaxM rows, ahead of the AMX tiles: at M = 8 on 4096 x 4096 they took
    // 1.5-1.6 ms against the tiles' 1.9-2.7 (native-kernels/BENCHMARKS.md).
    if (simd && compute == OLORA_COMPUTE_INT8 && m <= kNf4Int8MaxM) {
        thread_local std::vector<Nf4QxPair> qx;
        qx.resize(static_cast<size_t>(m) * ((k / 64 + 1) / 2));
        if (nf4_quantize_x_int8(x, x_row_stride, m, k, qx.data())) {
            const Nf4QxPair* qxp = qx.data();
            for_row_tasks(n, 0, [&](int n0, int n1) {  // any row range, every M
                nf4_gemv_int8_avx512(qxp, m, k, codes, absmax, n0, n1, y, y_row_stride, acc);
            });
            if (m <= 2) nf4_decode_weights_read(codes, absmax, n, k);
            return OLORA_OK;
        }
    }
    if (simd && compute != OLORA_COMPUTE_F32 && isa == OLORA_ISA_AMX && m >= kAmxMinMNf4) {
        nf4_linear_amx(x, x_row_stride, y, y_row_stride, m, n, k, codes, absmax, acc);
        return OLORA_OK;
    }
    // Without AMX, bfloat16 dot products from kBf16DotMinM rows (decode batches, prefill): the float32 tiled path is
    // bound by FMA throughput there, and vdpbf16ps does twice the multiply-adds per instruction.
    if (simd && compute != OLORA_COMPUTE_F32 && isa != OLORA_ISA_AMX && m >= kBf16DotMinM &&
        nf4_linear_bf16dot(x, x_row_stride, y, y_row_stride, m, n, k, codes, absmax, acc))
        return OLORA_OK;
    // Bfloat16 products up to kNf4Bf16MaxM rows (decode): the float32 kernels below are bound by their decode and
    // FMAs there on machines that run AVX-512 as two 256-bit halves. x rounded once, in the layout of the route's
    // kernel (olora_set_bf16_gemv); an x that bfloat16 cannot carry goes on to the float32 kernels.
    if (simd && compute == OLORA_COMPUTE_BF16 && m <= kNf4Bf16MaxM) {
        auto run = [&](auto& xs, int per_row, auto round, auto gemv) {
            xs.resize(static_cast<size_t>(m) * per_row);
            if (!round(x, x_row_stride, m, k, xs.data())) return false;
            const auto* xp = xs.data();
            for_row_tasks(n, 0, [&](int n0, int n1) { gemv(xp, m, k, codes, absmax, n0, n1, y, y_row_stride, acc); });
            if (m <= 2) nf4_decode_weights_read(codes, absmax, n, k);
            return true;
        };
        thread_local std::vector<Nf4Bf16Block> xb;
        thread_local std::vector<Nf4Bf16Step> xs;
        if (bf16_gemv_uses_fma() ? run(xs, (k / 64 + 1) / 2, nf4_x_to_bf16_fma, nf4_gemv_bf16fma_avx512)
                                 : run(xb, k / 64, nf4_x_to_bf16, nf4_gemv_bf16_avx512))
            return OLORA_OK;
    }
    // Fused decode-and-dot up to kNf4SmallMaxM rows of x: M <= 2 decodes per (row of W, row of x)
    // (nf4_gemv_avx512); 3..8 decodes each block once for all rows (nf4_gemm_small_avx512, 20-40%
    // faster at M = 4-5 on the Xeon of BENCHMARKS.md, equal at 8). From 9 rows on the tiled path
    // (dequantize an L2 tile once, register-blocked micro-kernel) is faster: the work is FMA-bound.
    if (simd && m <= kNf4SmallMaxM) {
        // Deinterleave x once: even elements then odd elements of each row.
        const bool small = m >= kNf4SmallMinM;
        const int pad = small ? kSmallPad : 0;
        thread_local std::vector<float> xd;
        xd.resize(static_cast<size_t>(m) * (k + pad));
        for (int i = 0; i < m; ++i) {
            const float* xr = x + i * x_row_stride;
            float* e = xd.data() + static_cast<int64_t>(i) * (k + pad);
            float* o = e + k / 2 + pad / 2;
            for (int j = 0; j < k / 2; ++j) {
                e[j] = xr[2 * j];
                o[j] = xr[2 * j + 1];
            }
        }
        const float* xdp = xd.data();
        // The small-M kernel's partial sums hold kQuantTaskRows rows: it takes each task in such pieces.
        for_row_tasks(n, small ? kQuantTaskRows : 0, [&](int n0, int n1) {
            if (small)
                nf4_gemm_small_avx512(xdp, m, k, codes, absmax, n0, n1, y, y_row_stride, acc);
            else
                nf4_gemv_avx512(xdp, m, k, codes, absmax, n0, n1, y, y_row_stride, acc);
        });
        return OLORA_OK;
    }
    Nf4Source src;
    src.codes = codes;
    src.absmax = absmax;
    src.k = k;
    src.simd = simd;
    linear_tiled(x, x_row_stride, y, y_row_stride, m, n, k, acc, src);
    return OLORA_OK;
}

extern "C" OLORA_API int32_t olora_nf4_quantize(const float* w, int64_t numel, uint8_t* codes, float* absmax) {
    if (!w || !codes || !absmax || numel < 1) return OLORA_E_ARGUMENT;
    const int64_t nblocks = (numel + 63) / 64;
    const int64_t per_task = 1024;  // blocks
    std::atomic<bool> bad{false};
    parallel_for((nblocks + per_task - 1) / per_task, [&](int64_t t) {
        const int64_t b1 = std::min(nblocks, (t + 1) * per_task);
        for (int64_t b = t * per_task; b < b1; ++b) {
            const int64_t g0 = b * 64, g1 = std::min(numel, g0 + 64);
            float am = 0.f;
            for (int64_t g = g0; g < g1; ++g) {
                if (!std::isfinite(w[g])) bad.store(true, std::memory_order_relaxed);
                am = std::max(am, std::fabs(w[g]));
            }
            absmax[b] = am;
            // Pairs never straddle blocks (64 is even), so each byte is written by one task.
            for (int64_t g = g0; g < g1; g += 2) {
                const int c0 = am > 0.f ? nearest_code(w[g] / am) : 7;
                const int c1 = (g + 1 < g1) ? (am > 0.f ? nearest_code(w[g + 1] / am) : 7) : 7;
                codes[g >> 1] = static_cast<uint8_t>((c0 << 4) | c1);
            }
        }
    });
    return bad.load() ? OLORA_E_ARGUMENT : OLORA_OK;
}

extern "C" OLORA_API int32_t olora_nf4_dequantize(const uint8_t* codes, const float* absmax, int64_t numel,
                                                  float* out) {
    if (!codes || !absmax || !out || numel < 1) return OLORA_E_ARGUMENT;
    const int64_t chunk = 1 << 16;
    parallel_for((numel + chunk - 1) / chunk, [&](int64_t t) {
        const int64_t g0 = t * chunk;
        dequant_flat(codes, absmax, g0, std::min(numel, g0 + chunk), out + g0);
    });
    return OLORA_OK;
}

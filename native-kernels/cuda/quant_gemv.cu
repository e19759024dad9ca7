// NF4 and int8 linear on CUDA (float32 x and y): one warp per (x row, W row); lanes stride over
// K, decode weights on the fly and reduce with shuffles. Any K (NF4 uses the flat element index,
// so blocks may straddle rows). UNBUILT / UNVERIFIED (no nvcc here): see BENCHMARKS.md.
#include "olora_cuda.h"

namespace {

__constant__ float kCodeBook[16] = {-1.0f,
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
                                    1.0f};

constexpr int kWarps = 8;

__device__ float warp_sum(float v) {
    for (int o = 16; o > 0; o >>= 1) v += __shfl_down_sync(0xffffffffu, v, o);
    return v;
}

__global__ void nf4_kernel(const float* __restrict__ x, int64_t ldx, float* __restrict__ y, int64_t ldy, int n,
                           int k, const uint8_t* __restrict__ codes, const float* __restrict__ absmax, int acc) {
    const int row = blockIdx.y;  // x row
    const int w = blockIdx.x * kWarps + (threadIdx.x >> 5);
    const int lane = threadIdx.x & 31;
    if (w >= n) return;  // uniform per warp
    const float* xr = x + row * ldx;
    const int64_t g0 = static_cast<int64_t>(w) * k;
    float s = 0.f;
    for (int j = lane; j < k; j += 32) {
        const int64_t g = g0 + j;
        const uint8_t byte = codes[g >> 1];
        const int c = (g & 1) ? (byte & 0xF) : (byte >> 4);
        s += xr[j] * kCodeBook[c] * absmax[g >> 6];
    }
    s = warp_sum(s);
    if (lane == 0) {
        float* o = y + row * ldy + w;
        *o = acc ? *o + s : s;
    }
}

__global__ void int8_kernel(const float* __restrict__ x, int64_t ldx, float* __restrict__ y, int64_t ldy, int n,
                            int k, const int8_t* __restrict__ q, const float* __restrict__ scales, int acc) {
    const int row = blockIdx.y;
    const int w = blockIdx.x * kWarps + (threadIdx.x >> 5);
    const int lane = threadIdx.x & 31;
    if (w >= n) return;
    const float* xr = x + row * ldx;
    const int8_t* qr = q + static_cast<int64_t>(w) * k;
    float s = 0.f;
    for (int j = lane; j < k; j += 32) s += xr[j] * static_cast<float>(qr[j]);
    s = warp_sum(s) * scales[w];
    if (lane == 0) {
        float* o = y + row * ldy + w;
        *o = acc ? *o + s : s;
    }
}

}  // namespace

extern "C" int olora_cuda_nf4_linear(const float* x, int64_t x_row_stride, float* y, int64_t y_row_stride, int32_t m,
                                     int32_t n, int32_t k, const uint8_t* codes, const float* absmax,
                                     int32_t accumulate, cudaStream_t stream) {
    if (m <= 0) return 0;
    const dim3 grid((n + kWarps - 1) / kWarps, m);
    nf4_kernel<<<grid, kWarps * 32, 0, stream>>>(x, x_row_stride, y, y_row_stride, n, k, codes, absmax, accumulate);
    return static_cast<int>(cudaGetLastError());
}

extern "C" int olora_cuda_int8_linear(const float* x, int64_t x_row_stride, float* y, int64_t y_row_stride,
                                      int32_t m, int32_t n, int32_t k, const int8_t* q, const float* scales,
                                      int32_t accumulate, cudaStream_t stream) {
    if (m <= 0) return 0;
    const dim3 grid((n + kWarps - 1) / kWarps, m);
    int8_kernel<<<grid, kWarps * 32, 0, stream>>>(x, x_row_stride, y, y_row_stride, n, k, q, scales, accumulate);
    return static_cast<int>(cudaGetLastError());
}

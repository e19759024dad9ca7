// SGMV shrink and expand on CUDA (float32). Simple, launch-per-op kernels:
//   shrink: one block per (segment, rank index k); the block reduces x[row]·A[k] for each row.
//   expand: one thread per output column; grid (segment, column tile); B rows are read coalesced.
// UNBUILT / UNVERIFIED (no nvcc here): see BENCHMARKS.md.
#include "olora_cuda.h"

namespace {

constexpr int kThreads = 256;

__device__ float block_sum(float v) {
    __shared__ float warp_sums[kThreads / 32];
    for (int o = 16; o > 0; o >>= 1) v += __shfl_down_sync(0xffffffffu, v, o);
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    if (lane == 0) warp_sums[warp] = v;
    __syncthreads();
    float s = 0.f;
    if (warp == 0) {
        s = lane < kThreads / 32 ? warp_sums[lane] : 0.f;
        for (int o = 16; o > 0; o >>= 1) s += __shfl_down_sync(0xffffffffu, s, o);
    }
    __syncthreads();  // warp_sums is reused by the next call
    return s;         // valid in thread 0
}

__global__ void shrink_kernel(const float* __restrict__ x, int64_t ldx, float* __restrict__ v, int64_t ldv,
                              const int32_t* __restrict__ seg_starts, const int32_t* __restrict__ seg_slots,
                              const float* __restrict__ a_table, int max_rank, int in,
                              const int32_t* __restrict__ ranks) {
    const int seg = blockIdx.x, k = blockIdx.y;
    const int slot = seg_slots[seg];
    if (slot < 0 || k >= ranks[slot]) return;  // uniform over the block
    const float* a = a_table + (static_cast<int64_t>(slot) * max_rank + k) * in;
    for (int row = seg_starts[seg]; row < seg_starts[seg + 1]; ++row) {
        const float* xr = x + row * ldx;
        float s = 0.f;
        for (int j = threadIdx.x; j < in; j += kThreads) s += xr[j] * a[j];
        s = block_sum(s);
        if (threadIdx.x == 0) v[row * ldv + k] = s;
    }
}

__global__ void expand_kernel(const float* __restrict__ v, int64_t ldv, float* __restrict__ y, int64_t ldy,
                              const int32_t* __restrict__ seg_starts, const int32_t* __restrict__ seg_slots,
                              const float* __restrict__ b_table, int max_rank, int out,
                              const int32_t* __restrict__ ranks, const float* __restrict__ scales) {
    const int seg = blockIdx.x;
    const int j = blockIdx.y * kThreads + threadIdx.x;
    const int slot = seg_slots[seg];
    if (slot < 0 || j >= out) return;
    const int r = ranks[slot];
    const float scale = scales[slot];
    const float* b = b_table + static_cast<int64_t>(slot) * max_rank * out + j;
    for (int row = seg_starts[seg]; row < seg_starts[seg + 1]; ++row) {
        const float* vr = v + row * ldv;
        float acc = 0.f;
        for (int k = 0; k < r; ++k) acc += vr[k] * b[static_cast<int64_t>(k) * out];
        y[row * ldy + j] += scale * acc;
    }
}

}  // namespace

extern "C" int olora_cuda_sgmv_shrink_f32(const float* x, int64_t x_row_stride, float* v, int64_t v_row_stride,
                                          const int32_t* seg_starts, const int32_t* seg_slots, int32_t num_segments,
                                          const float* a_table, int32_t max_rank, int32_t in_features,
                                          const int32_t* slot_ranks, cudaStream_t stream) {
    if (num_segments <= 0) return 0;
    const dim3 grid(num_segments, max_rank);
    shrink_kernel<<<grid, kThreads, 0, stream>>>(x, x_row_stride, v, v_row_stride, seg_starts, seg_slots, a_table,
                                                 max_rank, in_features, slot_ranks);
    return static_cast<int>(cudaGetLastError());
}

extern "C" int olora_cuda_sgmv_expand_f32(const float* v, int64_t v_row_stride, float* y, int64_t y_row_stride,
                                          const int32_t* seg_starts, const int32_t* seg_slots, int32_t num_segments,
                                          const float* b_table, int32_t max_rank, int32_t out_features,
                                          const int32_t* slot_ranks, const float* slot_scales, cudaStream_t stream) {
    if (num_segments <= 0) return 0;
    const dim3 grid(num_segments, (out_features + kThreads - 1) / kThreads);
    expand_kernel<<<grid, kThreads, 0, stream>>>(v, v_row_stride, y, y_row_stride, seg_starts, seg_slots, b_table,
                                                 max_rank, out_features, slot_ranks, slot_scales);
    return static_cast<int>(cudaGetLastError());
}

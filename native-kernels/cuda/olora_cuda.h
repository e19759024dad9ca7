/* CUDA versions of the SGMV and quantized GEMV kernels (float32). All pointers are DEVICE
 * pointers; shapes, layouts and the meaning of every argument are those of the CPU functions of
 * the same name in include/olora_kernels.h (stacked slot tables, B stored transposed as
 * [num_slots, max_rank, out], NF4 in the bitsandbytes layout with blocksize 64 and the first
 * element in the high nibble, int8 with one scale per output row). Arguments are NOT validated on
 * the device: the caller validates them (e.g. with the CPU entry points' rules) first.
 * Each function launches on `stream` and returns cudaGetLastError() as an int (0 = launched).
 * UNBUILT / UNVERIFIED: no GPU or nvcc was available where this was written; see BENCHMARKS.md. */
#ifndef OLORA_CUDA_H
#define OLORA_CUDA_H

#include <cuda_runtime.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* v[row, 0:r] = x[row, :] · A_sᵀ for rows of segments with slot s >= 0. */
int olora_cuda_sgmv_shrink_f32(const float* x, int64_t x_row_stride, float* v, int64_t v_row_stride,
                               const int32_t* seg_starts, const int32_t* seg_slots, int32_t num_segments,
                               const float* a_table, int32_t max_rank, int32_t in_features,
                               const int32_t* slot_ranks, cudaStream_t stream);

/* y[row, :] += scale_s · v[row, 0:r] · B_s for rows of segments with slot s >= 0. */
int olora_cuda_sgmv_expand_f32(const float* v, int64_t v_row_stride, float* y, int64_t y_row_stride,
                               const int32_t* seg_starts, const int32_t* seg_slots, int32_t num_segments,
                               const float* b_table, int32_t max_rank, int32_t out_features,
                               const int32_t* slot_ranks, const float* slot_scales, cudaStream_t stream);

/* y[m, n] (=|+=) x[m, :] · dequant(W)[n, :], any K (blocks may straddle rows). */
int olora_cuda_nf4_linear(const float* x, int64_t x_row_stride, float* y, int64_t y_row_stride, int32_t m, int32_t n,
                          int32_t k, const uint8_t* codes, const float* absmax, int32_t accumulate,
                          cudaStream_t stream);

int olora_cuda_int8_linear(const float* x, int64_t x_row_stride, float* y, int64_t y_row_stride, int32_t m,
                           int32_t n, int32_t k, const int8_t* q, const float* scales, int32_t accumulate,
                           cudaStream_t stream);

#ifdef __cplusplus
}
#endif

#endif

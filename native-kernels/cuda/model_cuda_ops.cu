// CudaModelOps: the model's operations as the CUDA launchers of olora_cuda_runner.h on the context's stream,
// plus the two small kernels only the whole model needs (embedding lookup, row gather).
// Compiled in CI (CUDA 11.8, sm_80 + sm_90); run end to end on an H200 by scripts/gpu-check.sh (docs/GPU.md).
#include <cuda_runtime.h>

#include "model_ops.h"
#include "olora_cuda_math.h"
#include "runner_internal.h"

namespace olora_cuda {
namespace {

__global__ void embedding_kernel(const uint16_t* __restrict__ table, const int32_t* __restrict__ ids, int hidden,
                                 float* __restrict__ out) {
    const int t = blockIdx.x;
    const uint16_t* row = table + int64_t(ids[t]) * hidden;
    for (int j = threadIdx.x; j < hidden; j += blockDim.x) out[int64_t(t) * hidden + j] = bf16_to_f32(row[j]);
}

__global__ void gather_rows_kernel(const uint16_t* __restrict__ src, int cols, const int32_t* __restrict__ rows,
                                   uint16_t* __restrict__ dst) {
    const int r = blockIdx.x;
    const uint16_t* s = src + int64_t(rows[r]) * cols;
    for (int j = threadIdx.x; j < cols; j += blockDim.x) dst[int64_t(r) * cols + j] = s[j];
}

class CudaModelOps final : public ModelOps {
public:
    explicit CudaModelOps(olora_cuda_context* ctx) : ModelOps(ctx), stream_(ctx->stream) {}

    int32_t copy(void* dst, const void* src, int64_t bytes) override {
        return check_cuda(cudaMemcpyAsync(dst, src, size_t(bytes), cudaMemcpyDeviceToDevice, stream_),
                          "cudaMemcpyAsync (device to device)");
    }
    int32_t zero(void* dst, int64_t bytes) override {
        return check_cuda(cudaMemsetAsync(dst, 0, size_t(bytes), stream_), "cudaMemsetAsync");
    }
    int32_t synchronize() override { return olora_cuda_synchronize(ctx_); }

    int32_t embedding(const uint16_t* table, const int32_t* ids, int32_t num_tokens, int32_t hidden,
                      float* out) override {
        if (num_tokens == 0) return OLORA_CUDA_OK;
        embedding_kernel<<<num_tokens, 256, 0, stream_>>>(table, ids, hidden, out);
        return check_launch("embedding");
    }

    int32_t gather_rows(const uint16_t* src, int32_t cols, const int32_t* rows, int32_t num_rows,
                        uint16_t* dst) override {
        if (num_rows == 0) return OLORA_CUDA_OK;
        gather_rows_kernel<<<num_rows, 256, 0, stream_>>>(src, cols, rows, dst);
        return check_launch("gather_rows");
    }

    int32_t add_rmsnorm(const float* x, float* residual, const uint16_t* weight, uint16_t* out, int32_t rows,
                        int32_t hidden, float eps) override {
        return olora_cuda_add_rmsnorm(x, residual, weight, out, rows, hidden, eps, stream_);
    }

    int32_t rope(float* q, int64_t q_stride, int32_t num_heads, float* k, int64_t k_stride, int32_t kv_heads,
                 int32_t head_dim, const int32_t* positions, int32_t num_tokens, const float* cos_table,
                 const float* sin_table, int32_t) override {
        return olora_cuda_rope(q, q_stride, num_heads, k, k_stride, kv_heads, head_dim, positions, num_tokens,
                               cos_table, sin_table, stream_);
    }

    int32_t kv_append(const float* keys, int64_t key_stride, const float* values, int64_t value_stride,
                      const int64_t* slot_mapping, int32_t num_tokens, uint16_t* k_pool, uint16_t* v_pool, int64_t,
                      int32_t block_size, int32_t kv_heads, int32_t head_dim) override {
        return olora_cuda_kv_append(keys, key_stride, values, value_stride, slot_mapping, num_tokens, k_pool, v_pool,
                                    block_size, kv_heads, head_dim, stream_);
    }

    int64_t decode_scratch_floats(int32_t num_seqs, int32_t num_heads, int32_t head_dim, int32_t max_context) override {
        return olora_cuda_decode_scratch_floats(num_seqs, num_heads, head_dim, max_context);
    }

    int32_t attention_decode(const float* q, int64_t q_stride, uint16_t* out, int64_t out_stride,
                             const uint16_t* k_pool, const uint16_t* v_pool, int64_t, int32_t block_size,
                             const int32_t* block_tables, int64_t block_table_stride, const int32_t* context_lens,
                             int32_t num_seqs, int32_t max_context, int32_t num_heads, int32_t kv_heads,
                             int32_t head_dim, int32_t sliding_window, float* scratch, int64_t scratch_floats) override {
        return olora_cuda_paged_attention_decode(q, q_stride, out, out_stride, k_pool, v_pool, block_size, block_tables,
                                                 block_table_stride, context_lens, num_seqs, max_context, num_heads,
                                                 kv_heads, head_dim, sliding_window, scratch, scratch_floats, stream_);
    }

    int32_t attention_prefill(const float* q, int64_t q_stride, uint16_t* out, int64_t out_stride,
                              const uint16_t* k_pool, const uint16_t* v_pool, int64_t, int32_t block_size,
                              const int32_t* block_tables, int64_t block_table_stride, const int32_t* query_start_loc,
                              const int32_t* context_lens, int32_t num_seqs, int32_t max_tokens, int32_t num_heads,
                              int32_t kv_heads, int32_t head_dim, int32_t sliding_window) override {
        return olora_cuda_paged_attention_prefill(q, q_stride, out, out_stride, k_pool, v_pool, block_size,
                                                  block_tables, block_table_stride, query_start_loc, context_lens,
                                                  num_seqs, max_tokens, num_heads, kv_heads, head_dim, sliding_window,
                                                  stream_);
    }

    int32_t swiglu(const float* gate_up, uint16_t* out, int32_t rows, int32_t intermediate) override {
        return olora_cuda_swiglu(gate_up, out, rows, intermediate, stream_);
    }

    int32_t lora(const uint16_t* x, int64_t x_stride, float* y, int64_t y_stride, const int32_t* tiles,
                 int32_t num_tiles, int32_t, const uint16_t* a_table, const uint16_t* b_table, int32_t,
                 int32_t max_rank, int32_t in_features, int32_t out_features, const int32_t* slot_ranks,
                 const float* slot_scales, float* v) override {
        // A rank-0 slot's blocks return at once in both kernels, so it adds nothing (v is not read for it).
        if (const int32_t rc = olora_cuda_sgmv_shrink(x, x_stride, v, max_rank, tiles, num_tiles, a_table, max_rank,
                                                      in_features, slot_ranks, stream_);
            rc != 0)
            return rc;
        return olora_cuda_sgmv_expand(v, max_rank, y, y_stride, tiles, num_tiles, b_table, max_rank, out_features,
                                      slot_ranks, slot_scales, stream_);
    }

    int32_t gemm_bf16(const uint16_t* x, int32_t m, int32_t k, const uint16_t* w, int32_t n, float* y,
                      int32_t accumulate) override {
        return olora_cuda_gemm_bf16(ctx_, x, m, k, w, n, y, accumulate);
    }

    int32_t nf4_gemv(const uint16_t* x, int32_t m, int32_t n, int32_t k, const uint8_t* codes, const float* absmax,
                     float* y, int32_t accumulate) override {
        return olora_cuda_nf4_gemv(x, m, n, k, codes, absmax, y, accumulate, stream_);
    }

    int32_t nf4_dequantize_bf16(const uint8_t* codes, const float* absmax, int64_t numel, uint16_t* out) override {
        return olora_cuda_nf4_dequantize_bf16(codes, absmax, numel, out, stream_);
    }

    int32_t int8_dequantize_bf16(const int8_t* q, const float* scales, int32_t n, int32_t k, uint16_t* out) override {
        return olora_cuda_int8_dequantize_bf16(q, scales, n, k, out, stream_);
    }

    int32_t int8_gemv(const uint16_t* x, int32_t m, int32_t n, int32_t k, const int8_t* q, const float* scales,
                      float* y, int32_t accumulate) override {
        return olora_cuda_int8_gemv(x, m, n, k, q, scales, y, accumulate, stream_);
    }

private:
    cudaStream_t stream_;
};

}  // namespace

std::unique_ptr<ModelOps> make_cuda_model_ops(olora_cuda_context* ctx) { return std::make_unique<CudaModelOps>(ctx); }

}  // namespace olora_cuda

// The operations the whole-model forward (runner_model.cpp) is built from, behind one interface with two
// implementations: CudaModelOps (model_cuda_ops.cu: the CUDA launchers of olora_cuda_runner.h, on the
// context's stream) and HostModelOps (model_host_ops.cpp: the CPU kernels of each launcher's contract, on
// host memory). The forward is written once against this interface, so the host emulation runs exactly
// the orchestration a GPU runs: same buffers, dtypes and bf16 rounding points, same SGMV tiles, same
// decode / prefill split. Pointers are "device" pointers of the context (host memory under emulation).
// Every call returns an olora_cuda status, with the message recorded by fail().
#pragma once

#include <cstdint>
#include <memory>

#include "olora_cuda_runner.h"

namespace olora_cuda {

class ModelOps {
public:
    explicit ModelOps(olora_cuda_context* ctx) : ctx_(ctx) {}
    virtual ~ModelOps() = default;

    // Memory of the context (tracked by it, device or host) and copies; upload / download wait until done.
    int32_t alloc(int64_t bytes, void** out) { return olora_cuda_alloc(ctx_, bytes, out); }
    int32_t release(void* ptr) { return olora_cuda_free(ctx_, ptr); }
    int32_t upload(void* dst, const void* src, int64_t bytes) { return olora_cuda_upload(ctx_, dst, src, bytes); }
    int32_t download(void* dst, const void* src, int64_t bytes) { return olora_cuda_download(ctx_, dst, src, bytes); }
    virtual int32_t copy(void* dst, const void* src, int64_t bytes) = 0;  // device to device, async
    virtual int32_t zero(void* dst, int64_t bytes) = 0;
    virtual int32_t synchronize() = 0;

    // out[t, :] = float32(table[ids[t], :]); ids already validated.
    virtual int32_t embedding(const uint16_t* table, const int32_t* ids, int32_t num_tokens, int32_t hidden,
                              float* out) = 0;
    // dst[r, :] = src[rows[r], :] (bf16 rows of cols elements).
    virtual int32_t gather_rows(const uint16_t* src, int32_t cols, const int32_t* rows, int32_t num_rows,
                                uint16_t* dst) = 0;
    // [olora_cuda_add_rmsnorm]
    virtual int32_t add_rmsnorm(const float* x, float* residual, const uint16_t* weight, uint16_t* out,
                                int32_t rows, int32_t hidden, float eps) = 0;
    // [olora_cuda_rope]
    virtual int32_t rope(float* q, int64_t q_stride, int32_t num_heads, float* k, int64_t k_stride, int32_t kv_heads,
                         int32_t head_dim, const int32_t* positions, int32_t num_tokens, const float* cos_table,
                         const float* sin_table, int32_t max_positions) = 0;
    // [olora_cuda_kv_append]
    virtual int32_t kv_append(const float* keys, int64_t key_stride, const float* values, int64_t value_stride,
                              const int64_t* slot_mapping, int32_t num_tokens, uint16_t* k_pool, uint16_t* v_pool,
                              int64_t num_blocks, int32_t block_size, int32_t kv_heads, int32_t head_dim) = 0;
    // Floats of scratch attention_decode needs.
    virtual int64_t decode_scratch_floats(int32_t num_seqs, int32_t num_heads, int32_t head_dim,
                                          int32_t max_context) = 0;
    // [olora_cuda_paged_attention_decode]; num_blocks / max_blocks_per_seq bound the tables.
    virtual int32_t attention_decode(const float* q, int64_t q_stride, uint16_t* out, int64_t out_stride,
                                     const uint16_t* k_pool, const uint16_t* v_pool, int64_t num_blocks,
                                     int32_t block_size, const int32_t* block_tables, int64_t block_table_stride,
                                     const int32_t* context_lens, int32_t num_seqs, int32_t max_context,
                                     int32_t num_heads, int32_t kv_heads, int32_t head_dim, int32_t sliding_window,
                                     float* scratch, int64_t scratch_floats) = 0;
    // [olora_cuda_paged_attention_prefill]; query_start_loc holds absolute rows of q / out.
    virtual int32_t attention_prefill(const float* q, int64_t q_stride, uint16_t* out, int64_t out_stride,
                                      const uint16_t* k_pool, const uint16_t* v_pool, int64_t num_blocks,
                                      int32_t block_size, const int32_t* block_tables, int64_t block_table_stride,
                                      const int32_t* query_start_loc, const int32_t* context_lens, int32_t num_seqs,
                                      int32_t max_tokens, int32_t num_heads, int32_t kv_heads, int32_t head_dim,
                                      int32_t sliding_window) = 0;
    // [olora_cuda_swiglu]
    virtual int32_t swiglu(const float* gate_up, uint16_t* out, int32_t rows, int32_t intermediate) = 0;
    // y[row, :] += scale_s · (x[row, :] · A_sᵀ) · Bt_s over the tiles (SgmvTile as int32 [num_tiles, 4]);
    // slot_ranks may hold 0 (that slot leaves this projection alone). v: float32 scratch [rows, max_rank].
    virtual int32_t lora(const uint16_t* x, int64_t x_stride, float* y, int64_t y_stride, const int32_t* tiles,
                         int32_t num_tiles, int32_t rows, const uint16_t* a_table, const uint16_t* b_table,
                         int32_t num_slots, int32_t max_rank, int32_t in_features, int32_t out_features,
                         const int32_t* slot_ranks, const float* slot_scales, float* v) = 0;
    // y float32 [m, n] (=|+=) x bf16 [m, k] · W[n, k]ᵀ in the weight's format. deq: bf16 scratch of n * k
    // elements for the quantized prefill path (dequantize, then the bf16 GEMM).
    virtual int32_t gemm_bf16(const uint16_t* x, int32_t m, int32_t k, const uint16_t* w, int32_t n, float* y,
                              int32_t accumulate) = 0;
    virtual int32_t nf4_gemv(const uint16_t* x, int32_t m, int32_t n, int32_t k, const uint8_t* codes,
                             const float* absmax, float* y, int32_t accumulate) = 0;
    virtual int32_t nf4_dequantize_bf16(const uint8_t* codes, const float* absmax, int64_t numel, uint16_t* out) = 0;
    virtual int32_t int8_dequantize_bf16(const int8_t* q, const float* scales, int32_t n, int32_t k,
                                         uint16_t* out) = 0;
    virtual int32_t int8_gemv(const uint16_t* x, int32_t m, int32_t n, int32_t k, const int8_t* q,
                              const float* scales, float* y, int32_t accumulate) = 0;

protected:
    olora_cuda_context* ctx_;
};

std::unique_ptr<ModelOps> make_cuda_model_ops(olora_cuda_context* ctx);
std::unique_ptr<ModelOps> make_host_model_ops(olora_cuda_context* ctx);

}  // namespace olora_cuda

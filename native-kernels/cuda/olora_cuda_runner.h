/* C ABI of the CUDA runner library (libolora_cuda.so): devices, per-device contexts, and the
 * decoder-layer kernels the runner's forward is built from. Plain C types only (no CUDA headers),
 * so C# (LibraryImport) and Python (ctypes, scripts/gpu-check.sh) bind it directly; streams are
 * passed as void* (a cudaStream_t, NULL = the legacy default stream).
 *
 * Status: COMPILED IN CI (CUDA 11.8, sm_80 + sm_90), NOT RUN ON A GPU. The host/device math the
 * kernels use (olora_cuda_math.h) is unit-tested on the CPU against the CPU kernels; the kernels
 * themselves are checked against the CPU kernels only by scripts/gpu-check.sh on a GPU machine.
 * The whole-model forward (weights, cuBLAS GEMMs, one step over a batch) is NOT implemented yet.
 *
 * Every function returns an olora_cuda status; on failure olora_cuda_last_error() has a message
 * (per calling thread). Kernel launchers validate their host-side arguments (sizes, null
 * pointers) and launch asynchronously; device pointers are not dereferenced on the host. */
#ifndef OLORA_CUDA_RUNNER_H
#define OLORA_CUDA_RUNNER_H

#include <stdint.h>

#if defined(_WIN32)
#define OLORA_CUDA_API __declspec(dllexport)
#else
#define OLORA_CUDA_API __attribute__((visibility("default")))
#endif

#ifdef __cplusplus
extern "C" {
#endif

enum {
    OLORA_CUDA_OK = 0,
    OLORA_CUDA_E_ARGUMENT = -1,  /* invalid argument (checked before anything runs) */
    OLORA_CUDA_E_NO_DEVICE = -2, /* no CUDA device, no driver, or a driver older than the runtime */
    OLORA_CUDA_E_CUDA = -3,      /* any other CUDA runtime / cuBLAS error */
    OLORA_CUDA_E_MEMORY = -4,    /* device allocation failed */
};

/* Version of this ABI; the C# binding refuses a library with another one. */
OLORA_CUDA_API int32_t olora_cuda_abi_version(void);

/* The calling thread's last error message (empty if none), NUL-terminated into buf[0 .. len). */
OLORA_CUDA_API int32_t olora_cuda_last_error(char* buf, int32_t len);

/* Number of usable CUDA devices. No driver / no device: *count = 0 and OLORA_CUDA_E_NO_DEVICE
 * (with the CUDA runtime's reason in olora_cuda_last_error), never a crash. */
OLORA_CUDA_API int32_t olora_cuda_device_count(int32_t* count);

/* Name (NUL-terminated into name[0 .. name_len)), compute capability, and memory of a device. */
OLORA_CUDA_API int32_t olora_cuda_device_info(int32_t device, char* name, int32_t name_len, int32_t* sm_major,
                                              int32_t* sm_minor, int64_t* total_bytes, int64_t* free_bytes);

/* One context per device: a stream, a cuBLAS handle, and the device memory the context allocated
 * (weights, KV pools, adapter slot tables, activations) accounted for. */
typedef struct olora_cuda_context olora_cuda_context;

OLORA_CUDA_API int32_t olora_cuda_context_create(int32_t device, olora_cuda_context** out);
OLORA_CUDA_API int32_t olora_cuda_context_destroy(olora_cuda_context* ctx);
/* Device memory this context holds, and the device's free / total memory now. */
OLORA_CUDA_API int32_t olora_cuda_context_memory(olora_cuda_context* ctx, int64_t* context_bytes,
                                                 int64_t* free_bytes, int64_t* total_bytes);
/* Device allocation owned by the context (freed with it or by olora_cuda_free). */
OLORA_CUDA_API int32_t olora_cuda_alloc(olora_cuda_context* ctx, int64_t bytes, void** out);
OLORA_CUDA_API int32_t olora_cuda_free(olora_cuda_context* ctx, void* ptr);
/* Copies on the context's stream, then waits for it (host memory pageable). */
OLORA_CUDA_API int32_t olora_cuda_upload(olora_cuda_context* ctx, void* dst, const void* src, int64_t bytes);
OLORA_CUDA_API int32_t olora_cuda_download(olora_cuda_context* ctx, void* dst, const void* src, int64_t bytes);
OLORA_CUDA_API int32_t olora_cuda_synchronize(olora_cuda_context* ctx);
/* The context's stream, for the launchers below. */
OLORA_CUDA_API void* olora_cuda_context_stream(olora_cuda_context* ctx);

/* -------------------------------------------------------------------------------------------
 * Decoder-layer kernels. Same contracts as the CPU functions named in brackets (olora_kernels.h),
 * with the runner's dtypes: the residual stream, GEMM outputs, q/k/v and SGMV's v are float32;
 * GEMM inputs (normalized activations, attention output, SwiGLU output), weights, adapter tables
 * and the KV pools are bf16 (uint16_t bits). All pointers are device pointers. */

/* [olora_add_rmsnorm] residual[r] += x[r] (x may be NULL: no add, the first layer), then
 * out[r] = bf16(rmsnorm(residual[r]) * weight). Rows contiguous (stride = hidden). */
OLORA_CUDA_API int32_t olora_cuda_add_rmsnorm(const float* x, float* residual, const uint16_t* weight, uint16_t* out,
                                              int32_t rows, int32_t hidden, float eps, void* stream);

/* cos / sin tables [max_positions, head_dim] (both halves equal), as RotaryEmbedding.cs fills them:
 * rope_kind 0 default, 1 linear, 2 llama3 (olora_cuda_math.h RopeParams). */
OLORA_CUDA_API int32_t olora_cuda_rope_tables(float* cos_table, float* sin_table, int32_t max_positions,
                                              int32_t head_dim, int32_t rope_kind, double theta, double factor,
                                              double low_freq_factor, double high_freq_factor,
                                              double original_max_positions, void* stream);

/* [olora_rope] in place on q [tokens, num_heads, head_dim] and k [tokens, kv_heads, head_dim]
 * (row strides q_stride / k_stride), positions in [0, max_positions) (not checked on the device). */
OLORA_CUDA_API int32_t olora_cuda_rope(float* q, int64_t q_stride, int32_t num_heads, float* k, int64_t k_stride,
                                       int32_t kv_heads, int32_t head_dim, const int32_t* positions,
                                       int32_t num_tokens, const float* cos_table, const float* sin_table,
                                       void* stream);

/* [olora_kv_append] bf16 pools, slot_mapping int64 (-1 = skip). */
OLORA_CUDA_API int32_t olora_cuda_kv_append(const float* keys, int64_t key_stride, const float* values,
                                            int64_t value_stride, const int64_t* slot_mapping, int32_t num_tokens,
                                            uint16_t* k_pool, uint16_t* v_pool, int32_t block_size,
                                            int32_t kv_heads, int32_t head_dim, void* stream);

/* Floats of scratch olora_cuda_paged_attention_decode needs for num_seqs sequences. */
OLORA_CUDA_API int64_t olora_cuda_decode_scratch_floats(int32_t num_seqs, int32_t num_heads, int32_t head_dim,
                                                        int32_t max_context);

/* [olora_paged_attention_decode] split-K (flash-decoding): parts of 256 key positions per block,
 * partial softmax states merged by a second kernel. q float32, out bf16 [num_seqs, num_heads *
 * head_dim]; max_context >= every context_len (sizes the grid and the scratch). */
OLORA_CUDA_API int32_t olora_cuda_paged_attention_decode(const float* q, int64_t q_stride, uint16_t* out,
                                                         int64_t out_stride, const uint16_t* k_pool,
                                                         const uint16_t* v_pool, int32_t block_size,
                                                         const int32_t* block_tables, int64_t block_table_stride,
                                                         const int32_t* context_lens, int32_t num_seqs,
                                                         int32_t max_context, int32_t num_heads, int32_t kv_heads,
                                                         int32_t head_dim, int32_t sliding_window, float* scratch,
                                                         int64_t scratch_floats, void* stream);

/* [olora_paged_attention_prefill] causal, sliding window, GQA, over the paged cache: one block per
 * (sequence, query head, tile of 16 query rows), keys in shared-memory chunks of 32 positions,
 * online softmax. max_tokens >= every T_i (sizes the grid). out bf16. */
OLORA_CUDA_API int32_t olora_cuda_paged_attention_prefill(const float* q, int64_t q_stride, uint16_t* out,
                                                          int64_t out_stride, const uint16_t* k_pool,
                                                          const uint16_t* v_pool, int32_t block_size,
                                                          const int32_t* block_tables, int64_t block_table_stride,
                                                          const int32_t* query_start_loc,
                                                          const int32_t* context_lens, int32_t num_seqs,
                                                          int32_t max_tokens, int32_t num_heads, int32_t kv_heads,
                                                          int32_t head_dim, int32_t sliding_window, void* stream);

/* [olora_swiglu] gate_up float32 [rows, 2 * intermediate] -> out bf16 [rows, intermediate]. */
OLORA_CUDA_API int32_t olora_cuda_swiglu(const float* gate_up, uint16_t* out, int32_t rows, int32_t intermediate,
                                         void* stream);

/* SGMV over the tiles of olora_cuda_math.h sgmv_plan, uploaded as int32 [num_tiles, 4] (row0,
 * rows, slot, seg): ONE launch per projection for every segment of the batch, mixed ranks
 * 1..max_rank (each slot's rank is read from slot_ranks on the device; blocks past a slot's rank
 * return at once). Tables bf16: a_table [num_slots, max_rank, in], b_table [num_slots, max_rank,
 * out] (lora_B transposed), as the CPU tables. x bf16 [rows, in]; v float32 [rows, max_rank];
 * y float32 [rows, out] accumulated: y += scale_s * v · B_s. [olora_sgmv_shrink / _expand] */
OLORA_CUDA_API int32_t olora_cuda_sgmv_shrink(const uint16_t* x, int64_t x_stride, float* v, int64_t v_stride,
                                              const int32_t* tiles, int32_t num_tiles, const uint16_t* a_table,
                                              int32_t max_rank, int32_t in_features, const int32_t* slot_ranks,
                                              void* stream);
OLORA_CUDA_API int32_t olora_cuda_sgmv_expand(const float* v, int64_t v_stride, float* y, int64_t y_stride,
                                              const int32_t* tiles, int32_t num_tiles, const uint16_t* b_table,
                                              int32_t max_rank, int32_t out_features, const int32_t* slot_ranks,
                                              const float* slot_scales, void* stream);

/* [olora_nf4_linear] decode rows: y[m, n] (=|+=) x[m, :] · dequant(W)[n, :], x bf16, y float32,
 * warp per output, weights decoded on the fly (bitsandbytes layout, blocks may straddle rows). */
OLORA_CUDA_API int32_t olora_cuda_nf4_gemv(const uint16_t* x, int32_t m, int32_t n, int32_t k, const uint8_t* codes,
                                           const float* absmax, float* y, int32_t accumulate, void* stream);
/* Prefill: dequantizes numel NF4 elements to bf16 (a tile that feeds cuBLAS). */
OLORA_CUDA_API int32_t olora_cuda_nf4_dequantize_bf16(const uint8_t* codes, const float* absmax, int64_t numel,
                                                      uint16_t* out, void* stream);
/* [olora_int8_linear] per-output-row scales. */
OLORA_CUDA_API int32_t olora_cuda_int8_gemv(const uint16_t* x, int32_t m, int32_t n, int32_t k, const int8_t* q,
                                            const float* scales, float* y, int32_t accumulate, void* stream);

/* y float32 [m, n] (=|+=) x bf16 [m, k] · W bf16 [n, k]ᵀ through cuBLAS (bf16 in, float32
 * accumulate), on the context's handle and stream. */
OLORA_CUDA_API int32_t olora_cuda_gemm_bf16(olora_cuda_context* ctx, const uint16_t* x, int32_t m, int32_t k,
                                            const uint16_t* w, int32_t n, float* y, int32_t accumulate);

#ifdef __cplusplus
}
#endif

#endif

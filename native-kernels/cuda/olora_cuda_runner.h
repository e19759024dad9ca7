/* C ABI of the CUDA runner library (libolora_cuda.so): devices, per-device contexts, and the
 * decoder-layer kernels the runner's forward is built from. Plain C types only (no CUDA headers),
 * so C# (LibraryImport) and Python (ctypes, scripts/gpu-check.sh) bind it directly; streams are
 * passed as void* (a cudaStream_t, NULL = the legacy default stream).
 *
 * Status: compiled in CI (CUDA 11.8, sm_80 + sm_90, no GPU); run on an H200 (CUDA 13.0, sm_90) on
 * 2026-12-04, where every kernel matched the CPU kernel of its contract and the whole model its float64
 * reference (docs/GPU.md). The host/device math the kernels use (olora_cuda_math.h) is unit-tested on
 * the CPU against the CPU kernels; the kernels themselves only by scripts/gpu-check.sh on a GPU machine.
 *
 * Every function returns an olora_cuda status; on failure olora_cuda_last_error() has a message
 * (per calling thread). The layer launchers take a stream, not a context: the caller must have the stream's
 * device current (cudaSetDevice); the context and model functions make their device current themselves. Kernel launchers validate their host-side arguments (sizes, null
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

/* Floats of scratch olora_cuda_paged_attention_decode needs for num_seqs sequences. Not monotonic in
 * max_context (a short context is cut into up to 8 parts, a long one into parts of 256): size it for the
 * step's own max_context. */
OLORA_CUDA_API int64_t olora_cuda_decode_scratch_floats(int32_t num_seqs, int32_t num_heads, int32_t head_dim,
                                                        int32_t max_context);

/* [olora_paged_attention_decode] split-K (flash-decoding): a block per part of the context (up to 8
 * parts of >= 64 key positions for a short context, else parts of 256), partial softmax states merged
 * by a second kernel. q float32, out bf16 [num_seqs, num_heads *
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
 * (sequence, query head, tile of 16 query rows), keys in shared-memory chunks of 16 positions,
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
/* Prefill: dequantizes int8 [n, k] with per-row scales to bf16, bf16(q * scale) (a tile that feeds cuBLAS). */
OLORA_CUDA_API int32_t olora_cuda_int8_dequantize_bf16(const int8_t* q, const float* scales, int32_t n, int32_t k,
                                                       uint16_t* out, void* stream);
/* [olora_int8_linear] per-output-row scales. */
OLORA_CUDA_API int32_t olora_cuda_int8_gemv(const uint16_t* x, int32_t m, int32_t n, int32_t k, const int8_t* q,
                                            const float* scales, float* y, int32_t accumulate, void* stream);

/* y float32 [m, n] (=|+=) x bf16 [m, k] · W bf16 [n, k]ᵀ through cuBLAS (bf16 in, float32
 * accumulate), on the context's handle and stream. */
OLORA_CUDA_API int32_t olora_cuda_gemm_bf16(olora_cuda_context* ctx, const uint16_t* x, int32_t m, int32_t k,
                                            const uint16_t* w, int32_t n, float* y, int32_t accumulate);

/* -------------------------------------------------------------------------------------------
 * The whole model (ABI 2). One olora_cuda_model per context: a Llama/Mistral decoder's weights in device
 * memory, its paged KV pools, adapter slot tables, RoPE tables and activation buffers, and one forward per
 * engine step over a batch of mixed prefill chunks and decode rows. Calls on one model come from one thread
 * at a time (the engine thread); the model is not thread-safe.
 *
 * OLORA_CUDA_HOST_DEVICE: olora_cuda_context_create(OLORA_CUDA_HOST_DEVICE) makes a HOST EMULATION context:
 * "device" memory is host memory and the model's forward runs the same orchestration (same buffers, dtypes,
 * bf16 rounding points, SGMV tile plan, decode/prefill attention split) with the CPU kernels of each CUDA
 * kernel's contract (libolora_kernels). It needs no GPU and no driver, so CI runs the whole-model path
 * through it; only the kernels themselves differ on a GPU (scripts/gpu-check.sh checks those). The layer
 * launchers above are CUDA-only and refuse nothing on such a context: do not pass them its pointers. */
#define OLORA_CUDA_HOST_DEVICE (-1)

/* Weight formats of the linear layers. */
enum {
    OLORA_CUDA_FORMAT_BF16 = 0, /* data bf16 [n, k] */
    OLORA_CUDA_FORMAT_NF4 = 1,  /* data codes ceil(n*k/2) bytes, aux absmax float32 [ceil(n*k/64)] (bitsandbytes) */
    OLORA_CUDA_FORMAT_INT8 = 2, /* data int8 [n, k], aux scales float32 [n] (per output row) */
};

/* Tensors of olora_cuda_model_set_weight; layer is ignored (pass -1) for the first three. */
enum {
    OLORA_CUDA_W_EMBED = 0,       /* bf16 [vocab, hidden] */
    OLORA_CUDA_W_FINAL_NORM = 1,  /* bf16 [hidden] */
    OLORA_CUDA_W_LM_HEAD = 2,     /* lm_head_format, [vocab, hidden] */
    OLORA_CUDA_W_INPUT_NORM = 3,  /* bf16 [hidden] */
    OLORA_CUDA_W_POST_NORM = 4,   /* bf16 [hidden] */
    OLORA_CUDA_W_QKV = 5,         /* weight_format, [q + 2 kv, hidden]: q_proj, k_proj, v_proj rows stacked */
    OLORA_CUDA_W_O = 6,           /* weight_format, [hidden, q] */
    OLORA_CUDA_W_GATE_UP = 7,     /* weight_format, [2 intermediate, hidden]: gate_proj rows, then up_proj */
    OLORA_CUDA_W_DOWN = 8,        /* weight_format, [hidden, intermediate] */
};

/* LoRA target modules of olora_cuda_model_set_adapter, in the order they run in a layer. */
enum {
    OLORA_CUDA_LORA_Q = 0, OLORA_CUDA_LORA_K = 1, OLORA_CUDA_LORA_V = 2, OLORA_CUDA_LORA_O = 3,
    OLORA_CUDA_LORA_GATE = 4, OLORA_CUDA_LORA_UP = 5, OLORA_CUDA_LORA_DOWN = 6, OLORA_CUDA_LORA_MODULES = 7,
};

/* Doubles first: the same layout under every C ABI and C#'s LayoutKind.Sequential. */
typedef struct olora_cuda_model_config {
    double rope_theta;
    double rope_factor;                 /* linear / llama3 */
    double rope_low_freq_factor;        /* llama3 */
    double rope_high_freq_factor;       /* llama3 */
    double rope_original_max_positions; /* llama3 */
    float rms_norm_eps;
    int32_t rope_kind;                  /* 0 default, 1 linear, 2 llama3 */
    int32_t vocab_size;
    int32_t hidden_size;
    int32_t intermediate_size;
    int32_t num_layers;
    int32_t num_heads;
    int32_t kv_heads;                   /* num_heads % kv_heads == 0 */
    int32_t head_dim;                   /* even, <= 256 */
    int32_t sliding_window;             /* 0: none */
    int32_t max_positions;              /* positions one sequence may reach (RoPE tables, block tables) */
    int32_t block_size;                 /* KV positions per block */
    int32_t num_blocks;                 /* KV blocks (every layer has num_blocks K and V blocks) */
    int32_t num_slots;                  /* adapter slots (0: base model only) */
    int32_t max_rank;                   /* 1..128 */
    int32_t weight_format;              /* OLORA_CUDA_FORMAT_* of the decoder projections */
    int32_t lm_head_format;             /* OLORA_CUDA_FORMAT_* of lm_head */
    int32_t max_batch_tokens;           /* > 0: activations (and the quantized layers' bf16 scratch) are allocated at
                                           create for this many tokens per forward, so a device too small fails
                                           there, not mid-serving; a larger batch is refused. 0: grown on demand */
} olora_cuda_model_config;

typedef struct olora_cuda_model olora_cuda_model;

/* Validates the config (names the bad field) and allocates the KV pools, RoPE tables, adapter slot tables
 * (zero ranks) and, with max_batch_tokens > 0, the activation buffers on the context. Weights come next, one
 * set_weight each. */
OLORA_CUDA_API int32_t olora_cuda_model_create(olora_cuda_context* ctx, const olora_cuda_model_config* config,
                                               olora_cuda_model** out);
OLORA_CUDA_API int32_t olora_cuda_model_destroy(olora_cuda_model* model);

/* Copies one tensor (host memory) into the model; sizes are checked against the config and the kind's format
 * (data_bytes, aux_bytes exact). Setting a tensor again replaces it. The forward refuses to run until every
 * tensor is set (its error names the first missing one). */
OLORA_CUDA_API int32_t olora_cuda_model_set_weight(olora_cuda_model* model, int32_t kind, int32_t layer,
                                                   const void* data, int64_t data_bytes, const void* aux,
                                                   int64_t aux_bytes);

/* Copies one (layer, module) of an adapter into slot `slot`: a bf16 [rank, in] (lora_A), bt bf16 [rank, out]
 * (lora_B transposed, scaling folded in or given by set_adapter_scale). rank 0 clears the module (a and bt
 * may be NULL): that projection of the slot adds nothing. */
OLORA_CUDA_API int32_t olora_cuda_model_set_adapter(olora_cuda_model* model, int32_t slot, int32_t layer,
                                                    int32_t module, int32_t rank, const uint16_t* a,
                                                    const uint16_t* bt);
/* The slot's scale (1 after create or clear): y += scale * (x A^T) Bt. */
OLORA_CUDA_API int32_t olora_cuda_model_set_adapter_scale(olora_cuda_model* model, int32_t slot, float scale);
/* Every module of the slot to rank 0, scale 1. */
OLORA_CUDA_API int32_t olora_cuda_model_clear_adapter(olora_cuda_model* model, int32_t slot);

/* One forward. The batch's num_tokens tokens are the tokens of num_seqs sequences one after another:
 * sequence i has seq_token_counts[i] >= 1 tokens at positions seq_start_positions[i] .. + count - 1, LoRA slot
 * seq_adapter_slots[i] (-1: base model), and KV blocks block_tables[i * block_table_stride + j] (position p in
 * block bt[p / block_size]); entries for positions the step reads (the window's, up to start + count - 1) must
 * be in [0, num_blocks), the rest are not looked at. Keys and values of the new tokens are written to the
 * pools first. logits (host, float32 [num_logit_rows, vocab]) gets the logits after token row logit_rows[r]
 * (an index into the batch's tokens). Everything is validated on the host before any device work; a refused
 * batch changes nothing. Decode sequences (one token) that come first in the batch use the split-K decode
 * kernel, the rest the tiled prefill kernel. */
OLORA_CUDA_API int32_t olora_cuda_model_forward(olora_cuda_model* model, int32_t num_tokens, const int32_t* token_ids,
                                                int32_t num_seqs, const int32_t* seq_start_positions,
                                                const int32_t* seq_token_counts, const int32_t* seq_adapter_slots,
                                                const int32_t* block_tables, int32_t block_table_stride,
                                                int32_t num_logit_rows, const int32_t* logit_rows, float* logits);

/* Copies whole KV blocks, every layer's K and V, for each (source, destination) pair, in order. */
OLORA_CUDA_API int32_t olora_cuda_model_copy_blocks(olora_cuda_model* model, const int32_t* pairs, int32_t num_pairs);

/* Bytes the model holds on its device, by use. */
OLORA_CUDA_API int32_t olora_cuda_model_memory(olora_cuda_model* model, int64_t* weight_bytes, int64_t* kv_bytes,
                                               int64_t* adapter_bytes, int64_t* activation_bytes);

/* Bytes one KV block takes over all layers (K and V, bf16), for sizing num_blocks from a budget. */
OLORA_CUDA_API int64_t olora_cuda_model_kv_block_bytes(int32_t num_layers, int32_t kv_heads, int32_t head_dim,
                                                       int32_t block_size);

#ifdef __cplusplus
}
#endif

#endif

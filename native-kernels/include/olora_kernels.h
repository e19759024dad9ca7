/* OrleansLora native kernels: a C ABI shared by the CPU and CUDA builds.
 * Every function returns 0 (or a documented non-negative value) on success and a negative
 * OLORA_E_* code on failure; none of them throws or aborts. */
#ifndef OLORA_KERNELS_H
#define OLORA_KERNELS_H

#include <stdint.h>

#if defined(OLORA_BUILDING_LIBRARY)
#define OLORA_API __attribute__((visibility("default")))
#else
#define OLORA_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

enum {
    OLORA_OK = 0,
    OLORA_E_IO = -1,        /* the file could not be read or written */
    OLORA_E_FORMAT = -2,    /* not a 64-bit little-endian ELF file, or a malformed one */
    OLORA_E_ARGUMENT = -3,  /* a null or otherwise invalid argument */
};

/* ABI version of this library; the engine refuses a library whose major differs. */
OLORA_API int32_t olora_abi_version(void);

/* Marks the version need `version_name` (e.g. "GLIBCXX_3.4.32") of the ELF file at `path`
 * weak (VER_FLG_WEAK in vna_flags), so the dynamic loader accepts a libstdc++ that lacks it.
 * With dry_run != 0 nothing is written.
 * Returns 0 when the need is absent, 1 when it is already weak, 2 when it was (or, in a dry run,
 * would be) made weak, or a negative OLORA_E_* code. Writes go to a temporary file renamed over
 * the original, so a hard link into a package cache is never modified. */
OLORA_API int32_t olora_elf_weaken_version_need(const char* path, const char* version_name, int32_t dry_run);

/* 1 when the process resolves std::ios_base_library_init() (the GLIBCXX_3.4.32 symbol that
 * libLibTorchSharp needs), from libstdc++ or from the shim in this library; calls it once. */
OLORA_API int32_t olora_ios_base_library_init_available(void);


/* ===================================================================================
 * Compute kernels (CPU). Conventions for everything below:
 *  - All matrices are row-major. A "row stride" is counted in ELEMENTS (not bytes) and must be
 *    >= the number of columns that are read or written in that matrix.
 *  - Dimensions are int32, strides int64; every dimension must be >= 1 unless stated otherwise.
 *  - Accumulation is always in float32, whatever the storage dtype.
 *  - bf16 is raw bfloat16 bits stored as uint16_t (torch.bfloat16 layout). Stores to bf16 round
 *    to nearest even.
 *  - Invalid arguments (null pointers, bad dims/strides, bad slot index or rank, unknown dtype)
 *    return OLORA_E_ARGUMENT before anything is written. Nothing throws or aborts.
 *  - Work is split over a persistent pool of worker threads (both cores by default); a call
 *    made while another thread is using the pool runs on the calling thread alone. All
 *    functions are safe to call from several threads at once on disjoint outputs.
 *  - The SIMD path (AVX-512 / AVX2 / scalar) is chosen once from CPUID; see olora_set_isa.
 * =================================================================================== */

enum {
    OLORA_DTYPE_F32 = 0,  /* float32 */
    OLORA_DTYPE_BF16 = 1, /* bfloat16 storage, float32 accumulation */
    OLORA_DTYPE_F16 = 2,  /* IEEE float16: only olora_check_finite reads it (safetensors F16 files) */
};

enum {
    OLORA_ISA_AUTO = 0,   /* best supported by this CPU (the default) */
    OLORA_ISA_SCALAR = 1, /* portable C++ fallback */
    OLORA_ISA_AVX2 = 2,   /* AVX2 + FMA */
    OLORA_ISA_AVX512 = 3, /* AVX-512 F/BW/VL/DQ + BF16 (+VNNI) */
    OLORA_ISA_AMX = 4,    /* AVX-512 as above, plus AMX-BF16 tiles for the quantized linears called
                             with OLORA_COMPUTE_BF16 (see olora_nf4_linear_ex) */
};

/* Selects the SIMD path used by every kernel (process-wide; meant for tests and benchmarks).
 * OLORA_ISA_AUTO restores the CPUID choice. Returns OLORA_OK, or OLORA_E_ARGUMENT for an unknown
 * value or an ISA this CPU does not support (AMX also needs Linux to grant this process the tile
 * state, asked for on first use). The environment variable OLORA_ISA (scalar|avx2|avx512|amx)
 * sets the initial choice. */
OLORA_API int32_t olora_set_isa(int32_t isa);
/* The ISA the kernels currently use (never OLORA_ISA_AUTO). */
OLORA_API int32_t olora_get_isa(void);
/* Best ISA supported by this CPU (what OLORA_ISA_AUTO selects). */
OLORA_API int32_t olora_detect_isa(void);

enum {
    OLORA_BF16_GEMV_AUTO = 0, /* the CPU's default: FMA on any Intel CPU, DOT on others (the default) */
    OLORA_BF16_GEMV_DOT = 1,  /* vdpbf16ps: 32 products an instruction */
    OLORA_BF16_GEMV_FMA = 2,  /* float32 FMAs on the bfloat16-rounded operands: 16 products an instruction */
};

/* How the AVX-512 NF4 GEMV under OLORA_COMPUTE_BF16 (1-8 rows of x, K % 64 == 0: decode; with OLORA_ISA_AMX,
 * 6-8 rows take the tiles instead) forms its products. Both round x and the code book to bfloat16 and sum in
 * float32, rounding in different orders (results differ in the last bits). vdpbf16ps is the faster where it issues
 * at the FMA rate (AMD Zen 4/5); Intel Xeons since Sapphire Rapids issue it at half that rate, and there the FMAs
 * are 1.2-1.6x faster (native-kernels/BENCHMARKS.md). The default takes the FMAs on every Intel CPU (other Intel
 * cores with AVX-512 BF16 were not measured). Process-wide; meant for tests and benchmarks. OLORA_BF16_GEMV_AUTO
 * restores the default, which the environment variable OLORA_BF16_GEMV overrides when it is `dot` or `fma`
 * (other values are ignored). Returns OLORA_OK, or OLORA_E_ARGUMENT for an unknown value. */
OLORA_API int32_t olora_set_bf16_gemv(int32_t route);
/* The route in use (never OLORA_BF16_GEMV_AUTO). */
OLORA_API int32_t olora_get_bf16_gemv(void);

/* Number of threads (the caller included) the kernels use; 0 = all hardware threads (the
 * default; the environment variable OLORA_NUM_THREADS overrides it). Range 0..256, else
 * OLORA_E_ARGUMENT. Not to be called while kernels run on other threads. */
OLORA_API int32_t olora_set_num_threads(int32_t num_threads);
OLORA_API int32_t olora_get_num_threads(void);

/* Bytes each idle thread of the kernels' pool may prefetch of the weights the next decode GEMV (NF4 or int8,
 * <= 2 rows) reads, while the caller works alone between kernels; 0 turns it off. The default is 1 MiB, or
 * OLORA_IDLE_PREFETCH_KB from the environment. Range 0..2^30, else OLORA_E_ARGUMENT. Returns OLORA_OK; the
 * getter returns the current value. Safe to call at any time. */
OLORA_API int32_t olora_set_idle_prefetch_bytes(int64_t bytes);
OLORA_API int64_t olora_get_idle_prefetch_bytes(void);

/* ----------------------------------------------------------------------------------
 * SGMV: segmented multi-LoRA (Punica-style). One call covers a whole batch.
 *
 * Rows: segment i covers rows seg_starts[i] .. seg_starts[i+1]-1 of x / v / y (row indices are
 * absolute, so seg_starts[0] may be > 0). seg_starts has num_segments+1 entries, must be
 * non-decreasing and >= 0; empty segments are allowed. num_segments may be 0 (nothing to do).
 * seg_slots[i] is the adapter slot of segment i, in [0, num_slots), or -1 for "no adapter":
 * the rows of such a segment are neither read nor written (in v or y).
 *
 * Slot tables (one per layer and projection), padded to max_rank (1..4096):
 *   a_table: [num_slots, max_rank, in_features]   row k of slot s = lora_A[k, :]   (PEFT [r, in])
 *   b_table: [num_slots, max_rank, out_features]  row k of slot s = lora_B[:, k]   (PEFT lora_B
 *            is [out, r]; store its TRANSPOSE, so one slot's rows 0..r-1 are contiguous)
 * Rows k >= slot_ranks[s] of a slot are never read (padding, may hold anything).
 * slot_ranks[num_slots]: the rank r_s of each slot; a slot used by a segment must have
 * 1 <= r_s <= max_rank (unused slots are not checked). Any rank is allowed (1, 3, 17, 128 ...)
 * and ranks may differ between the segments of one call.
 * slot_scales[num_slots]: float scale per slot (lora_alpha / r, or / sqrt(r) for rsLoRA).
 * dtype applies to x, y and the tables; the intermediate v is always float32.
 * ---------------------------------------------------------------------------------- */

/* Shrink: v[row, 0:r] = x[row, :] · A_sᵀ for every row of every segment with slot s >= 0.
 * x: dtype, [rows, in_features], stride x_row_stride. v: float32, stride v_row_stride
 * (>= max_rank); columns r..max_rank-1 of v are not written. */
OLORA_API int32_t olora_sgmv_shrink(int32_t dtype,
                                    const void* x, int64_t x_row_stride,
                                    float* v, int64_t v_row_stride,
                                    const int32_t* seg_starts, const int32_t* seg_slots, int32_t num_segments,
                                    const void* a_table, int32_t num_slots, int32_t max_rank,
                                    int32_t in_features, const int32_t* slot_ranks);

/* Expand: y[row, :] += scale_s · v[row, 0:r] · B_s  (B_s = b_table slot s, [r, out_features],
 * i.e. lora_Bᵀ) for every row of every segment with slot s >= 0. y: dtype, stride y_row_stride. */
OLORA_API int32_t olora_sgmv_expand(int32_t dtype,
                                    const float* v, int64_t v_row_stride,
                                    void* y, int64_t y_row_stride,
                                    const int32_t* seg_starts, const int32_t* seg_slots, int32_t num_segments,
                                    const void* b_table, int32_t num_slots, int32_t max_rank,
                                    int32_t out_features, const int32_t* slot_ranks, const float* slot_scales);

/* Floats of scratch that olora_sgmv / olora_bgmv need: rows * max_rank (rows = total rows). */
OLORA_API int64_t olora_sgmv_scratch_elems(int32_t rows, int32_t max_rank);

/* Fused shrink + expand: y[row, :] += scale_s · (x[row, :] · A_sᵀ) · B_s for every row of every
 * segment with slot s >= 0 (x and y may not alias). scratch: float32 of at least
 * olora_sgmv_scratch_elems(seg_starts[num_segments] - seg_starts[0], max_rank) elements, or NULL
 * (then a buffer owned by the calling thread is used and kept for the next call). */
OLORA_API int32_t olora_sgmv(int32_t dtype,
                             const void* x, int64_t x_row_stride,
                             void* y, int64_t y_row_stride,
                             const int32_t* seg_starts, const int32_t* seg_slots, int32_t num_segments,
                             const void* a_table, const void* b_table, int32_t num_slots, int32_t max_rank,
                             int32_t in_features, int32_t out_features,
                             const int32_t* slot_ranks, const float* slot_scales,
                             float* scratch, int64_t scratch_elems);

/* olora_sgmv with the slot tables in their own dtype: x and y in dtype, a_table and b_table in
 * weight_dtype (OLORA_DTYPE_F32 or OLORA_DTYPE_BF16), float32 accumulation. Float32 activations
 * with bfloat16 tables read half the table bytes of an all-float32 call, which is what a decode
 * step over many adapters spends its LoRA time on. weight_dtype == dtype is olora_sgmv. */
OLORA_API int32_t olora_sgmv_mixed(int32_t dtype, int32_t weight_dtype,
                                   const void* x, int64_t x_row_stride,
                                   void* y, int64_t y_row_stride,
                                   const int32_t* seg_starts, const int32_t* seg_slots, int32_t num_segments,
                                   const void* a_table, const void* b_table, int32_t num_slots, int32_t max_rank,
                                   int32_t in_features, int32_t out_features,
                                   const int32_t* slot_ranks, const float* slot_scales,
                                   float* scratch, int64_t scratch_elems);

/* Decode-shaped fused shrink + expand (BGMV): one slot per row. Rows 0..num_rows-1 of x and y;
 * row_slots[num_rows] in [-1, num_slots) (-1 = untouched). Consecutive rows with the same slot
 * are merged into one segment, so sorting rows by slot is faster but not required.
 * Other arguments as for olora_sgmv (scratch >= olora_sgmv_scratch_elems(num_rows, max_rank)
 * or NULL). num_rows may be 0. */
OLORA_API int32_t olora_bgmv(int32_t dtype,
                             const void* x, int64_t x_row_stride,
                             void* y, int64_t y_row_stride,
                             int32_t num_rows, const int32_t* row_slots,
                             const void* a_table, const void* b_table, int32_t num_slots, int32_t max_rank,
                             int32_t in_features, int32_t out_features,
                             const int32_t* slot_ranks, const float* slot_scales,
                             float* scratch, int64_t scratch_elems);

/* Strided copy with conversion, on the calling thread only (no pool): dst[i, j] =
 * scale * src[i * src_row_stride + j * src_col_stride] for i < rows, j < cols, dst row-major with
 * stride dst_row_stride (>= cols); strides in elements, src_col_stride may be anything (a
 * transpose: src_row_stride 1, src_col_stride = the source's row length). src_dtype, dst_dtype:
 * OLORA_DTYPE_F32 or OLORA_DTYPE_BF16; the product is rounded to bf16 (to nearest even) once.
 * Stacks adapter factors into slot layout (lora_A rows, lora_B transposed, scaling folded in). */
OLORA_API int32_t olora_convert_2d(int32_t src_dtype, const void* src, int64_t src_row_stride,
                                   int64_t src_col_stride, int32_t dst_dtype, void* dst,
                                   int64_t dst_row_stride, int32_t rows, int32_t cols, float scale);

/* Finds the first of n values (dtype OLORA_DTYPE_F32, _BF16 or _F16, contiguous) that is NaN (any
 * payload, either sign), +-Inf, or larger in magnitude than max_abs; denormals are ordinary finite
 * values. max_abs >= 0; +INFINITY refuses only non-finite values. A value exactly equal to max_abs
 * passes. Returns that value's index, n when there is none (0 for n == 0, data may then be null), or
 * OLORA_E_ARGUMENT (unknown dtype, n < 0, max_abs NaN or negative, null data). Calling thread only;
 * one pass of integer compares on the bit patterns, so floating-point modes do not matter. The
 * engine runs it over every adapter tensor it registers or loads. */
OLORA_API int64_t olora_check_finite(int32_t dtype, const void* data, int64_t n, float max_abs);

/* ----------------------------------------------------------------------------------
 * Dense and quantized linear layers: y[M, N] (=|+=) x[M, K] · Wᵀ, W is [N, K] (nn.Linear
 * layout). x and y are float32 (strides >= K and >= N). m may be 0 (nothing to do). With
 * accumulate == 0, y is overwritten; otherwise the product is added to y. y may not alias x.
 * On AVX-512, small M (NF4: M <= 8 with K % 64 == 0; int8: M <= 8) uses fused dequantize-and-dot
 * kernels (weights are read once, never materialised; from M = 3 each weight block is decoded
 * once for all rows of x and K is walked in L1-sized chunks). Larger M, other ISAs and other K
 * dequantize L2-sized tiles of W into a per-thread float32 buffer and run a register-blocked
 * micro-kernel (the prefill path). The quantized linears' _ex forms take a compute mode: with
 * OLORA_COMPUTE_BF16 and the AMX path active (OLORA_ISA_AMX), NF4 from M = 6 (K % 64 == 0) and int8
 * from M = 9 (K % 32 == 0) dequantize groups of 32 W rows to bfloat16 and multiply on the tile
 * unit: x and W are rounded to bfloat16 (each product off by < 2^-8 relative), sums are float32 —
 * 2.4-16x faster at M = 16-256 on 4096 x 4096 (native-kernels/BENCHMARKS.md). On AVX-512, NF4 with
 * OLORA_COMPUTE_BF16, M <= 8 and K % 64 == 0 (below the AMX rows where those apply) takes bfloat16
 * products: x and the code book rounded to bfloat16, the block's absmax applied in float32, the same bound
 * per product, multiplied by `vdpbf16ps` or by float32 FMAs (olora_set_bf16_gemv; an x holding a nonzero
 * |x| below 2^-100, which that instruction would flush, or a finite one that would round to inf takes the
 * float32 kernels on either route). On AVX-512 without AMX
 * (AMD Zen 4/5), NF4 (K % 64 == 0) and int8 (K % 32 == 0) from M = 9 take the AMX path's numbers on
 * `vdpbf16ps` instead of the tiles: groups of 32 W rows dequantized to bfloat16, x rounded to
 * bfloat16, float32 sums (1.6x the float32 path at M = 32 on 4096 x 4096; the same x range check
 * sends an x it cannot carry to the float32 kernels). OLORA_COMPUTE_INT8
 * adds, for NF4 with M <= 8 and K % 64 == 0 on AVX-512 (VNNI), int8 dot products (see the enum):
 * 1.4-3x faster GEMV where compute bounds it; at M = 4-8 2-3x the float32 kernel and 1.6-1.9x the
 * AMX tiles (M = 8). Everything else, and the forms without _ex, compute in float32.
 * ---------------------------------------------------------------------------------- */

enum {
    OLORA_COMPUTE_F32 = 0,  /* float32 products and sums */
    OLORA_COMPUTE_BF16 = 1, /* bfloat16 products where the CPU has a faster unit for them (AMX tiles; on
                               AVX-512 BF16 the NF4 GEMV at M <= 8 and, without AMX, both quantized
                               linears from M = 9), float32 sums */
    OLORA_COMPUTE_INT8 = 2, /* as BF16, except that NF4 with M <= 8 rows (K % 64 == 0) takes int8 dot
                               products on AVX-512 VNNI, ahead of the AMX tiles: x quantized per
                               64-value block to int8 (round(x * (127 / max|x|))), the code book as
                               round(127 code); int32 sums per block, float32 across blocks (IPEX's
                               weight-only lowp_mode INT8) */
};

/* Plain float32: y = x · wᵀ, w [N, K] with row stride w_row_stride (>= K). */
OLORA_API int32_t olora_gemm_f32(const float* x, int64_t x_row_stride,
                                 const float* w, int64_t w_row_stride,
                                 float* y, int64_t y_row_stride,
                                 int32_t m, int32_t n, int32_t k, int32_t accumulate);

/* NF4 (bitsandbytes layout, blocksize 64): W [N, K] row-major flattened to numel = N*K
 * elements; element g belongs to block g / 64 and is code_book[code(g)] * absmax[g / 64].
 * codes: ceil(numel / 2) bytes, element g in byte g / 2, in the HIGH nibble when g is even
 *        (the first element of a pair) and the LOW nibble when g is odd (bitsandbytes order).
 * absmax: ceil(numel / 64) floats. A final partial block (numel % 64 != 0) is allowed.
 * Any K works (blocks may straddle rows); K % 64 == 0 takes the fast AVX-512 paths.
 * Code book (index 0..15): the 16 NF4 values of QLoRA / bitsandbytes, see olora_nf4_code_book. */
OLORA_API int32_t olora_nf4_linear(const float* x, int64_t x_row_stride,
                                   float* y, int64_t y_row_stride,
                                   int32_t m, int32_t n, int32_t k,
                                   const uint8_t* codes, const float* absmax, int32_t accumulate);
/* Same with a compute mode (OLORA_COMPUTE_F32, _BF16 or _INT8). */
OLORA_API int32_t olora_nf4_linear_ex(const float* x, int64_t x_row_stride,
                                      float* y, int64_t y_row_stride,
                                      int32_t m, int32_t n, int32_t k,
                                      const uint8_t* codes, const float* absmax, int32_t accumulate,
                                      int32_t compute);

/* Copies the 16 NF4 code book values to out[16]. */
OLORA_API int32_t olora_nf4_code_book(float* out);

/* Quantizes numel (>= 1) floats to NF4 as above: absmax[b] = max |w| over block b (0 for an
 * all-zero block), code = nearest code-book value to w / absmax (ties to the lower index).
 * Unused low nibble of an odd numel's last byte is code 7 (0.0). Non-finite input:
 * OLORA_E_ARGUMENT, and the contents of codes/absmax are then unspecified. */
OLORA_API int32_t olora_nf4_quantize(const float* w, int64_t numel, uint8_t* codes, float* absmax);

/* Dequantizes numel NF4 values into out (float32). */
OLORA_API int32_t olora_nf4_dequantize(const uint8_t* codes, const float* absmax, int64_t numel, float* out);

/* int8, per output channel symmetric: W[n, k] = q[n, k] * scales[n]; q row-major [N, K]
 * (row stride K), scales float32 [N]. */
OLORA_API int32_t olora_int8_linear(const float* x, int64_t x_row_stride,
                                    float* y, int64_t y_row_stride,
                                    int32_t m, int32_t n, int32_t k,
                                    const int8_t* q, const float* scales, int32_t accumulate);
/* Same with a compute mode (OLORA_COMPUTE_F32, _BF16 or _INT8). */
OLORA_API int32_t olora_int8_linear_ex(const float* x, int64_t x_row_stride,
                                       float* y, int64_t y_row_stride,
                                       int32_t m, int32_t n, int32_t k,
                                       const int8_t* q, const float* scales, int32_t accumulate,
                                       int32_t compute);

/* Quantizes w [N, K] (row-major, contiguous) to int8: scales[n] = max_k |w[n, k]| / 127 (0 for an
 * all-zero row), q = round-half-away(w / scale) clamped to [-127, 127]. Non-finite input:
 * OLORA_E_ARGUMENT, and the contents of q/scales are then unspecified. */
OLORA_API int32_t olora_int8_quantize(const float* w, int32_t n, int32_t k, int8_t* q, float* scales);

/* Dequantizes q [N, K] with scales [N] into out [N, K] float32. */
OLORA_API int32_t olora_int8_dequantize(const int8_t* q, const float* scales, int32_t n, int32_t k, float* out);

/* ----------------------------------------------------------------------------------
 * Paged KV cache and attention (the contract shared with the CUDA runner and the C# runners;
 * it matches the engine's Attention.cs / AttentionPlan.cs numerics).
 *
 * Pools: per layer one K pool and one V pool, each [num_blocks, kv_heads, block_size, head_dim]
 * row-major in the cache dtype (OLORA_DTYPE_F32 or OLORA_DTYPE_BF16). block_size >= 1 (a power of
 * two is not required; a fixed-slot cache is block_size = max length, one block per sequence).
 * Position p of a sequence with block table row bt lives in block bt[p / block_size], row
 * p % block_size. Block tables: int32 [num_seqs, max_blocks_per_seq] with row stride
 * block_table_stride (>= max_blocks_per_seq); only the entries of the positions a call reads are
 * looked at, and each of those must be in [0, num_blocks) (so entries for positions outside a
 * sliding window may be -1). Several sequences may share blocks (a common prefix): attention only
 * reads the pools.
 * context_lens int32 [num_seqs]: the positions in the cache the sequence's last query token may see
 * (after this step's KV append), 0 <= context_len <= max_blocks_per_seq * block_size.
 * Queries and outputs: float32 [tokens, num_heads, head_dim], a token's heads contiguous, rows
 * strided by q_stride / out_stride (>= num_heads * head_dim). num_heads a multiple of kv_heads
 * (GQA: query head h reads KV head h / (num_heads / kv_heads)). out may be q (same stride: in
 * place); no other overlap.
 * A query at position p sees key positions j <= p and, with sliding_window w >= 1, j > p - w
 * (sliding_window 0 = none). Scores are scaled by 1 / sqrt(head_dim); softmax and all sums are
 * float32 (online softmax; bf16 keys / values are widened exactly).
 * ---------------------------------------------------------------------------------- */

/* Writes the keys and values of new tokens into the pools: token t's rows go to slot
 * slot_mapping[t] = block * block_size + row (vLLM's slot_mapping), or nowhere when it is -1.
 * keys / values: float32 [num_tokens, kv_heads, head_dim], token stride key_stride / value_stride
 * (>= kv_heads * head_dim; a view into a stacked QKV output works). float32 is copied; bf16 is
 * rounded to nearest even (NaN stays NaN), as torch's .to(bfloat16). Slots must be in
 * [-1, num_blocks * block_size) (checked before anything is written) and distinct. */
OLORA_API int32_t olora_kv_append(int32_t cache_dtype, const float* keys, int64_t key_stride,
                                  const float* values, int64_t value_stride, const int64_t* slot_mapping,
                                  int32_t num_tokens, void* k_pool, void* v_pool, int64_t num_blocks,
                                  int32_t block_size, int32_t kv_heads, int32_t head_dim);

/* Copies whole blocks, K and V (copy-on-write of a shared partial block): block_mapping int32
 * [num_pairs, 2] = (source, destination) pairs, applied in order, source != destination, both in
 * [0, num_blocks). Runs on the calling thread. */
OLORA_API int32_t olora_kv_copy_blocks(int32_t cache_dtype, void* k_pool, void* v_pool, int64_t num_blocks,
                                       int32_t block_size, int32_t kv_heads, int32_t head_dim,
                                       const int32_t* block_mapping, int32_t num_pairs);

/* Decode attention: one query token per sequence (row i of q and out is sequence i) at position
 * context_lens[i] - 1, over the sequence's cached positions (the sliding window's last w). A
 * sequence with context_len 0 gets a zero output row. Parallel over (sequence, KV head); with few
 * of those, long contexts are split into parts whose partial softmax states are merged
 * (flash-decoding), so that batch 1 uses every thread. */
OLORA_API int32_t olora_paged_attention_decode(int32_t cache_dtype, const float* q, int64_t q_stride,
                                               float* out, int64_t out_stride,
                                               const void* k_pool, const void* v_pool, int64_t num_blocks,
                                               int32_t block_size, const int32_t* block_tables,
                                               int64_t block_table_stride, int32_t max_blocks_per_seq,
                                               const int32_t* context_lens, int32_t num_seqs,
                                               int32_t num_heads, int32_t kv_heads, int32_t head_dim,
                                               int32_t sliding_window);

/* Chunked prefill attention: sequence i owns query rows query_start_loc[i] .. query_start_loc[i+1]-1
 * (T_i tokens; query_start_loc int32 [num_seqs + 1], non-decreasing, >= 0; T_i may be 0) at
 * positions context_lens[i] - T_i .. context_lens[i] - 1 (T_i <= context_len: the chunk's own keys
 * and values are appended first). Each row attends causally (and within the window) to every cached
 * position of its sequence up to its own: earlier chunks, shared prefix blocks and the chunk itself.
 * Tiled (query tiles x key chunks of 32 positions, online softmax): memory does not grow with T or
 * the context. A T_i = 1 sequence is a decode step (olora_paged_attention_decode also splits long
 * contexts over threads). */
OLORA_API int32_t olora_paged_attention_prefill(int32_t cache_dtype, const float* q, int64_t q_stride,
                                                float* out, int64_t out_stride,
                                                const void* k_pool, const void* v_pool, int64_t num_blocks,
                                                int32_t block_size, const int32_t* block_tables,
                                                int64_t block_table_stride, int32_t max_blocks_per_seq,
                                                const int32_t* query_start_loc, const int32_t* context_lens,
                                                int32_t num_seqs, int32_t num_heads, int32_t kv_heads,
                                                int32_t head_dim, int32_t sliding_window);

/* ----------------------------------------------------------------------------------
 * Row-wise fused ops of a decoder layer, float32, rows strided (>= the row length). rows /
 * num_tokens may be 0. Decode-sized calls run on the calling thread; larger ones over the pool.
 * ---------------------------------------------------------------------------------- */

/* RMSNorm as transformers: out = x / sqrt(mean(x^2) + eps) * weight, statistics in float32
 * (x * rsqrt, then * weight). weight float32 [hidden]; eps finite, >= 0. out may be x. */
OLORA_API int32_t olora_rmsnorm(const float* x, int64_t x_stride, const float* weight, float* out,
                                int64_t out_stride, int32_t rows, int32_t hidden, float eps);

/* Residual add + RMSNorm in one pass over memory: h = x + residual; residual = h (the new residual
 * stream); out = rmsnorm(h) as olora_rmsnorm. out may be x; residual may not overlap x or out. */
OLORA_API int32_t olora_add_rmsnorm(const float* x, int64_t x_stride, float* residual, int64_t residual_stride,
                                    const float* weight, float* out, int64_t out_stride,
                                    int32_t rows, int32_t hidden, float eps);

/* RoPE in place, transformers' rotate_half convention (pairs (i, i + head_dim / 2)):
 * x = x * cos + rotate_half(x) * sin for the num_heads heads of q and the kv_heads heads of k
 * (kv_heads may be 0, k then unused) of each token, at positions[t] in [0, max_positions).
 * cos_table / sin_table: float32 [max_positions, head_dim] as RotaryEmbedding.cs fills them (both
 * halves of a row equal). Products and sums are rounded separately (no FMA), so the result has the
 * same bits as the engine's libtorch ops. head_dim even. */
OLORA_API int32_t olora_rope(float* q, int64_t q_stride, int32_t num_heads, float* k, int64_t k_stride,
                             int32_t kv_heads, int32_t head_dim, const int32_t* positions, int32_t num_tokens,
                             const float* cos_table, const float* sin_table, int32_t max_positions);

/* SwiGLU on the stacked gate / up projection: gate_up [rows, 2 * intermediate] (gate first, as
 * SwiGluMlp stacks them); out[r, i] = silu(gate[r, i]) * up[r, i], silu(g) = g / (1 + exp(-g)) in
 * float32 (exp saturates: no NaN from large |g|). out [rows, intermediate] may be gate_up itself
 * (same stride: the result lands in the gate half). */
OLORA_API int32_t olora_swiglu(const float* gate_up, int64_t gate_up_stride, float* out, int64_t out_stride,
                               int32_t rows, int32_t intermediate);

/* Greedy sampling: out_ids[r] = index of the largest logit of row r (the first on ties; the first
 * NaN if the row has one, as torch.argmax). */
OLORA_API int32_t olora_argmax(const float* logits, int64_t row_stride, int32_t rows, int32_t vocab,
                               int32_t* out_ids);

/* Top-k sampling's candidates: out_ids[r * k + j] / out_values[r * k + j] (out_values may be NULL)
 * = the k largest logits of row r in descending order, ties by the lower index first, NaN above
 * every number (torch.topk's order). 1 <= k <= vocab. One pass over the row with a vector scan
 * against the k-th best so far. */
OLORA_API int32_t olora_topk(const float* logits, int64_t row_stride, int32_t rows, int32_t vocab, int32_t k,
                             int32_t* out_ids, float* out_values);

/* ----------------------------------------------------------------------------------
 * A whole decode step's decoder layers in one call, with or without LoRA rows. Each layer
 * runs exactly the kernels the engine calls one by one, in the same order and on the same
 * buffers, so the numbers are the same bits:
 *   normed = pending ? add_rmsnorm(mlp_output, residual) : rmsnorm(residual)   (input norm)
 *   qkv = normed · Wqkvᵀ (+ LoRA q, k, v); rope(q, k at positions); kv_append(k, v);
 *   attended = attention(q); projected = attended · Woᵀ (+ LoRA o)
 *   normed = add_rmsnorm(projected, residual)                                 (post-attention norm)
 *   gate_up = normed · Wguᵀ (+ LoRA gate, up); activation = swiglu(gate_up);
 *   mlp_output = activation · Wdownᵀ (+ LoRA down)
 * and every layer after the first starts pending. The last layer's MLP output is left in
 * mlp_output, not added to residual (the caller's final norm adds it, as the next layer would).
 * What it saves is the caller's work between kernels (a managed runtime's dozens of calls per
 * layer), not kernel time.
 * ---------------------------------------------------------------------------------- */

enum {
    OLORA_LINEAR_F32 = 0,  /* weight: float32 [N, K], row stride K; scales unused (NULL) */
    OLORA_LINEAR_NF4 = 1,  /* weight: NF4 codes, scales: absmax (olora_nf4_linear_ex's layout) */
    OLORA_LINEAR_INT8 = 2, /* weight: int8 q [N, K], scales: [N] (olora_int8_linear_ex's layout) */
};

/* One projection's weights: y = x · Wᵀ, W [out_features, in_features]. */
typedef struct olora_linear_ref {
    int32_t kind;         /* OLORA_LINEAR_* */
    int32_t compute;      /* OLORA_COMPUTE_* for NF4 and int8; ignored for float32 */
    int32_t out_features; /* N */
    int32_t in_features;  /* K */
    const void* weight;
    const float* scales;
} olora_linear_ref;

/* One decoder layer's weights (Llama layout; q/k/v and gate/up stacked by rows as the engine
 * stacks them: qkv [(heads + 2 kv_heads) head_dim, hidden], gate_up [2 intermediate, hidden]). */
typedef struct olora_decode_layer {
    const float* input_norm;          /* [hidden] */
    const float* post_attention_norm; /* [hidden] */
    float input_norm_eps;
    float post_attention_norm_eps;
    olora_linear_ref qkv;
    olora_linear_ref o;
    olora_linear_ref gate_up;
    olora_linear_ref down;
} olora_decode_layer;

/* One projection's LoRA tables in one layer, as olora_sgmv_mixed takes them: a_table [num_slots,
 * max_rank, in_features], b_table [num_slots, max_rank, out_features] (lora_B transposed, the
 * scaling folded in or in slot_scales), in the step's lora_dtype; slot_ranks [num_slots]: each slot's
 * rank on this projection, 0 where its adapter leaves the projection alone (nothing of it is read).
 * slot_ranks NULL: no slot touches this projection in this layer. */
typedef struct olora_lora_ref {
    const void* a_table;
    const void* b_table;
    const int32_t* slot_ranks;
} olora_lora_ref;

/* A layer's projections in the order of olora_decode_step.lora (LoRA's target modules). */
enum {
    OLORA_LORA_Q = 0,
    OLORA_LORA_K = 1,
    OLORA_LORA_V = 2,
    OLORA_LORA_O = 3,
    OLORA_LORA_GATE = 4,
    OLORA_LORA_UP = 5,
    OLORA_LORA_DOWN = 6,
    OLORA_LORA_MODULES = 7,
};

/* The step: rows sequences of one token each, and the buffers and KV cache they run on. Buffers
 * are float32 [rows, width] with row stride = width (contiguous): residual and mlp_output
 * [hidden], normed [hidden], qkv [(heads + 2 kv_heads) head_dim], attended [heads head_dim],
 * projected [hidden], gate_up [2 intermediate], activation [intermediate]. None may overlap.
 * KV: k_pools[l] / v_pools[l] are layer l's pools as olora_kv_append and
 * olora_paged_attention_decode take them; slot_mapping [rows], block_tables, context_lens [rows]
 * as those take them. positions [rows] index the RoPE tables [max_positions, head_dim]. */
typedef struct olora_decode_step {
    int32_t rows, hidden, num_heads, kv_heads, head_dim, intermediate;
    int32_t pending; /* mlp_output holds a previous layer's output still to be added to residual */
    int32_t cache_dtype;
    float* residual;
    float* normed;
    float* qkv;
    float* attended;
    float* projected;
    float* gate_up;
    float* activation;
    float* mlp_output;
    const int32_t* positions;
    const float* cos_table;
    const float* sin_table;
    int32_t max_positions;
    int32_t block_size;
    int64_t num_blocks;
    void* const* k_pools;
    void* const* v_pools;
    const int64_t* slot_mapping;
    const int32_t* block_tables;
    int64_t block_table_stride;
    int32_t max_blocks_per_seq;
    int32_t sliding_window;
    const int32_t* context_lens;
    /* LoRA (lora_segments 0: none). Segment i covers rows lora_seg_starts[i] ..
     * lora_seg_starts[i + 1] - 1 and names slot lora_seg_slots[i] (-1: the base model), as
     * olora_sgmv_mixed takes them; lora [num_layers * OLORA_LORA_MODULES] holds each layer's
     * projections' tables. Each projection's update is added to its part of the stacked output
     * right after that output's GEMV, as the engine's per-layer path adds it, by olora_sgmv_mixed
     * with the slots whose rank there is 0 made -1. */
    int32_t lora_segments;
    int32_t lora_dtype;    /* the tables' dtype: OLORA_DTYPE_F32 or OLORA_DTYPE_BF16 */
    int32_t lora_slots;    /* num_slots */
    int32_t lora_max_rank; /* max_rank */
    const int32_t* lora_seg_starts;
    const int32_t* lora_seg_slots;
    const float* lora_slot_scales; /* [num_slots] */
    const olora_lora_ref* lora;
} olora_decode_step;

/* Runs layers[0 .. num_layers) on step (see above). layer_struct_size and step_struct_size are
 * the caller's sizeof(olora_decode_layer) and sizeof(olora_decode_step): a binding built against
 * another layout is refused. Everything the kernels would refuse is checked before anything is
 * written (OLORA_E_ARGUMENT): every layer's dimensions, weights and norms, the buffers, the
 * positions, KV slots, block tables and context lengths against every layer's pools, and the LoRA
 * segments, ranks and the tables a used slot needs. What cannot be checked here is that the
 * pointers name memory of the sizes given (the LoRA tables' widths included). */
OLORA_API int32_t olora_decode_layers(const olora_decode_layer* layers, int32_t layer_struct_size,
                                      int32_t num_layers, const olora_decode_step* step,
                                      int32_t step_struct_size);

#ifdef __cplusplus
}
#endif

#endif

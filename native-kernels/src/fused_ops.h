// Internal interface of the fused decode-step kernels (paged attention, KV append, RMSNorm, RoPE,
// SwiGLU): one table of per-row / per-task functions per ISA (fused_scalar.cpp, fused_avx2.cpp,
// fused_avx512.cpp, all built from fused_impl.h), driven by the C ABI entry points in
// paged_attention_cpu.cpp and fused_ops_cpu.cpp, which check arguments, split work into tasks and
// own every buffer (the ISA sources use no std containers).
#pragma once

#include <cstdint>

namespace olora {

// Keys per step of the online softmax: scores, maxima and exponentials are computed for this many
// key positions at once; bf16 K/V rows of a step are converted into a float32 tile first.
constexpr int kAttnChunk = 32;
// Query vectors one attention task processes together (prefill: tokens x GQA group), unless one
// GQA group alone is larger.
constexpr int kAttnMaxRows = 32;

// What every attention task of one call shares.
struct AttnGeom {
    int cache_dtype;     // OLORA_DTYPE_F32 or OLORA_DTYPE_BF16
    const void* k_pool;  // [num_blocks, kv_heads, block_size, head_dim]
    const void* v_pool;
    int block_size;
    int kv_heads;
    int group;  // query heads per KV head (num_heads / kv_heads)
    int head_dim;
    int head_dim_pad;  // head_dim rounded up to 16 floats: row stride of every scratch tile
    float scale;       // 1 / sqrt(head_dim)
    int window;        // sliding window (0 = none)
};

// One attention task: `tokens` consecutive query tokens of one sequence at positions
// pos0 .. pos0 + tokens - 1, all `group` query heads of KV head `kv_head`, over key positions
// [lo, hi) of the sequence (block table row `block_table`). Either writes the normalized result
// (out != nullptr: row of token t, head kv_head * group + g at out + t * out_stride + g * head_dim)
// or, for one token, the unnormalized partial state of a context split (part_o [group][head_dim_pad],
// part_m, part_l [group]) for merge_partials.
struct AttnTask {
    const int32_t* block_table;
    int kv_head;
    int lo, hi;
    const float* q;    // token 0, head kv_head * group
    int64_t q_stride;  // elements between tokens
    int tokens;
    int pos0;
    bool masked;  // rows differ in what they see (prefill): apply the causal / window mask
    float* out;
    int64_t out_stride;
    float* part_o;
    float* part_m;
    float* part_l;
};

// Floats of per-thread scratch one attention task needs: query tile, scores, accumulators, row
// statistics and two bf16-conversion tiles.
inline int64_t attn_scratch_floats(int rows, int head_dim_pad) {
    return int64_t(rows) * head_dim_pad * 2 + int64_t(rows) * kAttnChunk + 2 * int64_t(rows) +
           2 * int64_t(kAttnChunk) * head_dim_pad + 64;
}

struct FusedOps {
    // The attention core above; scratch holds attn_scratch_floats(tokens * group, head_dim_pad).
    void (*attend)(const AttnGeom& g, const AttnTask& t, float* scratch);
    // dst[0:n] = src[0:n] in the cache dtype (bf16: round to nearest even, NaN stays NaN).
    void (*store_row)(int dtype, const float* src, void* dst, int n);
    // out = x / sqrt(mean(x^2) + eps) * w (out may be x).
    void (*rmsnorm_row)(const float* x, const float* w, float* out, int n, float eps);
    // h = x + residual; residual = h; out = rmsnorm(h) (out may be x).
    void (*add_rmsnorm_row)(const float* x, float* residual, const float* w, float* out, int n, float eps);
    // heads consecutive head vectors of head_dim (even) at x, rotated in place by the position's
    // cos / sin rows (each head_dim long, both halves equal): rotate_half convention.
    void (*rope_heads)(float* x, int heads, int head_dim, const float* cos, const float* sin);
    // out[i] = silu(gate[i]) * up[i] for i < n (out may be gate).
    void (*swiglu_row)(const float* gate, const float* up, float* out, int n);
    // Index of the largest value of x[0:n] (the first one on ties; the first NaN if any).
    int32_t (*argmax_row)(const float* x, int n);
    // First index i in [from, n) with x[i] > t or x[i] NaN; n if none (top-k's scan).
    int32_t (*next_above)(const float* x, int32_t from, int32_t n, float t);
};

const FusedOps& fused_ops_scalar();
const FusedOps& fused_ops_avx2();
const FusedOps& fused_ops_avx512();
// The table of the active ISA (olora_set_isa / OLORA_ISA).
const FusedOps& fused_ops();

}  // namespace olora

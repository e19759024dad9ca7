// Paged KV cache entry points: KV append through a slot mapping, block copy, and decode / chunked
// prefill attention over block tables (layout: /work/coord/KV-LAYOUT.md, olora_kernels.h). Checks
// every argument and every block table entry that will be read before anything is written, splits
// the work into (sequence, KV head, context part or query tile) tasks, and runs them on the pool
// when they are large enough to pay for the hand-off (native-kernels/BENCHMARKS.md).
#include <algorithm>
#include <cmath>
#include <vector>

#include "fused_ops.h"
#include "kernels_internal.h"
#include "thread_pool.h"

namespace olora {
namespace {

// Below this many K + V bytes per call, attention runs on the calling thread alone.
constexpr int64_t kAttnParallelBytes = 48 << 10;
// A context part of a split decode sequence has at least this many keys.
constexpr int kMinSplitKeys = 256;
// Split decode contexts until there are this many tasks per thread (dynamic scheduling evens out
// unequal contexts and a core that another process holds).
constexpr int kTasksPerThread = 4;
// Below this many elements, a KV append runs on the calling thread alone.
constexpr int64_t kAppendParallelElems = 1 << 16;

bool cache_dtype_ok(int32_t dtype) { return dtype == OLORA_DTYPE_F32 || dtype == OLORA_DTYPE_BF16; }
size_t elem_size(int32_t dtype) { return dtype == OLORA_DTYPE_BF16 ? 2 : 4; }

int32_t check_pool(int32_t dtype, const void* k_pool, const void* v_pool, int64_t num_blocks, int32_t block_size,
                   int32_t kv_heads, int32_t head_dim) {
    if (!cache_dtype_ok(dtype) || !k_pool || !v_pool || num_blocks < 1 || block_size < 1 || kv_heads < 1 ||
        head_dim < 1)
        return OLORA_E_ARGUMENT;
    const int64_t block_elems = int64_t(kv_heads) * block_size * head_dim;
    if (block_elems > (int64_t(1) << 40) || num_blocks > (int64_t(1) << 62) / block_elems) return OLORA_E_ARGUMENT;
    return OLORA_OK;
}

// The attention calls' shared checks (pool, heads, strides, block table shape).
int32_t check_attention(int32_t dtype, const float* q, int64_t q_stride, const float* out, int64_t out_stride,
                        const void* k_pool, const void* v_pool, int64_t num_blocks, int32_t block_size,
                        const int32_t* block_tables, int64_t bt_stride, int32_t max_blocks, const int32_t* context_lens,
                        int32_t num_heads, int32_t kv_heads, int32_t head_dim, int32_t window) {
    if (check_pool(dtype, k_pool, v_pool, num_blocks, block_size, kv_heads, head_dim) != OLORA_OK)
        return OLORA_E_ARGUMENT;
    if (!q || !out || !block_tables || !context_lens || num_heads < 1 || num_heads % kv_heads != 0 || window < 0 ||
        max_blocks < 1 || bt_stride < max_blocks)
        return OLORA_E_ARGUMENT;
    const int64_t width = int64_t(num_heads) * head_dim;
    if (q_stride < width || out_stride < width || int64_t(max_blocks) * block_size > INT32_MAX) return OLORA_E_ARGUMENT;
    return OLORA_OK;
}

// Every block table entry that positions [lo, hi) of a sequence read is a block of the pool.
bool blocks_valid(const int32_t* row, int lo, int hi, int block_size, int64_t num_blocks) {
    if (hi <= lo) return true;
    for (int b = lo / block_size; b <= (hi - 1) / block_size; ++b)
        if (row[b] < 0 || row[b] >= num_blocks) return false;
    return true;
}

AttnGeom make_geom(int32_t dtype, const void* k_pool, const void* v_pool, int32_t block_size, int32_t num_heads,
                   int32_t kv_heads, int32_t head_dim, int32_t window) {
    AttnGeom g;
    g.cache_dtype = dtype;
    g.k_pool = k_pool;
    g.v_pool = v_pool;
    g.block_size = block_size;
    g.kv_heads = kv_heads;
    g.group = num_heads / kv_heads;
    g.head_dim = head_dim;
    g.head_dim_pad = (head_dim + 15) / 16 * 16;
    g.scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(head_dim)));  // the engine's 1 / Math.Sqrt(D)
    g.window = window;
    return g;
}

// Per-thread scratch, grown on first use and kept: no allocation once warm.
float* thread_scratch(int64_t floats) {
    thread_local std::vector<float> buf;
    if (static_cast<int64_t>(buf.size()) < floats) buf.resize(static_cast<size_t>(floats));
    return buf.data();
}

// Runs fn(i) for i < n on the pool, or on the calling thread when `parallel` is false.
template <typename F>
void run_tasks(int64_t n, bool parallel, const F& fn) {
    if (parallel) {
        parallel_for(n, fn);
    } else {
        for (int64_t i = 0; i < n; ++i) fn(i);
    }
}

struct DecodeTask {
    int seq, kv_head, lo, hi;
    int64_t part;  // index of the partial state, -1 = the whole context (writes out directly)
};

struct SplitSeq {
    int seq, parts;
    int64_t first_part;
};

// Combines the partial states of one split (sequence, KV head): m = max m_p, l = sum l_p e^(m_p - m),
// out = sum o_p e^(m_p - m) / l (out may be the query row, which the tasks have read already).
void merge_partials(const AttnGeom& g, const float* parts, int num_parts, int64_t part_floats, float* out) {
    const int grp = g.group, dp = g.head_dim_pad, d = g.head_dim;
    const int64_t m_at = int64_t(grp) * dp, l_at = m_at + grp;
    for (int h = 0; h < grp; ++h) {
        float m = -INFINITY;
        for (int p = 0; p < num_parts; ++p) m = std::max(m, parts[p * part_floats + m_at + h]);
        float* dst = out + int64_t(h) * d;
        std::fill(dst, dst + d, 0.f);
        float l = 0.f;
        for (int p = 0; p < num_parts; ++p) {
            const float* base = parts + p * part_floats;
            const float w = std::exp(base[m_at + h] - m);
            l += base[l_at + h] * w;
            const float* o = base + int64_t(h) * dp;
            for (int e = 0; e < d; ++e) dst[e] += o[e] * w;
        }
        for (int e = 0; e < d; ++e) dst[e] /= l;
    }
}

}  // namespace
}  // namespace olora

using namespace olora;

extern "C" OLORA_API int32_t olora_kv_append(int32_t cache_dtype, const float* keys, int64_t key_stride,
                                             const float* values, int64_t value_stride, const int64_t* slot_mapping,
                                             int32_t num_tokens, void* k_pool, void* v_pool, int64_t num_blocks,
                                             int32_t block_size, int32_t kv_heads, int32_t head_dim) {
    if (num_tokens < 0 ||
        check_pool(cache_dtype, k_pool, v_pool, num_blocks, block_size, kv_heads, head_dim) != OLORA_OK)
        return OLORA_E_ARGUMENT;
    if (num_tokens == 0) return OLORA_OK;
    const int64_t width = int64_t(kv_heads) * head_dim;
    if (!keys || !values || !slot_mapping || key_stride < width || value_stride < width) return OLORA_E_ARGUMENT;
    const int64_t slots = num_blocks * block_size;
    for (int32_t t = 0; t < num_tokens; ++t)
        if (slot_mapping[t] < -1 || slot_mapping[t] >= slots) return OLORA_E_ARGUMENT;
    const FusedOps& ops = fused_ops();
    const size_t es = elem_size(cache_dtype);
    char* kb = static_cast<char*>(k_pool);
    char* vb = static_cast<char*>(v_pool);
    run_tasks(num_tokens, int64_t(num_tokens) * width >= kAppendParallelElems && num_tokens > 1, [&](int64_t t) {
        const int64_t slot = slot_mapping[t];
        if (slot < 0) return;
        const int64_t block = slot / block_size, off = slot % block_size;
        for (int h = 0; h < kv_heads; ++h) {
            const int64_t row = ((block * kv_heads + h) * block_size + off) * head_dim;
            ops.store_row(cache_dtype, keys + t * key_stride + int64_t(h) * head_dim, kb + row * es, head_dim);
            ops.store_row(cache_dtype, values + t * value_stride + int64_t(h) * head_dim, vb + row * es, head_dim);
        }
    });
    return OLORA_OK;
}

extern "C" OLORA_API int32_t olora_kv_copy_blocks(int32_t cache_dtype, void* k_pool, void* v_pool, int64_t num_blocks,
                                                  int32_t block_size, int32_t kv_heads, int32_t head_dim,
                                                  const int32_t* block_mapping, int32_t num_pairs) {
    if (num_pairs < 0 ||
        check_pool(cache_dtype, k_pool, v_pool, num_blocks, block_size, kv_heads, head_dim) != OLORA_OK)
        return OLORA_E_ARGUMENT;
    if (num_pairs == 0) return OLORA_OK;
    if (!block_mapping) return OLORA_E_ARGUMENT;
    for (int32_t i = 0; i < num_pairs; ++i) {
        const int32_t s = block_mapping[2 * i], d = block_mapping[2 * i + 1];
        if (s < 0 || s >= num_blocks || d < 0 || d >= num_blocks || s == d) return OLORA_E_ARGUMENT;
    }
    const size_t bytes = size_t(kv_heads) * block_size * head_dim * elem_size(cache_dtype);
    char* kb = static_cast<char*>(k_pool);
    char* vb = static_cast<char*>(v_pool);
    for (int32_t i = 0; i < num_pairs; ++i) {
        const size_t s = size_t(block_mapping[2 * i]) * bytes, d = size_t(block_mapping[2 * i + 1]) * bytes;
        std::memcpy(kb + d, kb + s, bytes);
        std::memcpy(vb + d, vb + s, bytes);
    }
    return OLORA_OK;
}

namespace olora {

int32_t check_decode_attention(int32_t dtype, const float* q, int64_t q_stride, const float* out, int64_t out_stride,
                               const void* k_pool, const void* v_pool, int64_t num_blocks, int32_t block_size,
                               const int32_t* block_tables, int64_t bt_stride, int32_t max_blocks,
                               const int32_t* context_lens, int32_t num_seqs, int32_t num_heads, int32_t kv_heads,
                               int32_t head_dim, int32_t window, int64_t* keys) {
    if (num_seqs < 1 || check_attention(dtype, q, q_stride, out, out_stride, k_pool, v_pool, num_blocks, block_size,
                                        block_tables, bt_stride, max_blocks, context_lens, num_heads, kv_heads,
                                        head_dim, window) != OLORA_OK)
        return OLORA_E_ARGUMENT;
    const int64_t capacity = int64_t(max_blocks) * block_size;
    int64_t total = 0;
    for (int32_t i = 0; i < num_seqs; ++i) {
        const int ctx = context_lens[i];
        if (ctx < 0 || ctx > capacity) return OLORA_E_ARGUMENT;
        const int lo = window > 0 ? std::max(0, ctx - window) : 0;
        if (!blocks_valid(block_tables + i * bt_stride, lo, ctx, block_size, num_blocks)) return OLORA_E_ARGUMENT;
        total += ctx - lo;
    }
    if (keys) *keys = total;
    return OLORA_OK;
}

}  // namespace olora

extern "C" OLORA_API int32_t olora_paged_attention_decode(int32_t cache_dtype, const float* q, int64_t q_stride,
                                                          float* out, int64_t out_stride, const void* k_pool,
                                                          const void* v_pool, int64_t num_blocks, int32_t block_size,
                                                          const int32_t* block_tables, int64_t block_table_stride,
                                                          int32_t max_blocks_per_seq, const int32_t* context_lens,
                                                          int32_t num_seqs, int32_t num_heads, int32_t kv_heads,
                                                          int32_t head_dim, int32_t sliding_window) {
    if (num_seqs < 0) return OLORA_E_ARGUMENT;
    if (num_seqs == 0) return OLORA_OK;
    int64_t keys = 0;
    if (check_decode_attention(cache_dtype, q, q_stride, out, out_stride, k_pool, v_pool, num_blocks, block_size,
                               block_tables, block_table_stride, max_blocks_per_seq, context_lens, num_seqs, num_heads,
                               kv_heads, head_dim, sliding_window, &keys) != OLORA_OK)
        return OLORA_E_ARGUMENT;

    const AttnGeom g =
        make_geom(cache_dtype, k_pool, v_pool, block_size, num_heads, kv_heads, head_dim, sliding_window);
    const int threads = num_threads();
    const bool parallel =
        threads > 1 && keys * kv_heads * head_dim * 2 * int64_t(elem_size(cache_dtype)) >= kAttnParallelBytes;
    // Flash-decoding split: with fewer (sequence, KV head) pairs than kTasksPerThread per thread, long
    // contexts are cut into parts of >= kMinSplitKeys keys (a multiple of the chunk) merged afterwards.
    const int64_t pairs = int64_t(num_seqs) * kv_heads;
    const int want = parallel && pairs < int64_t(kTasksPerThread) * threads
                         ? static_cast<int>((int64_t(kTasksPerThread) * threads + pairs - 1) / pairs)
                         : 1;
    thread_local std::vector<DecodeTask> tasks;
    thread_local std::vector<SplitSeq> splits;
    tasks.clear();
    splits.clear();
    int64_t num_parts = 0;
    for (int32_t i = 0; i < num_seqs; ++i) {
        const int ctx = context_lens[i];
        const int lo = sliding_window > 0 ? std::max(0, ctx - sliding_window) : 0;
        const int len = ctx - lo;
        const int parts = std::max(1, std::min(want, len / kMinSplitKeys));
        if (parts == 1) {
            for (int h = 0; h < kv_heads; ++h) tasks.push_back({i, h, lo, ctx, -1});
            continue;
        }
        const int step = (len + parts - 1) / parts;
        const int span = (step + kAttnChunk - 1) / kAttnChunk * kAttnChunk;
        const int n = (len + span - 1) / span;
        splits.push_back({i, n, num_parts});
        for (int h = 0; h < kv_heads; ++h)
            for (int p = 0; p < n; ++p)
                tasks.push_back({i, h, lo + p * span, std::min(ctx, lo + (p + 1) * span), num_parts + h * n + p});
        num_parts += int64_t(kv_heads) * n;
    }
    const int grp = g.group, dp = g.head_dim_pad;
    const int64_t part_floats = int64_t(grp) * (dp + 2);
    thread_local std::vector<float> partials;
    if (static_cast<int64_t>(partials.size()) < num_parts * part_floats)
        partials.resize(static_cast<size_t>(num_parts * part_floats));
    float* parts = partials.data();

    const FusedOps& ops = fused_ops();
    const int64_t scratch = attn_scratch_floats(grp, dp);
    const DecodeTask* tp = tasks.data();
    run_tasks(static_cast<int64_t>(tasks.size()), parallel, [&](int64_t i) {
        const DecodeTask& d = tp[i];
        AttnTask t{};
        t.block_table = block_tables + d.seq * block_table_stride;
        t.kv_head = d.kv_head;
        t.lo = d.lo;
        t.hi = d.hi;
        t.q = q + d.seq * q_stride + int64_t(d.kv_head) * grp * head_dim;
        t.q_stride = q_stride;
        t.tokens = 1;
        t.pos0 = context_lens[d.seq] - 1;
        t.masked = false;
        if (d.part < 0) {
            t.out = out + d.seq * out_stride + int64_t(d.kv_head) * grp * head_dim;
            t.out_stride = out_stride;
        } else {
            float* base = parts + d.part * part_floats;
            t.part_o = base;
            t.part_m = base + int64_t(grp) * dp;
            t.part_l = t.part_m + grp;
        }
        ops.attend(g, t, thread_scratch(scratch));
    });
    for (const SplitSeq& s : splits)
        for (int h = 0; h < kv_heads; ++h)
            merge_partials(g, parts + (s.first_part + int64_t(h) * s.parts) * part_floats, s.parts, part_floats,
                           out + s.seq * out_stride + int64_t(h) * grp * head_dim);
    return OLORA_OK;
}

extern "C" OLORA_API int32_t olora_paged_attention_prefill(
    int32_t cache_dtype, const float* q, int64_t q_stride, float* out, int64_t out_stride, const void* k_pool,
    const void* v_pool, int64_t num_blocks, int32_t block_size, const int32_t* block_tables, int64_t block_table_stride,
    int32_t max_blocks_per_seq, const int32_t* query_start_loc, const int32_t* context_lens, int32_t num_seqs,
    int32_t num_heads, int32_t kv_heads, int32_t head_dim, int32_t sliding_window) {
    if (num_seqs < 0) return OLORA_E_ARGUMENT;
    if (num_seqs == 0) return OLORA_OK;
    if (!query_start_loc || check_attention(cache_dtype, q, q_stride, out, out_stride, k_pool, v_pool, num_blocks,
                                            block_size, block_tables, block_table_stride, max_blocks_per_seq,
                                            context_lens, num_heads, kv_heads, head_dim, sliding_window) != OLORA_OK)
        return OLORA_E_ARGUMENT;
    if (query_start_loc[0] < 0) return OLORA_E_ARGUMENT;
    const int64_t capacity = int64_t(max_blocks_per_seq) * block_size;
    const AttnGeom g =
        make_geom(cache_dtype, k_pool, v_pool, block_size, num_heads, kv_heads, head_dim, sliding_window);
    const int grp = g.group;
    // Query tokens per task: a tile of about kAttnMaxRows query vectors shares every K / V chunk it reads.
    const int tile = std::max(1, kAttnMaxRows / grp);
    int64_t work = 0;  // query vectors x keys
    for (int32_t i = 0; i < num_seqs; ++i) {
        const int32_t a = query_start_loc[i], b = query_start_loc[i + 1], ctx = context_lens[i];
        if (b < a || ctx < 0 || ctx > capacity || b - a > ctx) return OLORA_E_ARGUMENT;
        const int start = ctx - (b - a);
        const int lo = sliding_window > 0 ? std::max(0, start - sliding_window + 1) : 0;
        if (!blocks_valid(block_tables + i * block_table_stride, lo, ctx, block_size, num_blocks))
            return OLORA_E_ARGUMENT;
        work += int64_t(b - a) * (ctx - lo);
    }

    struct PrefillTask {
        int seq, kv_head, tok0, tokens;
    };
    thread_local std::vector<PrefillTask> tasks;
    tasks.clear();
    for (int32_t i = 0; i < num_seqs; ++i) {
        const int tokens = query_start_loc[i + 1] - query_start_loc[i];
        if (tokens == 0) continue;
        // Last tiles first: they see the most keys, so the pool's dynamic scheduling ends evenly.
        for (int t0 = (tokens - 1) / tile * tile; t0 >= 0; t0 -= tile)
            for (int h = 0; h < kv_heads; ++h) tasks.push_back({i, h, t0, std::min(tile, tokens - t0)});
    }
    const bool parallel =
        num_threads() > 1 && work * kv_heads * head_dim * 2 * int64_t(elem_size(cache_dtype)) >= kAttnParallelBytes;
    const FusedOps& ops = fused_ops();
    const int64_t scratch = attn_scratch_floats(tile * grp, g.head_dim_pad);
    const PrefillTask* tp = tasks.data();
    run_tasks(static_cast<int64_t>(tasks.size()), parallel, [&](int64_t i) {
        const PrefillTask& p = tp[i];
        const int32_t ctx = context_lens[p.seq];
        const int32_t row0 = query_start_loc[p.seq];
        const int start = ctx - (query_start_loc[p.seq + 1] - row0);
        AttnTask t{};
        t.block_table = block_tables + p.seq * block_table_stride;
        t.kv_head = p.kv_head;
        t.pos0 = start + p.tok0;
        t.hi = t.pos0 + p.tokens;
        t.lo = sliding_window > 0 ? std::max(0, t.pos0 - sliding_window + 1) : 0;
        t.q = q + (row0 + p.tok0) * q_stride + int64_t(p.kv_head) * grp * head_dim;
        t.q_stride = q_stride;
        t.tokens = p.tokens;
        t.masked = true;
        t.out = out + (row0 + p.tok0) * out_stride + int64_t(p.kv_head) * grp * head_dim;
        t.out_stride = out_stride;
        ops.attend(g, t, thread_scratch(scratch));
    });
    return OLORA_OK;
}

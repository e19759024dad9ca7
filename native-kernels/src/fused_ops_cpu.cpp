// Entry points of the row-wise fused ops (RMSNorm, residual add + RMSNorm, RoPE, SwiGLU, argmax):
// argument checks, then rows on the calling thread for decode-sized calls and over the pool for
// prefill-sized ones (the crossover is measured in native-kernels/BENCHMARKS.md).
#include <algorithm>
#include <cmath>
#include <vector>

#include "fused_ops.h"
#include "kernels_internal.h"
#include "thread_pool.h"

namespace olora {
namespace {

// Below this many elements per call, the row ops run on the calling thread alone.
constexpr int64_t kRowsParallelElems = 1 << 15;

template <typename F>
void for_rows(int32_t rows, int64_t elems_per_row, const F& fn) {
    if (rows > 1 && int64_t(rows) * elems_per_row >= kRowsParallelElems && num_threads() > 1) {
        // Blocks of rows, so that each task is worth the hand-off.
        const int64_t per = std::max<int64_t>(1, kRowsParallelElems / 4 / elems_per_row);
        parallel_for((rows + per - 1) / per, [&](int64_t b) {
            const int64_t end = std::min<int64_t>(rows, (b + 1) * per);
            for (int64_t r = b * per; r < end; ++r) fn(r);
        });
    } else {
        for (int32_t r = 0; r < rows; ++r) fn(r);
    }
}

bool eps_ok(float eps) { return std::isfinite(eps) && eps >= 0.f; }

// A logit and its index, ordered as torch.topk ranks them: NaN above every number, larger values
// first, and on ties the lower index first. better(a, b): a ranks before b.
struct Ranked {
    float v;
    int32_t i;
};
bool better(const Ranked& a, const Ranked& b) {
    const bool an = std::isnan(a.v), bn = std::isnan(b.v);
    if (an != bn) return an;
    if (!an && a.v != b.v) return a.v > b.v;
    return a.i < b.i;
}

// The k best of x[0:n] in rank order: a heap of the k best so far whose top is the worst of them;
// the ISA scan skips every value not above that worst one.
void topk_row(const FusedOps& ops, const float* x, int32_t n, int32_t k, int32_t* ids, float* values) {
    thread_local std::vector<Ranked> heap;
    heap.resize(static_cast<size_t>(k));
    for (int32_t i = 0; i < k; ++i) heap[i] = {x[i], i};
    std::make_heap(heap.begin(), heap.end(), better);
    for (int32_t i = ops.next_above(x, k, n, heap.front().v); i < n; i = ops.next_above(x, i + 1, n, heap.front().v)) {
        const Ranked c{x[i], i};
        if (!better(c, heap.front())) continue;  // a NaN scanned while the worst kept is NaN too
        std::pop_heap(heap.begin(), heap.end(), better);
        heap.back() = c;
        std::push_heap(heap.begin(), heap.end(), better);
    }
    std::sort_heap(heap.begin(), heap.end(), better);
    for (int32_t j = 0; j < k; ++j) {
        ids[j] = heap[j].i;
        if (values) values[j] = heap[j].v;
    }
}

}  // namespace
}  // namespace olora

using namespace olora;

extern "C" OLORA_API int32_t olora_rmsnorm(const float* x, int64_t x_stride, const float* weight, float* out,
                                           int64_t out_stride, int32_t rows, int32_t hidden, float eps) {
    if (rows < 0 || hidden < 1 || !eps_ok(eps)) return OLORA_E_ARGUMENT;
    if (rows == 0) return OLORA_OK;
    if (!x || !weight || !out || x_stride < hidden || out_stride < hidden) return OLORA_E_ARGUMENT;
    const FusedOps& ops = fused_ops();
    for_rows(rows, hidden,
             [&](int64_t r) { ops.rmsnorm_row(x + r * x_stride, weight, out + r * out_stride, hidden, eps); });
    return OLORA_OK;
}

extern "C" OLORA_API int32_t olora_add_rmsnorm(const float* x, int64_t x_stride, float* residual,
                                               int64_t residual_stride, const float* weight, float* out,
                                               int64_t out_stride, int32_t rows, int32_t hidden, float eps) {
    if (rows < 0 || hidden < 1 || !eps_ok(eps)) return OLORA_E_ARGUMENT;
    if (rows == 0) return OLORA_OK;
    if (!x || !residual || !weight || !out || x_stride < hidden || residual_stride < hidden || out_stride < hidden)
        return OLORA_E_ARGUMENT;
    const FusedOps& ops = fused_ops();
    for_rows(rows, 2 * int64_t(hidden), [&](int64_t r) {
        ops.add_rmsnorm_row(x + r * x_stride, residual + r * residual_stride, weight, out + r * out_stride, hidden,
                            eps);
    });
    return OLORA_OK;
}

extern "C" OLORA_API int32_t olora_rope(float* q, int64_t q_stride, int32_t num_heads, float* k, int64_t k_stride,
                                        int32_t kv_heads, int32_t head_dim, const int32_t* positions,
                                        int32_t num_tokens, const float* cos_table, const float* sin_table,
                                        int32_t max_positions) {
    if (num_tokens < 0 || num_heads < 1 || kv_heads < 0 || head_dim < 2 || head_dim % 2 != 0 || max_positions < 1)
        return OLORA_E_ARGUMENT;
    if (num_tokens == 0) return OLORA_OK;
    if (!q || !positions || !cos_table || !sin_table || q_stride < int64_t(num_heads) * head_dim)
        return OLORA_E_ARGUMENT;
    if (kv_heads > 0 && (!k || k_stride < int64_t(kv_heads) * head_dim)) return OLORA_E_ARGUMENT;
    for (int32_t t = 0; t < num_tokens; ++t)
        if (positions[t] < 0 || positions[t] >= max_positions) return OLORA_E_ARGUMENT;
    const FusedOps& ops = fused_ops();
    for_rows(num_tokens, int64_t(num_heads + kv_heads) * head_dim, [&](int64_t t) {
        const float* c = cos_table + int64_t(positions[t]) * head_dim;
        const float* s = sin_table + int64_t(positions[t]) * head_dim;
        ops.rope_heads(q + t * q_stride, num_heads, head_dim, c, s);
        if (kv_heads > 0) ops.rope_heads(k + t * k_stride, kv_heads, head_dim, c, s);
    });
    return OLORA_OK;
}

extern "C" OLORA_API int32_t olora_swiglu(const float* gate_up, int64_t gate_up_stride, float* out, int64_t out_stride,
                                          int32_t rows, int32_t intermediate) {
    if (rows < 0 || intermediate < 1) return OLORA_E_ARGUMENT;
    if (rows == 0) return OLORA_OK;
    if (!gate_up || !out || gate_up_stride < 2 * int64_t(intermediate) || out_stride < intermediate)
        return OLORA_E_ARGUMENT;
    const FusedOps& ops = fused_ops();
    for_rows(rows, 2 * int64_t(intermediate), [&](int64_t r) {
        const float* g = gate_up + r * gate_up_stride;
        ops.swiglu_row(g, g + intermediate, out + r * out_stride, intermediate);
    });
    return OLORA_OK;
}

extern "C" OLORA_API int32_t olora_argmax(const float* logits, int64_t row_stride, int32_t rows, int32_t vocab,
                                          int32_t* out_ids) {
    if (rows < 0 || vocab < 1) return OLORA_E_ARGUMENT;
    if (rows == 0) return OLORA_OK;
    if (!logits || !out_ids || row_stride < vocab) return OLORA_E_ARGUMENT;
    const FusedOps& ops = fused_ops();
    for_rows(rows, vocab, [&](int64_t r) { out_ids[r] = ops.argmax_row(logits + r * row_stride, vocab); });
    return OLORA_OK;
}

extern "C" OLORA_API int32_t olora_topk(const float* logits, int64_t row_stride, int32_t rows, int32_t vocab, int32_t k,
                                        int32_t* out_ids, float* out_values) {
    if (rows < 0 || vocab < 1 || k < 1 || k > vocab) return OLORA_E_ARGUMENT;
    if (rows == 0) return OLORA_OK;
    if (!logits || !out_ids || row_stride < vocab) return OLORA_E_ARGUMENT;
    const FusedOps& ops = fused_ops();
    for_rows(rows, vocab, [&](int64_t r) {
        topk_row(ops, logits + r * row_stride, vocab, k, out_ids + r * k, out_values ? out_values + r * k : nullptr);
    });
    return OLORA_OK;
}

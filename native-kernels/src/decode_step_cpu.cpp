// olora_decode_layers: a decode step's decoder layers, LoRA updates included, in one call. It strings together the same C entry points the
// engine calls one at a time (so the same bits come out), and exists for what lies between them: in the managed
// engine each of a layer's nine kernels costs a few interop calls to find its tensors' pointers, checks and
// dispatch, about a tenth of a small model's batch-1 step once the GEMVs run at memory speed.
#include <cmath>
#include <cstdint>
#include <vector>

#include "kernels_internal.h"

namespace olora {
namespace {

bool linear_ok(const olora_linear_ref& l, int32_t out_features, int32_t in_features) {
    if (l.out_features != out_features || l.in_features != in_features || !l.weight) return false;
    switch (l.kind) {
        case OLORA_LINEAR_F32:
            return true;
        case OLORA_LINEAR_NF4:
        case OLORA_LINEAR_INT8:
            return l.scales != nullptr && known_compute(l.compute);
        default:
            return false;
    }
}

// y [rows, N] = x [rows, K] · Wᵀ, both contiguous.
int32_t linear(const olora_linear_ref& l, const float* x, float* y, int32_t rows) {
    const int32_t n = l.out_features, k = l.in_features;
    switch (l.kind) {
        case OLORA_LINEAR_F32:
            return olora_gemm_f32(x, k, static_cast<const float*>(l.weight), k, y, n, rows, n, k, 0);
        case OLORA_LINEAR_NF4:
            return olora_nf4_linear_ex(x, k, y, n, rows, n, k, static_cast<const uint8_t*>(l.weight), l.scales, 0,
                                       l.compute);
        default:
            return olora_int8_linear_ex(x, k, y, n, rows, n, k, static_cast<const int8_t*>(l.weight), l.scales, 0,
                                        l.compute);
    }
}

bool eps_ok(float eps) { return std::isfinite(eps) && eps >= 0.f; }

// The LoRA segments and, for every projection a segment's slot touches, its tables: what olora_sgmv_mixed would
// refuse, checked before the first layer writes.
int32_t check_lora(int32_t num_layers, const olora_decode_step& s) {
    if (s.lora_segments < 0 || s.lora_segments > s.rows || !s.lora_seg_starts || !s.lora_seg_slots ||
        !s.lora_slot_scales || !s.lora || s.lora_slots < 1 || s.lora_max_rank < 1 || s.lora_max_rank > kMaxLoraRank ||
        (s.lora_dtype != OLORA_DTYPE_F32 && s.lora_dtype != OLORA_DTYPE_BF16))
        return OLORA_E_ARGUMENT;
    if (s.lora_seg_starts[0] < 0 || s.lora_seg_starts[s.lora_segments] > s.rows) return OLORA_E_ARGUMENT;
    for (int32_t i = 0; i < s.lora_segments; ++i) {
        const int32_t slot = s.lora_seg_slots[i];
        if (s.lora_seg_starts[i + 1] < s.lora_seg_starts[i] || slot < -1 || slot >= s.lora_slots)
            return OLORA_E_ARGUMENT;
    }
    for (int64_t p = 0; p < int64_t(num_layers) * OLORA_LORA_MODULES; ++p) {
        const olora_lora_ref& r = s.lora[p];
        if (!r.slot_ranks) continue;
        for (int32_t i = 0; i < s.lora_segments; ++i) {
            const int32_t slot = s.lora_seg_slots[i];
            if (slot < 0 || r.slot_ranks[slot] == 0) continue;
            if (r.slot_ranks[slot] < 0 || r.slot_ranks[slot] > s.lora_max_rank || !r.a_table || !r.b_table)
                return OLORA_E_ARGUMENT;
        }
    }
    return OLORA_OK;
}

// y += LoRA(x) for one projection of one layer: the segments whose slot has a rank there, on olora_sgmv_mixed (the
// call the engine's AdapterSlotTable makes, with the same filtered slots).
int32_t lora(const olora_decode_step& s, int32_t layer, int module, const float* x, int64_t x_stride, float* y,
             int64_t y_stride, int32_t in_features, int32_t out_features) {
    if (s.lora_segments == 0) return OLORA_OK;
    const olora_lora_ref& r = s.lora[int64_t(layer) * OLORA_LORA_MODULES + module];
    if (!r.slot_ranks) return OLORA_OK;
    thread_local std::vector<int32_t> slots;
    slots.resize(size_t(s.lora_segments));
    bool any = false;
    for (int32_t i = 0; i < s.lora_segments; ++i) {
        const int32_t slot = s.lora_seg_slots[i];
        slots[size_t(i)] = slot >= 0 && r.slot_ranks[slot] > 0 ? slot : -1;
        any |= slots[size_t(i)] >= 0;
    }
    if (!any) return OLORA_OK;
    return olora_sgmv_mixed(OLORA_DTYPE_F32, s.lora_dtype, x, x_stride, y, y_stride, s.lora_seg_starts, slots.data(),
                            s.lora_segments, r.a_table, r.b_table, s.lora_slots, s.lora_max_rank, in_features,
                            out_features, r.slot_ranks, s.lora_slot_scales, nullptr, 0);
}

// Everything but the layer loop's own kernels' checks: dimensions, weights, buffers, and the KV arguments the first
// append and attention would refuse (the same for every layer but the pools, checked per layer here).
int32_t check_step(const olora_decode_layer* layers, int32_t num_layers, const olora_decode_step& s) {
    if (num_layers < 1 || !layers || s.rows < 1 || s.hidden < 1 || s.num_heads < 1 || s.kv_heads < 1 ||
        s.head_dim < 2 || s.head_dim % 2 != 0 || s.num_heads % s.kv_heads != 0 || s.intermediate < 1)
        return OLORA_E_ARGUMENT;
    if (!s.residual || !s.normed || !s.qkv || !s.attended || !s.projected || !s.gate_up || !s.activation ||
        !s.mlp_output || !s.positions || !s.cos_table || !s.sin_table || s.max_positions < 1 || !s.k_pools ||
        !s.v_pools || !s.slot_mapping)
        return OLORA_E_ARGUMENT;
    const int64_t q_width = int64_t(s.num_heads) * s.head_dim, kv_width = int64_t(s.kv_heads) * s.head_dim;
    const int64_t qkv_width = q_width + 2 * kv_width;
    if (qkv_width > INT32_MAX || 2 * int64_t(s.intermediate) > INT32_MAX) return OLORA_E_ARGUMENT;
    for (int32_t t = 0; t < s.rows; ++t)
        if (s.positions[t] < 0 || s.positions[t] >= s.max_positions) return OLORA_E_ARGUMENT;
    if (s.lora_segments != 0 && check_lora(num_layers, s) != OLORA_OK) return OLORA_E_ARGUMENT;
    for (int32_t l = 0; l < num_layers; ++l) {
        const olora_decode_layer& L = layers[l];
        if (!L.input_norm || !L.post_attention_norm || !eps_ok(L.input_norm_eps) || !eps_ok(L.post_attention_norm_eps))
            return OLORA_E_ARGUMENT;
        if (!linear_ok(L.qkv, int32_t(qkv_width), s.hidden) || !linear_ok(L.o, s.hidden, int32_t(q_width)) ||
            !linear_ok(L.gate_up, 2 * s.intermediate, s.hidden) || !linear_ok(L.down, s.hidden, s.intermediate))
            return OLORA_E_ARGUMENT;
        if (!s.k_pools[l] || !s.v_pools[l]) return OLORA_E_ARGUMENT;
    }
    // The block tables, context lengths and pool geometry are the same for every layer: checked once, with layer 0's
    // pools (every layer's are non-null). This bounds num_blocks * block_size too.
    if (check_decode_attention(s.cache_dtype, s.qkv, qkv_width, s.attended, q_width, s.k_pools[0], s.v_pools[0],
                               s.num_blocks, s.block_size, s.block_tables, s.block_table_stride, s.max_blocks_per_seq,
                               s.context_lens, s.rows, s.num_heads, s.kv_heads, s.head_dim, s.sliding_window,
                               nullptr) != OLORA_OK)
        return OLORA_E_ARGUMENT;
    const int64_t slots = s.num_blocks * s.block_size;
    for (int32_t t = 0; t < s.rows; ++t)
        if (s.slot_mapping[t] < -1 || s.slot_mapping[t] >= slots) return OLORA_E_ARGUMENT;
    return OLORA_OK;
}

int32_t run_layer(const olora_decode_layer& L, const olora_decode_step& s, int32_t layer, bool pending) {
    const int32_t rows = s.rows, hidden = s.hidden;
    const int64_t q_width = int64_t(s.num_heads) * s.head_dim, kv_width = int64_t(s.kv_heads) * s.head_dim;
    const int64_t qkv_width = q_width + 2 * kv_width;
    int32_t rc = pending ? olora_add_rmsnorm(s.mlp_output, hidden, s.residual, hidden, L.input_norm, s.normed, hidden,
                                             rows, hidden, L.input_norm_eps)
                         : olora_rmsnorm(s.residual, hidden, L.input_norm, s.normed, hidden, rows, hidden,
                                         L.input_norm_eps);
    if (rc == OLORA_OK) rc = linear(L.qkv, s.normed, s.qkv, rows);
    if (rc == OLORA_OK) rc = lora(s, layer, OLORA_LORA_Q, s.normed, hidden, s.qkv, qkv_width, hidden, int32_t(q_width));
    if (rc == OLORA_OK)
        rc = lora(s, layer, OLORA_LORA_K, s.normed, hidden, s.qkv + q_width, qkv_width, hidden, int32_t(kv_width));
    if (rc == OLORA_OK)
        rc = lora(s, layer, OLORA_LORA_V, s.normed, hidden, s.qkv + q_width + kv_width, qkv_width, hidden,
                  int32_t(kv_width));
    if (rc == OLORA_OK)
        rc = olora_rope(s.qkv, qkv_width, s.num_heads, s.qkv + q_width, qkv_width, s.kv_heads, s.head_dim, s.positions,
                        rows, s.cos_table, s.sin_table, s.max_positions);
    if (rc == OLORA_OK)
        rc = olora_kv_append(s.cache_dtype, s.qkv + q_width, qkv_width, s.qkv + q_width + kv_width, qkv_width,
                             s.slot_mapping, rows, s.k_pools[layer], s.v_pools[layer], s.num_blocks, s.block_size,
                             s.kv_heads, s.head_dim);
    if (rc == OLORA_OK)
        rc = olora_paged_attention_decode(s.cache_dtype, s.qkv, qkv_width, s.attended, q_width, s.k_pools[layer],
                                          s.v_pools[layer], s.num_blocks, s.block_size, s.block_tables,
                                          s.block_table_stride, s.max_blocks_per_seq, s.context_lens, rows,
                                          s.num_heads, s.kv_heads, s.head_dim, s.sliding_window);
    if (rc == OLORA_OK) rc = linear(L.o, s.attended, s.projected, rows);
    if (rc == OLORA_OK) rc = lora(s, layer, OLORA_LORA_O, s.attended, q_width, s.projected, hidden, int32_t(q_width), hidden);
    if (rc == OLORA_OK)
        rc = olora_add_rmsnorm(s.projected, hidden, s.residual, hidden, L.post_attention_norm, s.normed, hidden, rows,
                               hidden, L.post_attention_norm_eps);
    const int32_t inter = s.intermediate;
    if (rc == OLORA_OK) rc = linear(L.gate_up, s.normed, s.gate_up, rows);
    if (rc == OLORA_OK) rc = lora(s, layer, OLORA_LORA_GATE, s.normed, hidden, s.gate_up, 2 * int64_t(inter), hidden, inter);
    if (rc == OLORA_OK)
        rc = lora(s, layer, OLORA_LORA_UP, s.normed, hidden, s.gate_up + inter, 2 * int64_t(inter), hidden, inter);
    if (rc == OLORA_OK) rc = olora_swiglu(s.gate_up, 2 * int64_t(inter), s.activation, inter, rows, inter);
    if (rc == OLORA_OK) rc = linear(L.down, s.activation, s.mlp_output, rows);
    if (rc == OLORA_OK) rc = lora(s, layer, OLORA_LORA_DOWN, s.activation, inter, s.mlp_output, hidden, inter, hidden);
    return rc;
}

}  // namespace
}  // namespace olora

extern "C" OLORA_API int32_t olora_decode_layers(const olora_decode_layer* layers, int32_t layer_struct_size,
                                                 int32_t num_layers, const olora_decode_step* step,
                                                 int32_t step_struct_size) {
    if (layer_struct_size != int32_t(sizeof(olora_decode_layer)) ||
        step_struct_size != int32_t(sizeof(olora_decode_step)) || !step)
        return OLORA_E_ARGUMENT;
    const int32_t rc = olora::check_step(layers, num_layers, *step);
    if (rc != OLORA_OK) return rc;
    for (int32_t l = 0; l < num_layers; ++l) {
        const int32_t layer_rc = olora::run_layer(layers[l], *step, l, step->pending != 0 || l > 0);
        if (layer_rc != OLORA_OK) return layer_rc;
    }
    return OLORA_OK;
}

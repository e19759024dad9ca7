// The whole-model C ABI of the CUDA runner (olora_cuda_model_*, olora_cuda_runner.h): weights, paged KV pools,
// adapter slot tables and one forward per engine step, written once against ModelOps (model_ops.h). On a device
// context the operations are the CUDA launchers (run on an H200, 2026-12-04, docs/GPU.md); on a host emulation context
// they are the CPU kernels of the same contracts, which is how CI runs this file end to end.
//
// Per step: the host validates the batch, packs its metadata (token ids, positions, slot mapping, query starts,
// context lengths, block tables, SGMV tiles, logit rows) into one buffer and uploads it once; then per layer
//   add+RMSNorm -> QKV GEMM (+ q/k/v LoRA) -> RoPE -> KV append -> attention (split-K decode for the leading
//   one-token sequences, tiled prefill for the rest) -> O GEMM (+ LoRA) -> add+RMSNorm -> gate/up GEMM (+ LoRA)
//   -> SwiGLU -> down GEMM (+ LoRA)
// and the final norm, a gather of the rows whose logits are wanted, the lm_head GEMM and one download.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <string>
#include <unordered_set>
#include <vector>

#include "model_ops.h"
#include "olora_cuda_math.h"
#include "runner_internal.h"

using namespace olora_cuda;

namespace {

constexpr int32_t kMaxHeadDim = 256;
constexpr int32_t kMaxRank = 128;
constexpr int32_t kTileRows = 16;   // SGMV rows per tile
constexpr int32_t kGemvRows = 8;    // quantized weights: up to this many rows use the GEMV, more dequantize to
                                    // bf16 and take the bf16 GEMM (cuBLAS): the prefill path

int32_t bad(const std::string& message) { return fail(OLORA_CUDA_E_ARGUMENT, message); }

struct Linear {
    int32_t format = -1;  // -1: not set
    void* data = nullptr;
    float* aux = nullptr;
    int32_t n = 0, k = 0;
};

struct LoraTable {
    uint16_t* a = nullptr;       // [num_slots, max_rank, in]
    uint16_t* b = nullptr;       // [num_slots, max_rank, out]
    int32_t* ranks_dev = nullptr; // [num_slots]
    std::vector<int32_t> ranks;  // host mirror
    int32_t in = 0, out = 0;
};

struct Layer {
    uint16_t* input_norm = nullptr;
    uint16_t* post_norm = nullptr;
    Linear qkv, o, gate_up, down;
    std::array<LoraTable, OLORA_CUDA_LORA_MODULES> lora;
};

const char* kind_name(int32_t kind) {
    static const char* names[] = {"embed_tokens", "final norm", "lm_head", "input_layernorm", "post_attention_layernorm",
                                  "q/k/v_proj",   "o_proj",     "gate/up_proj", "down_proj"};
    return kind >= 0 && kind <= OLORA_CUDA_W_DOWN ? names[kind] : "?";
}

const char* format_name(int32_t format) {
    return format == OLORA_CUDA_FORMAT_BF16 ? "bf16" : format == OLORA_CUDA_FORMAT_NF4 ? "nf4" : "int8";
}

}  // namespace

struct olora_cuda_model {
    olora_cuda_context* ctx = nullptr;
    std::unique_ptr<ModelOps> ops;
    olora_cuda_model_config c{};
    int32_t q_width = 0, kv_width = 0, qkv_width = 0;

    uint16_t* embed = nullptr;
    uint16_t* final_norm = nullptr;
    Linear lm_head;
    std::vector<Layer> layers;
    std::vector<uint16_t*> k_pools, v_pools;
    int64_t block_elems = 0;  // elements of one block of one pool
    float* cos_table = nullptr;
    float* sin_table = nullptr;
    float* scales_dev = nullptr;
    std::vector<float> scales;

    int64_t weight_bytes = 0, kv_bytes = 0, adapter_bytes = 0;

    // Activations, grown to the largest batch seen.
    int32_t cap_tokens = 0, cap_logit_rows = 0;
    float* residual = nullptr;  // [T, hidden]
    uint16_t* normed = nullptr; // [T, hidden]
    float* qkv = nullptr;       // [T, qkv_width]
    uint16_t* attn = nullptr;   // [T, q_width]
    float* proj = nullptr;      // [T, hidden] (o_proj and down_proj outputs)
    float* gate_up = nullptr;   // [T, 2 inter]
    uint16_t* act = nullptr;    // [T, inter]
    float* lora_v = nullptr;    // [T, max_rank]
    uint16_t* head_in = nullptr; // [L, hidden]
    float* logits = nullptr;    // [L, vocab]
    int64_t activation_bytes = 0;
    float* decode_scratch = nullptr;
    int64_t decode_scratch_floats = 0;
    uint16_t* dequant = nullptr;  // bf16 scratch for quantized prefill GEMMs
    int64_t dequant_numel = 0;
    // The largest quantized layer: the scratch is sized for it at its first use (never regrown between layers,
    // since cudaFree in the middle of a forward synchronizes the device).
    int64_t max_dequant_numel = 0;
    void* meta = nullptr;
    int64_t meta_bytes = 0;
    std::vector<int32_t> host_meta;

    ~olora_cuda_model();

    template <typename T>
    int32_t alloc(T** p, int64_t count, int64_t* counter) {
        void* raw = nullptr;
        if (const int32_t rc = ops->alloc(std::max<int64_t>(count, 1) * int64_t(sizeof(T)), &raw); rc != 0) return rc;
        *p = static_cast<T*>(raw);
        if (counter) *counter += std::max<int64_t>(count, 1) * int64_t(sizeof(T));
        return OLORA_CUDA_OK;
    }

    // A scratch buffer of at least want elements (reallocated, contents lost, when smaller).
    template <typename T>
    int32_t grow(T*& p, int64_t& capacity, int64_t want) {
        if (want <= capacity) return OLORA_CUDA_OK;
        release(p);
        capacity = 0;
        if (const int32_t rc = alloc(&p, want, nullptr); rc != 0) return rc;
        capacity = want;
        return OLORA_CUDA_OK;
    }

    template <typename T>
    void release(T*& p) {
        if (p) ops->release(p);
        p = nullptr;
    }

    int32_t ensure_activations(int32_t tokens, int32_t logit_rows);
    void release_activations() {
        for (float** p : {&residual, &qkv, &proj, &gate_up, &lora_v}) release(*p);
        for (uint16_t** p : {&normed, &attn, &act}) release(*p);
    }
    int32_t ensure_decode_scratch(int64_t floats);
    int32_t ensure_dequant(int64_t numel);
    int32_t ensure_meta(int64_t bytes);
    int32_t linear(const Linear& w, const uint16_t* x, int32_t m, float* y);
    std::string missing_weight() const;
};

olora_cuda_model::~olora_cuda_model() {
    // The context frees everything it tracks when it is destroyed; a model destroyed before its context
    // gives its memory back now.
    if (!ops) return;
    auto free_linear = [&](Linear& l) {
        release(l.data);
        release(l.aux);
    };
    release(embed);
    release(final_norm);
    free_linear(lm_head);
    for (Layer& layer : layers) {
        release(layer.input_norm);
        release(layer.post_norm);
        free_linear(layer.qkv);
        free_linear(layer.o);
        free_linear(layer.gate_up);
        free_linear(layer.down);
        for (LoraTable& t : layer.lora) {
            release(t.a);
            release(t.b);
            release(t.ranks_dev);
        }
    }
    for (auto* p : k_pools) release(p);
    for (auto* p : v_pools) release(p);
    release(cos_table);
    release(sin_table);
    release(scales_dev);
    release_activations();
    release(head_in);
    release(logits);
    release(decode_scratch);
    release(dequant);
    release(meta);
}

int32_t olora_cuda_model::ensure_activations(int32_t tokens, int32_t logit_rows) {
    if (tokens > cap_tokens) {
        // Preallocated (max_batch_tokens): never reached, larger batches are refused. Grown on demand: by half again,
        // not doubled (a Mistral-sized model needs ~215 KB of activations per token).
        const int32_t t = std::max(tokens, cap_tokens + cap_tokens / 2);
        release_activations();
        cap_tokens = 0;
        activation_bytes = 0;
        const int64_t h = c.hidden_size, ff = c.intermediate_size;
        int32_t rc;
        if ((rc = alloc(&residual, t * h, &activation_bytes)) || (rc = alloc(&normed, t * h, &activation_bytes)) ||
            (rc = alloc(&qkv, int64_t(t) * qkv_width, &activation_bytes)) ||
            (rc = alloc(&attn, int64_t(t) * q_width, &activation_bytes)) || (rc = alloc(&proj, t * h, &activation_bytes)) ||
            (rc = alloc(&gate_up, t * 2 * ff, &activation_bytes)) || (rc = alloc(&act, t * ff, &activation_bytes)) ||
            (rc = alloc(&lora_v, int64_t(t) * c.max_rank, &activation_bytes)))
            return rc;
        cap_tokens = t;
    }
    if (logit_rows > cap_logit_rows) {
        const int32_t l = std::max(logit_rows, cap_logit_rows * 2);
        release(head_in);
        release(logits);
        cap_logit_rows = 0;
        int32_t rc;
        if ((rc = alloc(&head_in, int64_t(l) * c.hidden_size, nullptr)) ||
            (rc = alloc(&logits, int64_t(l) * c.vocab_size, nullptr)))
            return rc;
        cap_logit_rows = l;
    }
    return OLORA_CUDA_OK;
}

int32_t olora_cuda_model::ensure_decode_scratch(int64_t floats) { return grow(decode_scratch, decode_scratch_floats, floats); }

int32_t olora_cuda_model::ensure_dequant(int64_t numel) { return grow(dequant, dequant_numel, numel); }

int32_t olora_cuda_model::ensure_meta(int64_t bytes) {
    if (bytes <= meta_bytes) return OLORA_CUDA_OK;
    const int64_t want = std::max(bytes, meta_bytes * 2);
    release(meta);
    meta_bytes = 0;
    if (const int32_t rc = ops->alloc(want, &meta); rc != 0) return rc;
    meta_bytes = want;
    return OLORA_CUDA_OK;
}

int32_t olora_cuda_model::linear(const Linear& w, const uint16_t* x, int32_t m, float* y) {
    switch (w.format) {
        case OLORA_CUDA_FORMAT_BF16:
            return ops->gemm_bf16(x, m, w.k, static_cast<const uint16_t*>(w.data), w.n, y, 0);
        case OLORA_CUDA_FORMAT_NF4: {
            const auto* codes = static_cast<const uint8_t*>(w.data);
            if (m <= kGemvRows) return ops->nf4_gemv(x, m, w.n, w.k, codes, w.aux, y, 0);
            const int64_t numel = int64_t(w.n) * w.k;
            if (const int32_t rc = ensure_dequant(max_dequant_numel); rc != 0) return rc;
            if (const int32_t rc = ops->nf4_dequantize_bf16(codes, w.aux, numel, dequant); rc != 0) return rc;
            return ops->gemm_bf16(x, m, w.k, dequant, w.n, y, 0);
        }
        case OLORA_CUDA_FORMAT_INT8: {
            const auto* q = static_cast<const int8_t*>(w.data);
            if (m <= kGemvRows) return ops->int8_gemv(x, m, w.n, w.k, q, w.aux, y, 0);
            if (const int32_t rc = ensure_dequant(max_dequant_numel); rc != 0) return rc;
            if (const int32_t rc = ops->int8_dequantize_bf16(q, w.aux, w.n, w.k, dequant); rc != 0) return rc;
            return ops->gemm_bf16(x, m, w.k, dequant, w.n, y, 0);
        }
        default:
            return bad("linear layer not set");
    }
}

std::string olora_cuda_model::missing_weight() const {
    if (!embed) return "embed_tokens";
    if (!final_norm) return "final norm (model.norm)";
    if (lm_head.format < 0) return "lm_head";
    for (size_t i = 0; i < layers.size(); ++i) {
        const Layer& l = layers[i];
        const std::string p = "layer " + std::to_string(i) + " ";
        if (!l.input_norm) return p + "input_layernorm";
        if (!l.post_norm) return p + "post_attention_layernorm";
        if (l.qkv.format < 0) return p + "q/k/v_proj";
        if (l.o.format < 0) return p + "o_proj";
        if (l.gate_up.format < 0) return p + "gate/up_proj";
        if (l.down.format < 0) return p + "down_proj";
    }
    return "";
}

namespace {

int32_t validate_config(const olora_cuda_model_config& c) {
    auto need = [](bool ok, const std::string& what) { return ok ? OLORA_CUDA_OK : bad("model config: " + what); };
    int32_t rc;
    if ((rc = need(c.vocab_size >= 1, "vocab_size must be >= 1")) ||
        (rc = need(c.hidden_size >= 1, "hidden_size must be >= 1")) ||
        (rc = need(c.intermediate_size >= 1, "intermediate_size must be >= 1")) ||
        (rc = need(c.num_layers >= 1, "num_layers must be >= 1")) ||
        (rc = need(c.num_heads >= 1 && c.kv_heads >= 1 && c.num_heads % c.kv_heads == 0,
                   "num_heads (" + std::to_string(c.num_heads) + ") must be a positive multiple of kv_heads (" +
                       std::to_string(c.kv_heads) + ")")) ||
        (rc = need(c.head_dim >= 2 && c.head_dim % 2 == 0 && c.head_dim <= kMaxHeadDim,
                   "head_dim " + std::to_string(c.head_dim) + " must be even and in [2, 256]")) ||
        (rc = need(c.sliding_window >= 0, "sliding_window must be >= 0")) ||
        (rc = need(c.max_positions >= 1, "max_positions must be >= 1")) ||
        (rc = need(c.block_size >= 1, "block_size must be >= 1")) ||
        (rc = need(c.num_blocks >= 1, "num_blocks must be >= 1")) ||
        (rc = need(c.num_slots >= 0, "num_slots must be >= 0")) ||
        (rc = need(c.max_rank >= 1 && c.max_rank <= kMaxRank, "max_rank must be in [1, 128]")) ||
        (rc = need(c.weight_format >= 0 && c.weight_format <= 2, "weight_format must be 0 (bf16), 1 (nf4) or 2 (int8)")) ||
        (rc = need(c.lm_head_format >= 0 && c.lm_head_format <= 2, "lm_head_format must be 0 (bf16), 1 (nf4) or 2 (int8)")) ||
        (rc = need(c.max_batch_tokens >= 0, "max_batch_tokens must be >= 0 (0: grown on demand)")) ||
        (rc = need(std::isfinite(c.rms_norm_eps) && c.rms_norm_eps >= 0, "rms_norm_eps must be finite and >= 0")) ||
        (rc = need(c.rope_kind >= 0 && c.rope_kind <= 2, "rope_kind must be 0 (default), 1 (linear) or 2 (llama3)")) ||
        (rc = need(c.rope_theta > 0, "rope_theta must be > 0")) ||
        (rc = need(c.rope_kind == 0 || c.rope_factor > 0, "rope_factor must be > 0")) ||
        (rc = need(c.rope_kind != 2 || (c.rope_high_freq_factor > c.rope_low_freq_factor &&
                                        c.rope_original_max_positions > 0),
                   "llama3 rope needs high_freq_factor > low_freq_factor and original_max_positions > 0")))
        return rc;
    return OLORA_CUDA_OK;
}

// Bytes of data / aux a linear [n, k] takes in a format.
void linear_bytes(int32_t format, int64_t n, int64_t k, int64_t* data, int64_t* aux) {
    const int64_t numel = n * k;
    if (format == OLORA_CUDA_FORMAT_BF16) {
        *data = numel * 2;
        *aux = 0;
    } else if (format == OLORA_CUDA_FORMAT_NF4) {
        *data = (numel + 1) / 2;
        *aux = (numel + kNf4BlockSize - 1) / kNf4BlockSize * 4;
    } else {
        *data = numel;
        *aux = n * 4;
    }
}

}  // namespace

extern "C" OLORA_CUDA_API int64_t olora_cuda_model_kv_block_bytes(int32_t num_layers, int32_t kv_heads,
                                                                  int32_t head_dim, int32_t block_size) {
    if (num_layers < 1 || kv_heads < 1 || head_dim < 1 || block_size < 1) return 0;
    return int64_t(num_layers) * 2 * kv_heads * block_size * head_dim * 2;
}

extern "C" OLORA_CUDA_API int32_t olora_cuda_model_create(olora_cuda_context* ctx,
                                                          const olora_cuda_model_config* config,
                                                          olora_cuda_model** out) {
    if (!out) return bad("out is null");
    *out = nullptr;
    if (!ctx) return bad("context is null");
    if (!config) return bad("config is null");
    if (const int32_t rc = validate_config(*config); rc != 0) return rc;
    auto* m = new olora_cuda_model();
    m->ctx = ctx;
    m->ops = ctx->host ? make_host_model_ops(ctx) : make_cuda_model_ops(ctx);
    m->c = *config;
    const auto& c = m->c;
    m->q_width = c.num_heads * c.head_dim;
    m->kv_width = c.kv_heads * c.head_dim;
    m->qkv_width = m->q_width + 2 * m->kv_width;
    m->layers.resize(size_t(c.num_layers));
    m->block_elems = int64_t(c.kv_heads) * c.block_size * c.head_dim;
    auto fail_with = [&](int32_t rc) {
        delete m;
        return rc;
    };
    const int64_t pool = int64_t(c.num_blocks) * m->block_elems;
    for (int32_t l = 0; l < c.num_layers; ++l) {
        uint16_t *k = nullptr, *v = nullptr;
        if (const int32_t rc = m->alloc(&k, pool, &m->kv_bytes); rc != 0) return fail_with(rc);
        m->k_pools.push_back(k);
        if (const int32_t rc = m->alloc(&v, pool, &m->kv_bytes); rc != 0) return fail_with(rc);
        m->v_pools.push_back(v);
        if (int32_t rc = m->ops->zero(k, pool * 2); rc != 0 || (rc = m->ops->zero(v, pool * 2)) != 0) return fail_with(rc);
    }
    // RoPE tables on the host, in double as RotaryEmbedding.cs, so every backend reads the same values.
    {
        const int64_t n = int64_t(c.max_positions) * c.head_dim;
        std::vector<float> cos_h(static_cast<size_t>(n)), sin_h(static_cast<size_t>(n));
        const RopeParams p{c.rope_kind, c.head_dim, c.rope_theta, c.rope_factor, c.rope_low_freq_factor,
                           c.rope_high_freq_factor, c.rope_original_max_positions};
        rope_fill_tables(p, c.max_positions, cos_h.data(), sin_h.data());
        int32_t rc;
        if ((rc = m->alloc(&m->cos_table, n, &m->weight_bytes)) || (rc = m->alloc(&m->sin_table, n, &m->weight_bytes)) ||
            (rc = m->ops->upload(m->cos_table, cos_h.data(), n * 4)) ||
            (rc = m->ops->upload(m->sin_table, sin_h.data(), n * 4)))
            return fail_with(rc);
    }
    if (c.num_slots > 0) {
        const int64_t h = c.hidden_size, ff = c.intermediate_size;
        const int64_t dims[OLORA_CUDA_LORA_MODULES][2] = {{h, m->q_width}, {h, m->kv_width}, {h, m->kv_width},
                                                         {m->q_width, h}, {h, ff},          {h, ff},
                                                         {ff, h}};
        for (Layer& layer : m->layers)
            for (int j = 0; j < OLORA_CUDA_LORA_MODULES; ++j) {
                LoraTable& t = layer.lora[size_t(j)];
                t.in = int32_t(dims[j][0]);
                t.out = int32_t(dims[j][1]);
                t.ranks.assign(size_t(c.num_slots), 0);
                const int64_t rows = int64_t(c.num_slots) * c.max_rank;
                int32_t rc;
                if ((rc = m->alloc(&t.a, rows * t.in, &m->adapter_bytes)) ||
                    (rc = m->alloc(&t.b, rows * t.out, &m->adapter_bytes)) ||
                    (rc = m->alloc(&t.ranks_dev, c.num_slots, &m->adapter_bytes)) ||
                    (rc = m->ops->zero(t.a, rows * t.in * 2)) || (rc = m->ops->zero(t.b, rows * t.out * 2)) ||
                    (rc = m->ops->upload(t.ranks_dev, t.ranks.data(), int64_t(c.num_slots) * 4)))
                    return fail_with(rc);
            }
        m->scales.assign(size_t(c.num_slots), 1.f);
        int32_t rc;
        if ((rc = m->alloc(&m->scales_dev, c.num_slots, &m->adapter_bytes)) ||
            (rc = m->ops->upload(m->scales_dev, m->scales.data(), int64_t(c.num_slots) * 4)))
            return fail_with(rc);
    }
    {
        const int64_t h = c.hidden_size, ff = c.intermediate_size;
        if (c.weight_format != OLORA_CUDA_FORMAT_BF16)
            m->max_dequant_numel = std::max({int64_t(m->qkv_width) * h, h * m->q_width, 2 * ff * h, h * ff});
        if (c.lm_head_format != OLORA_CUDA_FORMAT_BF16)
            m->max_dequant_numel = std::max(m->max_dequant_numel, int64_t(c.vocab_size) * h);
    }
    if (c.max_batch_tokens > 0) {
        // Everything a forward of max_batch_tokens tokens needs, now: the largest quantized layer's bf16 tile too.
        // Logit rows are usually one per sequence; prompt logprobs may ask for more, which then grow the buffer.
        int32_t rc;
        if ((rc = m->ensure_activations(c.max_batch_tokens, std::min(c.max_batch_tokens, 512))) ||
            (rc = m->ensure_dequant(m->max_dequant_numel)))
            return fail_with(rc);
    }
    if (const int32_t rc = m->ops->synchronize(); rc != 0) return fail_with(rc);
    *out = m;
    return OLORA_CUDA_OK;
}

extern "C" OLORA_CUDA_API int32_t olora_cuda_model_destroy(olora_cuda_model* model) {
    if (!model) return OLORA_CUDA_OK;
    if (model->ops) model->ops->synchronize();
    delete model;
    return OLORA_CUDA_OK;
}

extern "C" OLORA_CUDA_API int32_t olora_cuda_model_set_weight(olora_cuda_model* model, int32_t kind, int32_t layer,
                                                              const void* data, int64_t data_bytes, const void* aux,
                                                              int64_t aux_bytes) {
    if (!model) return bad("model is null");
    const auto& c = model->c;
    if (kind < 0 || kind > OLORA_CUDA_W_DOWN) return bad("set_weight: unknown tensor kind " + std::to_string(kind));
    const bool per_layer = kind >= OLORA_CUDA_W_INPUT_NORM;
    if (per_layer && (layer < 0 || layer >= c.num_layers))
        return bad(std::string("set_weight: ") + kind_name(kind) + " layer " + std::to_string(layer) +
                   " out of range (" + std::to_string(c.num_layers) + " layers)");
    if (!data) return bad(std::string("set_weight: ") + kind_name(kind) + " data is null");
    Layer* L = per_layer ? &model->layers[size_t(layer)] : nullptr;
    const int64_t h = c.hidden_size;
    const std::string what = std::string(kind_name(kind)) + (per_layer ? " of layer " + std::to_string(layer) : "");

    // Dense bf16 vectors and the embedding.
    if (kind == OLORA_CUDA_W_EMBED || kind == OLORA_CUDA_W_FINAL_NORM || kind == OLORA_CUDA_W_INPUT_NORM ||
        kind == OLORA_CUDA_W_POST_NORM) {
        const int64_t numel = kind == OLORA_CUDA_W_EMBED ? int64_t(c.vocab_size) * h : h;
        if (data_bytes != numel * 2 || aux_bytes != 0)
            return bad("set_weight: " + what + " takes " + std::to_string(numel * 2) + " bytes of bf16 and no aux, got " +
                       std::to_string(data_bytes) + " + " + std::to_string(aux_bytes));
        uint16_t** slot = kind == OLORA_CUDA_W_EMBED ? &model->embed
                          : kind == OLORA_CUDA_W_FINAL_NORM ? &model->final_norm
                          : kind == OLORA_CUDA_W_INPUT_NORM ? &L->input_norm
                                                            : &L->post_norm;
        if (!*slot)
            if (const int32_t rc = model->alloc(slot, numel, &model->weight_bytes); rc != 0) return rc;
        return model->ops->upload(*slot, data, data_bytes);
    }

    // Linear layers.
    Linear* lin;
    int64_t n, k;
    int32_t format = c.weight_format;
    switch (kind) {
        case OLORA_CUDA_W_LM_HEAD: lin = &model->lm_head; n = c.vocab_size; k = h; format = c.lm_head_format; break;
        case OLORA_CUDA_W_QKV: lin = &L->qkv; n = model->qkv_width; k = h; break;
        case OLORA_CUDA_W_O: lin = &L->o; n = h; k = model->q_width; break;
        case OLORA_CUDA_W_GATE_UP: lin = &L->gate_up; n = 2 * int64_t(c.intermediate_size); k = h; break;
        default: lin = &L->down; n = h; k = c.intermediate_size; break;
    }
    int64_t want_data, want_aux;
    linear_bytes(format, n, k, &want_data, &want_aux);
    if (data_bytes != want_data || aux_bytes != want_aux)
        return bad("set_weight: " + what + " [" + std::to_string(n) + ", " + std::to_string(k) + "] in " +
                   format_name(format) + " takes " + std::to_string(want_data) + " + " + std::to_string(want_aux) +
                   " aux bytes, got " + std::to_string(data_bytes) + " + " + std::to_string(aux_bytes));
    if (want_aux > 0 && !aux) return bad("set_weight: " + what + " aux is null");
    if (lin->format < 0) {
        uint8_t* d = nullptr;
        if (const int32_t rc = model->alloc(&d, want_data, &model->weight_bytes); rc != 0) return rc;
        lin->data = d;
        if (want_aux > 0)
            if (const int32_t rc = model->alloc(&lin->aux, want_aux / 4, &model->weight_bytes); rc != 0) return rc;
    }
    lin->n = int32_t(n);
    lin->k = int32_t(k);
    if (const int32_t rc = model->ops->upload(lin->data, data, want_data); rc != 0) return rc;
    if (want_aux > 0)
        if (const int32_t rc = model->ops->upload(lin->aux, aux, want_aux); rc != 0) return rc;
    lin->format = format;
    return OLORA_CUDA_OK;
}

extern "C" OLORA_CUDA_API int32_t olora_cuda_model_set_adapter(olora_cuda_model* model, int32_t slot, int32_t layer,
                                                               int32_t module, int32_t rank, const uint16_t* a,
                                                               const uint16_t* bt) {
    if (!model) return bad("model is null");
    const auto& c = model->c;
    if (slot < 0 || slot >= c.num_slots)
        return bad("set_adapter: slot " + std::to_string(slot) + " out of range (" + std::to_string(c.num_slots) +
                   " adapter slots)");
    if (layer < 0 || layer >= c.num_layers)
        return bad("set_adapter: layer " + std::to_string(layer) + " out of range (" + std::to_string(c.num_layers) + ")");
    if (module < 0 || module >= OLORA_CUDA_LORA_MODULES) return bad("set_adapter: unknown module " + std::to_string(module));
    if (rank < 0 || rank > c.max_rank)
        return bad("set_adapter: rank " + std::to_string(rank) + " out of range (max_rank " + std::to_string(c.max_rank) + ")");
    if (rank > 0 && (!a || !bt)) return bad("set_adapter: a or bt is null");
    LoraTable& t = model->layers[size_t(layer)].lora[size_t(module)];
    if (rank > 0) {
        const int64_t row0 = int64_t(slot) * c.max_rank;
        int32_t rc;
        if ((rc = model->ops->upload(t.a + row0 * t.in, a, int64_t(rank) * t.in * 2)) ||
            (rc = model->ops->upload(t.b + row0 * t.out, bt, int64_t(rank) * t.out * 2)))
            return rc;
    }
    t.ranks[size_t(slot)] = rank;
    return model->ops->upload(t.ranks_dev + slot, &t.ranks[size_t(slot)], 4);
}

extern "C" OLORA_CUDA_API int32_t olora_cuda_model_set_adapter_scale(olora_cuda_model* model, int32_t slot,
                                                                     float scale) {
    if (!model) return bad("model is null");
    if (slot < 0 || slot >= model->c.num_slots)
        return bad("set_adapter_scale: slot " + std::to_string(slot) + " out of range (" +
                   std::to_string(model->c.num_slots) + " adapter slots)");
    if (!std::isfinite(scale)) return bad("set_adapter_scale: scale is not finite");
    model->scales[size_t(slot)] = scale;
    return model->ops->upload(model->scales_dev + slot, &model->scales[size_t(slot)], 4);
}

extern "C" OLORA_CUDA_API int32_t olora_cuda_model_clear_adapter(olora_cuda_model* model, int32_t slot) {
    if (!model) return bad("model is null");
    if (slot < 0 || slot >= model->c.num_slots)
        return bad("clear_adapter: slot " + std::to_string(slot) + " out of range (" +
                   std::to_string(model->c.num_slots) + " adapter slots)");
    for (int32_t l = 0; l < model->c.num_layers; ++l)
        for (int32_t j = 0; j < OLORA_CUDA_LORA_MODULES; ++j)
            if (model->layers[size_t(l)].lora[size_t(j)].ranks[size_t(slot)] != 0)
                if (const int32_t rc = olora_cuda_model_set_adapter(model, slot, l, j, 0, nullptr, nullptr); rc != 0)
                    return rc;
    return olora_cuda_model_set_adapter_scale(model, slot, 1.f);
}

extern "C" OLORA_CUDA_API int32_t olora_cuda_model_copy_blocks(olora_cuda_model* model, const int32_t* pairs,
                                                               int32_t num_pairs) {
    if (!model) return bad("model is null");
    if (num_pairs < 0 || (num_pairs > 0 && !pairs)) return bad("copy_blocks: bad pairs");
    const int32_t nb = model->c.num_blocks;
    for (int32_t i = 0; i < num_pairs; ++i) {
        const int32_t s = pairs[2 * i], d = pairs[2 * i + 1];
        if (s < 0 || s >= nb || d < 0 || d >= nb || s == d)
            return bad("copy_blocks: pair " + std::to_string(i) + " (" + std::to_string(s) + " -> " + std::to_string(d) +
                       ") is not two distinct blocks in [0, " + std::to_string(nb) + ")");
    }
    const int64_t bytes = model->block_elems * 2;
    for (size_t l = 0; l < model->k_pools.size(); ++l)
        for (int32_t i = 0; i < num_pairs; ++i) {
            const int64_t s = pairs[2 * i], d = pairs[2 * i + 1];
            int32_t rc;
            if ((rc = model->ops->copy(model->k_pools[l] + d * model->block_elems, model->k_pools[l] + s * model->block_elems, bytes)) ||
                (rc = model->ops->copy(model->v_pools[l] + d * model->block_elems, model->v_pools[l] + s * model->block_elems, bytes)))
                return rc;
        }
    return model->ops->synchronize();
}

extern "C" OLORA_CUDA_API int32_t olora_cuda_model_memory(olora_cuda_model* model, int64_t* weight_bytes,
                                                          int64_t* kv_bytes, int64_t* adapter_bytes,
                                                          int64_t* activation_bytes) {
    if (!model || !weight_bytes || !kv_bytes || !adapter_bytes || !activation_bytes) return bad("null argument");
    *weight_bytes = model->weight_bytes;
    *kv_bytes = model->kv_bytes;
    *adapter_bytes = model->adapter_bytes;
    *activation_bytes = model->activation_bytes + model->decode_scratch_floats * 4 + model->dequant_numel * 2 +
                        model->meta_bytes + int64_t(model->cap_logit_rows) * (model->c.hidden_size * 2 + model->c.vocab_size * 4);
    return OLORA_CUDA_OK;
}

extern "C" OLORA_CUDA_API int32_t olora_cuda_model_forward(olora_cuda_model* model, int32_t num_tokens,
                                                           const int32_t* token_ids, int32_t num_seqs,
                                                           const int32_t* seq_start_positions,
                                                           const int32_t* seq_token_counts,
                                                           const int32_t* seq_adapter_slots,
                                                           const int32_t* block_tables, int32_t block_table_stride,
                                                           int32_t num_logit_rows, const int32_t* logit_rows,
                                                           float* logits) {
    if (!model) return bad("model is null");
    olora_cuda_model& m = *model;
    const auto& c = m.c;
    // ---- validation: nothing runs on the device until the whole batch is known to be in range
    if (num_tokens < 1 || num_seqs < 1) return bad("forward: num_tokens and num_seqs must be >= 1");
    if (!token_ids || !seq_start_positions || !seq_token_counts || !seq_adapter_slots || !block_tables)
        return bad("forward: null batch array");
    if (num_logit_rows < 0 || (num_logit_rows > 0 && (!logit_rows || !logits))) return bad("forward: bad logit rows");
    if (const std::string missing = m.missing_weight(); !missing.empty())
        return bad("forward: weight " + missing + " was never set");
    for (int32_t t = 0; t < num_tokens; ++t)
        if (token_ids[t] < 0 || token_ids[t] >= c.vocab_size)
            return bad("forward: token id " + std::to_string(token_ids[t]) + " at row " + std::to_string(t) +
                       " is outside the vocabulary [0, " + std::to_string(c.vocab_size) + ")");
    int64_t total = 0;
    for (int32_t s = 0; s < num_seqs; ++s) {
        const int32_t start = seq_start_positions[s], count = seq_token_counts[s], slot = seq_adapter_slots[s];
        const std::string who = "forward: sequence " + std::to_string(s);
        if (count < 1) return bad(who + " has " + std::to_string(count) + " tokens");
        if (start < 0 || int64_t(start) + count > c.max_positions)
            return bad(who + " positions " + std::to_string(start) + ".." + std::to_string(int64_t(start) + count - 1) +
                       " exceed max_positions " + std::to_string(c.max_positions));
        if (slot < -1 || slot >= c.num_slots)
            return bad(who + " names adapter slot " + std::to_string(slot) + " (" + std::to_string(c.num_slots) +
                       " slots)");
        const int32_t last = start + count - 1;
        const int32_t first_read = attn_first_key(start, c.sliding_window);
        if (last / c.block_size >= block_table_stride)
            return bad(who + " needs " + std::to_string(last / c.block_size + 1) + " blocks; the block table stride is " +
                       std::to_string(block_table_stride));
        for (int32_t b = first_read / c.block_size; b <= last / c.block_size; ++b) {
            const int32_t block = block_tables[int64_t(s) * block_table_stride + b];
            if (block < 0 || block >= c.num_blocks)
                return bad(who + " block table entry " + std::to_string(b) + " = " + std::to_string(block) +
                           " is outside [0, " + std::to_string(c.num_blocks) + ")");
        }
        total += count;
    }
    if (total != num_tokens)
        return bad("forward: the sequences' token counts sum to " + std::to_string(total) + ", not num_tokens " +
                   std::to_string(num_tokens));
    if (c.max_batch_tokens > 0 && num_tokens > c.max_batch_tokens)
        return bad("forward: " + std::to_string(num_tokens) + " tokens exceed max_batch_tokens " +
                   std::to_string(c.max_batch_tokens));
    for (int32_t r = 0; r < num_logit_rows; ++r)
        if (logit_rows[r] < 0 || logit_rows[r] >= num_tokens)
            return bad("forward: logit row " + std::to_string(logit_rows[r]) + " is outside the batch's " +
                       std::to_string(num_tokens) + " tokens");

    // ---- host metadata, packed in one buffer (int32 parts, then the int64 slot mapping)
    const int32_t T = num_tokens, n = num_seqs;
    std::vector<int32_t> qsl(static_cast<size_t>(n) + 1), ctx_lens(static_cast<size_t>(n)), positions(static_cast<size_t>(T));
    std::vector<int64_t> slot_mapping(static_cast<size_t>(T));
    std::unordered_set<int64_t> written;
    qsl[0] = 0;
    int32_t decode_run = 0, max_decode_ctx = 0, max_prefill_tokens = 0;
    bool leading = true;
    for (int32_t s = 0; s < n; ++s) {
        const int32_t start = seq_start_positions[s], count = seq_token_counts[s];
        const int32_t* bt = block_tables + int64_t(s) * block_table_stride;
        for (int32_t j = 0; j < count; ++j) {
            const int32_t row = qsl[size_t(s)] + j, pos = start + j;
            positions[size_t(row)] = pos;
            slot_mapping[size_t(row)] = kv_slot(bt, pos, c.block_size);
            if (!written.insert(slot_mapping[size_t(row)]).second)
                return bad("forward: two tokens of the batch write KV slot " + std::to_string(slot_mapping[size_t(row)]) +
                           " (sequence " + std::to_string(s) + ", position " + std::to_string(pos) + ")");
        }
        qsl[size_t(s) + 1] = qsl[size_t(s)] + count;
        ctx_lens[size_t(s)] = start + count;
        if (leading && count == 1) {
            ++decode_run;
            max_decode_ctx = std::max(max_decode_ctx, start + 1);
        } else {
            leading = false;
            max_prefill_tokens = std::max(max_prefill_tokens, count);
        }
    }
    std::vector<int32_t> seg_slots(seq_adapter_slots, seq_adapter_slots + n);
    const int32_t num_tiles = sgmv_plan(qsl.data(), seg_slots.data(), n, kTileRows, nullptr, 0);
    std::vector<SgmvTile> tiles(size_t(std::max(num_tiles, 1)));
    sgmv_plan(qsl.data(), seg_slots.data(), n, kTileRows, tiles.data(), num_tiles);
    // Which (layer, module) tables any slot of this batch has weights in: the others are skipped.
    std::vector<int32_t> used_slots;
    for (int32_t s = 0; s < n; ++s)
        if (seq_adapter_slots[s] >= 0 &&
            std::find(used_slots.begin(), used_slots.end(), seq_adapter_slots[s]) == used_slots.end())
            used_slots.push_back(seq_adapter_slots[s]);

    // Offsets (in int32 units) of each part of the metadata.
    const int64_t o_ids = 0, o_pos = o_ids + T, o_qsl = o_pos + T, o_ctx = o_qsl + n + 1, o_bt = o_ctx + n,
                  o_tiles = o_bt + int64_t(n) * block_table_stride, o_rows = o_tiles + int64_t(num_tiles) * 4,
                  o_slots = (o_rows + num_logit_rows + 1) / 2 * 2, end = o_slots + int64_t(T) * 2;
    m.host_meta.assign(size_t(end), 0);
    int32_t* hm = m.host_meta.data();
    std::memcpy(hm + o_ids, token_ids, size_t(T) * 4);
    std::memcpy(hm + o_pos, positions.data(), size_t(T) * 4);
    std::memcpy(hm + o_qsl, qsl.data(), (size_t(n) + 1) * 4);
    std::memcpy(hm + o_ctx, ctx_lens.data(), size_t(n) * 4);
    std::memcpy(hm + o_bt, block_tables, size_t(n) * size_t(block_table_stride) * 4);
    if (num_tiles > 0) std::memcpy(hm + o_tiles, tiles.data(), size_t(num_tiles) * 16);
    if (num_logit_rows > 0) std::memcpy(hm + o_rows, logit_rows, size_t(num_logit_rows) * 4);
    std::memcpy(hm + o_slots, slot_mapping.data(), size_t(T) * 8);

    int32_t rc;
    if ((rc = m.ensure_activations(T, num_logit_rows)) || (rc = m.ensure_meta(end * 4))) return rc;
    const int64_t scratch = decode_run > 0 ? m.ops->decode_scratch_floats(decode_run, c.num_heads, c.head_dim, max_decode_ctx) : 0;
    if ((rc = m.ensure_decode_scratch(scratch))) return rc;
    if ((rc = m.ops->upload(m.meta, hm, end * 4))) return rc;
    const int32_t* d = static_cast<const int32_t*>(m.meta);
    const int32_t* d_ids = d + o_ids;
    const int32_t* d_pos = d + o_pos;
    const int32_t* d_qsl = d + o_qsl;
    const int32_t* d_ctx = d + o_ctx;
    const int32_t* d_bt = d + o_bt;
    const int32_t* d_tiles = d + o_tiles;
    const int32_t* d_rows = d + o_rows;
    const int64_t* d_slots = reinterpret_cast<const int64_t*>(d + o_slots);

    // ---- the layers
    const int32_t h = c.hidden_size, ff = c.intermediate_size, qw = m.q_width, kvw = m.kv_width, qkvw = m.qkv_width;
    auto lora = [&](const Layer& layer, int32_t module, const uint16_t* x, int64_t x_stride, float* y, int64_t y_stride) {
        if (num_tiles == 0) return int32_t(OLORA_CUDA_OK);
        const LoraTable& t = layer.lora[size_t(module)];
        bool any = false;
        for (int32_t s : used_slots) any = any || t.ranks[size_t(s)] > 0;
        if (!any) return int32_t(OLORA_CUDA_OK);
        return m.ops->lora(x, x_stride, y, y_stride, d_tiles, num_tiles, T, t.a, t.b, c.num_slots, c.max_rank, t.in,
                           t.out, t.ranks_dev, m.scales_dev, m.lora_v);
    };
    if ((rc = m.ops->embedding(m.embed, d_ids, T, h, m.residual))) return rc;
    for (int32_t l = 0; l < c.num_layers; ++l) {
        const Layer& L = m.layers[size_t(l)];
        float* q = m.qkv;
        float* k = m.qkv + qw;
        float* v = m.qkv + qw + kvw;
        if ((rc = m.ops->add_rmsnorm(l == 0 ? nullptr : m.proj, m.residual, L.input_norm, m.normed, T, h, c.rms_norm_eps)) ||
            (rc = m.linear(L.qkv, m.normed, T, m.qkv)) ||
            (rc = lora(L, OLORA_CUDA_LORA_Q, m.normed, h, q, qkvw)) ||
            (rc = lora(L, OLORA_CUDA_LORA_K, m.normed, h, k, qkvw)) ||
            (rc = lora(L, OLORA_CUDA_LORA_V, m.normed, h, v, qkvw)) ||
            (rc = m.ops->rope(q, qkvw, c.num_heads, k, qkvw, c.kv_heads, c.head_dim, d_pos, T, m.cos_table, m.sin_table,
                              c.max_positions)) ||
            (rc = m.ops->kv_append(k, qkvw, v, qkvw, d_slots, T, m.k_pools[size_t(l)], m.v_pools[size_t(l)],
                                   c.num_blocks, c.block_size, c.kv_heads, c.head_dim)))
            return rc;
        if (decode_run > 0 &&
            (rc = m.ops->attention_decode(q, qkvw, m.attn, qw, m.k_pools[size_t(l)], m.v_pools[size_t(l)], c.num_blocks,
                                          c.block_size, d_bt, block_table_stride, d_ctx, decode_run, max_decode_ctx,
                                          c.num_heads, c.kv_heads, c.head_dim, c.sliding_window, m.decode_scratch,
                                          m.decode_scratch_floats)))
            return rc;
        if (decode_run < n &&
            (rc = m.ops->attention_prefill(q, qkvw, m.attn, qw, m.k_pools[size_t(l)], m.v_pools[size_t(l)], c.num_blocks,
                                           c.block_size, d_bt + int64_t(decode_run) * block_table_stride, block_table_stride,
                                           d_qsl + decode_run, d_ctx + decode_run, n - decode_run, max_prefill_tokens,
                                           c.num_heads, c.kv_heads, c.head_dim, c.sliding_window)))
            return rc;
        if ((rc = m.linear(L.o, m.attn, T, m.proj)) || (rc = lora(L, OLORA_CUDA_LORA_O, m.attn, qw, m.proj, h)) ||
            (rc = m.ops->add_rmsnorm(m.proj, m.residual, L.post_norm, m.normed, T, h, c.rms_norm_eps)) ||
            (rc = m.linear(L.gate_up, m.normed, T, m.gate_up)) ||
            (rc = lora(L, OLORA_CUDA_LORA_GATE, m.normed, h, m.gate_up, 2 * int64_t(ff))) ||
            (rc = lora(L, OLORA_CUDA_LORA_UP, m.normed, h, m.gate_up + ff, 2 * int64_t(ff))) ||
            (rc = m.ops->swiglu(m.gate_up, m.act, T, ff)) || (rc = m.linear(L.down, m.act, T, m.proj)) ||
            (rc = lora(L, OLORA_CUDA_LORA_DOWN, m.act, ff, m.proj, h)))
            return rc;
    }
    // ---- final norm, the wanted rows, the head
    if ((rc = m.ops->add_rmsnorm(m.proj, m.residual, m.final_norm, m.normed, T, h, c.rms_norm_eps))) return rc;
    if (num_logit_rows > 0) {
        if ((rc = m.ops->gather_rows(m.normed, h, d_rows, num_logit_rows, m.head_in)) ||
            (rc = m.linear(m.lm_head, m.head_in, num_logit_rows, m.logits)) ||
            (rc = m.ops->download(logits, m.logits, int64_t(num_logit_rows) * c.vocab_size * 4)))
            return rc;
    }
    return m.ops->synchronize();
}

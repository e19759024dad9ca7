// cuda_model_check: the whole-model forward of the CUDA runner (olora_cuda_model_*) against an independent
// float64 reference written here with plain loops, on fresh random models, adapters and batches, logits
// poisoned (NaN) before every call. The reference rounds to bf16 where the runner stores bf16 (weights, the
// normalized activations, attention and SwiGLU outputs, the KV cache), so the tolerance measures the
// float32-vs-float64 arithmetic, not the dtype.
//
//   cuda_model_check            host emulation context (no GPU: ctest runs this in CI)
//   cuda_model_check --device N the same checks on CUDA device N (scripts/gpu-check.sh)
//
// Prints one line per check and "cuda_model_check: N passed, M failed"; exit code 1 when any failed.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "olora_cuda_math.h"
#include "olora_cuda_runner.h"
#include "olora_kernels.h"

using namespace olora_cuda;

namespace {

int g_passed = 0, g_failed = 0;

void report(bool ok, const std::string& name, const std::string& detail) {
    std::printf("%s %s  %s\n", ok ? "PASS" : "FAIL", name.c_str(), detail.c_str());
    (ok ? g_passed : g_failed)++;
}

std::string last_error() {
    char buf[1024];
    olora_cuda_last_error(buf, sizeof buf);
    return buf;
}

double bf(double x) { return bf16_to_f32(f32_to_bf16(float(x))); }

struct Config {
    int vocab = 101, hidden = 64, inter = 96, layers = 2, heads = 4, kv_heads = 2, head_dim = 16;
    int window = 0, rope_kind = 0, max_positions = 96, block_size = 4, num_blocks = 64, slots = 3, max_rank = 16;
    int format = OLORA_CUDA_FORMAT_BF16;
    int max_batch_tokens = 0;  // 0: grown on demand
    float eps = 1e-5f;
};

struct Lora {  // one (layer, module) of one slot
    int rank = 0;
    std::vector<uint16_t> a, bt;  // [rank, in], [rank, out]
};

// A random model in host memory: bf16 weights (the values both sides use), quantized copies for NF4 / int8.
struct Model {
    Config c;
    int qw, kvw, qkvw;
    std::vector<uint16_t> embed, final_norm, head;
    struct Layer {
        std::vector<uint16_t> in_norm, post_norm, qkv, o, gate_up, down;
    };
    std::vector<Layer> layers;
    // Weights as the runner computes with them (dequantized for NF4 / int8), [n * k] doubles per linear.
    std::map<const std::vector<uint16_t>*, std::vector<double>> effective;
    std::vector<std::map<int, Lora>> slots;  // [slot][layer * 7 + module]
    std::vector<float> scales;
    std::vector<float> cos_t, sin_t;
};

std::vector<uint16_t> random_bf16(std::mt19937& rng, size_t n, double scale) {
    std::normal_distribution<float> d(0.f, float(scale));
    std::vector<uint16_t> v(n);
    for (auto& x : v) x = f32_to_bf16(d(rng));
    return v;
}

Model make_model(const Config& c, uint32_t seed) {
    std::mt19937 rng(seed);
    Model m;
    m.c = c;
    m.qw = c.heads * c.head_dim;
    m.kvw = c.kv_heads * c.head_dim;
    m.qkvw = m.qw + 2 * m.kvw;
    m.embed = random_bf16(rng, size_t(c.vocab) * c.hidden, 1.0);
    m.final_norm = random_bf16(rng, size_t(c.hidden), 0.2);
    for (auto& w : m.final_norm) w = f32_to_bf16(1.f + bf16_to_f32(w));
    m.head = random_bf16(rng, size_t(c.vocab) * c.hidden, 1.0 / std::sqrt(c.hidden));
    for (int l = 0; l < c.layers; ++l) {
        Model::Layer L;
        L.in_norm = random_bf16(rng, size_t(c.hidden), 0.2);
        L.post_norm = random_bf16(rng, size_t(c.hidden), 0.2);
        for (auto* w : {&L.in_norm, &L.post_norm})
            for (auto& x : *w) x = f32_to_bf16(1.f + bf16_to_f32(x));
        L.qkv = random_bf16(rng, size_t(m.qkvw) * c.hidden, 1.0 / std::sqrt(c.hidden));
        L.o = random_bf16(rng, size_t(c.hidden) * m.qw, 1.0 / std::sqrt(m.qw));
        L.gate_up = random_bf16(rng, size_t(2 * c.inter) * c.hidden, 1.0 / std::sqrt(c.hidden));
        L.down = random_bf16(rng, size_t(c.hidden) * c.inter, 1.0 / std::sqrt(c.inter));
        m.layers.push_back(std::move(L));
    }
    m.cos_t.resize(size_t(c.max_positions) * c.head_dim);
    m.sin_t.resize(m.cos_t.size());
    const RopeParams p{c.rope_kind, c.head_dim, 10000.0, 4.0, 1.0, 4.0, 32.0};
    rope_fill_tables(p, c.max_positions, m.cos_t.data(), m.sin_t.data());
    m.slots.resize(size_t(c.slots));
    m.scales.assign(size_t(c.slots), 1.f);
    return m;
}

// Module dims (in, out).
void module_dims(const Model& m, int module, int* in, int* out) {
    const int h = m.c.hidden, ff = m.c.inter;
    const int dims[7][2] = {{h, m.qw}, {h, m.kvw}, {h, m.kvw}, {m.qw, h}, {h, ff}, {h, ff}, {ff, h}};
    *in = dims[module][0];
    *out = dims[module][1];
}

// Adds an adapter to slot `slot`: rank r on the modules in `mask` (bit per module), every layer.
void make_adapter(Model& m, std::mt19937& rng, int slot, int rank, unsigned mask, float scale) {
    m.slots[size_t(slot)].clear();
    m.scales[size_t(slot)] = scale;
    for (int l = 0; l < m.c.layers; ++l)
        for (int j = 0; j < 7; ++j) {
            if (!(mask >> j & 1)) continue;
            int in, out;
            module_dims(m, j, &in, &out);
            Lora lo;
            lo.rank = rank;
            lo.a = random_bf16(rng, size_t(rank) * in, 1.0 / std::sqrt(in));
            lo.bt = random_bf16(rng, size_t(rank) * out, 1.0 / std::sqrt(rank));  // strong: the effect must show
            m.slots[size_t(slot)][l * 7 + j] = std::move(lo);
        }
}

// The quantized formats: the native quantizers, and the weights the runner effectively multiplies with
// (decode rows: dequantized float32; prefill rows: dequantized then rounded to bf16).
struct Quantized {
    std::vector<uint8_t> data;
    std::vector<float> aux;
};

Quantized quantize(const std::vector<uint16_t>& w, int n, int k, int format) {
    std::vector<float> f(w.size());
    for (size_t i = 0; i < w.size(); ++i) f[i] = bf16_to_f32(w[i]);
    Quantized q;
    if (format == OLORA_CUDA_FORMAT_NF4) {
        q.data.resize((f.size() + 1) / 2);
        q.aux.resize((f.size() + 63) / 64);
        olora_nf4_quantize(f.data(), int64_t(f.size()), q.data.data(), q.aux.data());
    } else {
        q.data.resize(f.size());
        q.aux.resize(size_t(n));
        olora_int8_quantize(f.data(), n, k, reinterpret_cast<int8_t*>(q.data.data()), q.aux.data());
    }
    return q;
}

std::vector<double> dequantized(const Quantized& q, int n, int k, int format, bool round_bf16) {
    std::vector<float> f(size_t(n) * k);
    if (format == OLORA_CUDA_FORMAT_NF4)
        olora_nf4_dequantize(q.data.data(), q.aux.data(), int64_t(f.size()), f.data());
    else
        olora_int8_dequantize(reinterpret_cast<const int8_t*>(q.data.data()), q.aux.data(), n, k, f.data());
    std::vector<double> d(f.size());
    for (size_t i = 0; i < f.size(); ++i) d[i] = round_bf16 ? bf(f[i]) : f[i];
    return d;
}

// The float64 reference: per sequence its KV history (bf16-rounded, as the pools store it), per layer.
struct Reference {
    const Model* m;
    // weights the reference multiplies with, per linear: set by the caller for the step (decode vs prefill
    // rows of quantized formats differ).
    std::map<const std::vector<uint16_t>*, std::vector<double>> w;
    std::map<int, std::vector<std::vector<double>>> k_cache, v_cache;  // seq -> [layer] -> [pos * kvw]

    const std::vector<double>& weight(const std::vector<uint16_t>& t) {
        auto it = w.find(&t);
        if (it != w.end()) return it->second;
        std::vector<double> d(t.size());
        for (size_t i = 0; i < t.size(); ++i) d[i] = bf16_to_f32(t[i]);
        return w[&t] = d;
    }

    static void matvec(const std::vector<double>& W, int n, int k, const double* x, double* y) {
        for (int i = 0; i < n; ++i) {
            double s = 0;
            for (int j = 0; j < k; ++j) s += W[size_t(i) * k + j] * x[j];
            y[i] = s;
        }
    }

    void lora(int slot, int layer, int module, const double* x, double* y) {
        if (slot < 0) return;
        auto it = m->slots[size_t(slot)].find(layer * 7 + module);
        if (it == m->slots[size_t(slot)].end()) return;
        const Lora& lo = it->second;
        int in, out;
        module_dims(*m, module, &in, &out);
        std::vector<double> v(static_cast<size_t>(lo.rank));
        for (int r = 0; r < lo.rank; ++r) {
            double s = 0;
            for (int j = 0; j < in; ++j) s += bf16_to_f32(lo.a[size_t(r) * in + j]) * x[j];
            v[size_t(r)] = s;
        }
        for (int o = 0; o < out; ++o) {
            double s = 0;
            for (int r = 0; r < lo.rank; ++r) s += v[size_t(r)] * bf16_to_f32(lo.bt[size_t(r) * out + o]);
            y[o] += m->scales[size_t(slot)] * s;
        }
    }

    void rmsnorm(const std::vector<double>& x, const std::vector<uint16_t>& w, std::vector<double>& out) const {
        double ss = 0;
        for (double v : x) ss += v * v;
        const double inv = 1.0 / std::sqrt(ss / double(x.size()) + m->c.eps);
        out.resize(x.size());
        for (size_t i = 0; i < x.size(); ++i) out[i] = bf(x[i] * inv * bf16_to_f32(w[i]));
    }

    void rope(double* x, int heads, int pos) const {
        const int d = m->c.head_dim;
        for (int h = 0; h < heads; ++h)
            for (int i = 0; i < d / 2; ++i) {
                const double c = m->cos_t[size_t(pos) * d + i], s = m->sin_t[size_t(pos) * d + i];
                double& a = x[h * d + i];
                double& b = x[h * d + i + d / 2];
                const double na = a * c - b * s, nb = b * c + a * s;
                a = na;
                b = nb;
            }
    }

    // Logits after token (seq, pos, id); sequences' tokens must come in position order.
    std::vector<double> token(int seq, int slot, int pos, int id) {
        const Config& c = m->c;
        const int h = c.hidden, ff = c.inter, d = c.head_dim;
        std::vector<double> x(static_cast<size_t>(h)), hn, q(static_cast<size_t>(m->qkvw)), attn(static_cast<size_t>(m->qw)), o(static_cast<size_t>(h)),
            gu(static_cast<size_t>(2 * ff)), act(static_cast<size_t>(ff)), down(static_cast<size_t>(h));
        for (int j = 0; j < h; ++j) x[size_t(j)] = bf16_to_f32(m->embed[size_t(id) * h + j]);
        auto& kc = k_cache[seq];
        auto& vc = v_cache[seq];
        kc.resize(size_t(c.layers));
        vc.resize(size_t(c.layers));
        for (int l = 0; l < c.layers; ++l) {
            const Model::Layer& L = m->layers[size_t(l)];
            rmsnorm(x, L.in_norm, hn);
            matvec(weight(L.qkv), m->qkvw, h, hn.data(), q.data());
            lora(slot, l, 0, hn.data(), q.data());
            lora(slot, l, 1, hn.data(), q.data() + m->qw);
            lora(slot, l, 2, hn.data(), q.data() + m->qw + m->kvw);
            rope(q.data(), c.heads, pos);
            rope(q.data() + m->qw, c.kv_heads, pos);
            kc[size_t(l)].resize(size_t(pos + 1) * m->kvw);
            vc[size_t(l)].resize(size_t(pos + 1) * m->kvw);
            for (int j = 0; j < m->kvw; ++j) {
                kc[size_t(l)][size_t(pos) * m->kvw + j] = bf(q[size_t(m->qw + j)]);
                vc[size_t(l)][size_t(pos) * m->kvw + j] = bf(q[size_t(m->qw + m->kvw + j)]);
            }
            const int first = attn_first_key(pos, c.window);
            for (int hd = 0; hd < c.heads; ++hd) {
                const int kvh = hd / (c.heads / c.kv_heads);
                std::vector<double> sc;
                double mx = -1e300;
                for (int p = first; p <= pos; ++p) {
                    double s = 0;
                    for (int j = 0; j < d; ++j) s += q[size_t(hd * d + j)] * kc[size_t(l)][size_t(p) * m->kvw + kvh * d + j];
                    s /= std::sqrt(double(d));
                    sc.push_back(s);
                    mx = std::max(mx, s);
                }
                double z = 0;
                for (double& s : sc) z += (s = std::exp(s - mx));
                for (int j = 0; j < d; ++j) {
                    double acc = 0;
                    for (int p = first; p <= pos; ++p)
                        acc += sc[size_t(p - first)] * vc[size_t(l)][size_t(p) * m->kvw + kvh * d + j];
                    attn[size_t(hd * d + j)] = bf(acc / z);
                }
            }
            matvec(weight(L.o), h, m->qw, attn.data(), o.data());
            lora(slot, l, 3, attn.data(), o.data());
            for (int j = 0; j < h; ++j) x[size_t(j)] += o[size_t(j)];
            rmsnorm(x, L.post_norm, hn);
            matvec(weight(L.gate_up), 2 * ff, h, hn.data(), gu.data());
            lora(slot, l, 4, hn.data(), gu.data());
            lora(slot, l, 5, hn.data(), gu.data() + ff);
            for (int j = 0; j < ff; ++j) {
                const double g = gu[size_t(j)];
                act[size_t(j)] = bf(g / (1 + std::exp(-g)) * gu[size_t(ff + j)]);
            }
            matvec(weight(L.down), h, ff, act.data(), down.data());
            lora(slot, l, 6, act.data(), down.data());
            for (int j = 0; j < h; ++j) x[size_t(j)] += down[size_t(j)];
        }
        rmsnorm(x, m->final_norm, hn);
        std::vector<double> logits(static_cast<size_t>(c.vocab));
        matvec(weight(m->head), c.vocab, h, hn.data(), logits.data());
        return logits;
    }
};

// One sequence of a test: id, adapter slot, its tokens so far, its blocks.
struct Seq {
    int id, slot;
    std::vector<int> tokens;
    std::vector<int> blocks;
};

struct Runner {
    olora_cuda_context* ctx = nullptr;
    olora_cuda_model* model = nullptr;
    Model* m = nullptr;
    std::map<const std::vector<uint16_t>*, Quantized> quantized;
    int next_block = 0;

    ~Runner() {
        olora_cuda_model_destroy(model);
        olora_cuda_context_destroy(ctx);
    }

    bool open(int device, Model& mm, std::string* error) {
        m = &mm;
        const Config& c = mm.c;
        if (olora_cuda_context_create(device, &ctx) != 0) return *error = "context: " + last_error(), false;
        olora_cuda_model_config cfg{};
        cfg.rope_theta = 10000.0;
        cfg.rope_factor = 4.0;
        cfg.rope_low_freq_factor = 1.0;
        cfg.rope_high_freq_factor = 4.0;
        cfg.rope_original_max_positions = 32.0;
        cfg.rms_norm_eps = c.eps;
        cfg.rope_kind = c.rope_kind;
        cfg.vocab_size = c.vocab;
        cfg.hidden_size = c.hidden;
        cfg.intermediate_size = c.inter;
        cfg.num_layers = c.layers;
        cfg.num_heads = c.heads;
        cfg.kv_heads = c.kv_heads;
        cfg.head_dim = c.head_dim;
        cfg.sliding_window = c.window;
        cfg.max_positions = c.max_positions;
        cfg.block_size = c.block_size;
        cfg.num_blocks = c.num_blocks;
        cfg.num_slots = c.slots;
        cfg.max_rank = c.max_rank;
        cfg.weight_format = c.format;
        cfg.lm_head_format = c.format;
        cfg.max_batch_tokens = c.max_batch_tokens;
        if (olora_cuda_model_create(ctx, &cfg, &model) != 0) return *error = "model: " + last_error(), false;
        auto dense = [&](int kind, int layer, const std::vector<uint16_t>& w) {
            return olora_cuda_model_set_weight(model, kind, layer, w.data(), int64_t(w.size()) * 2, nullptr, 0) == 0;
        };
        auto linear = [&](int kind, int layer, const std::vector<uint16_t>& w, int n, int k) {
            if (c.format == OLORA_CUDA_FORMAT_BF16) return dense(kind, layer, w);
            Quantized& q = quantized[&w] = quantize(w, n, k, c.format);
            return olora_cuda_model_set_weight(model, kind, layer, q.data.data(), int64_t(q.data.size()), q.aux.data(),
                                               int64_t(q.aux.size()) * 4) == 0;
        };
        bool ok = dense(OLORA_CUDA_W_EMBED, -1, mm.embed) && dense(OLORA_CUDA_W_FINAL_NORM, -1, mm.final_norm) &&
                  linear(OLORA_CUDA_W_LM_HEAD, -1, mm.head, c.vocab, c.hidden);
        for (int l = 0; ok && l < c.layers; ++l) {
            const auto& L = mm.layers[size_t(l)];
            ok = dense(OLORA_CUDA_W_INPUT_NORM, l, L.in_norm) && dense(OLORA_CUDA_W_POST_NORM, l, L.post_norm) &&
                 linear(OLORA_CUDA_W_QKV, l, L.qkv, mm.qkvw, c.hidden) && linear(OLORA_CUDA_W_O, l, L.o, c.hidden, mm.qw) &&
                 linear(OLORA_CUDA_W_GATE_UP, l, L.gate_up, 2 * c.inter, c.hidden) &&
                 linear(OLORA_CUDA_W_DOWN, l, L.down, c.hidden, c.inter);
        }
        if (!ok) return *error = "set_weight: " + last_error(), false;
        return load_adapters(error);
    }

    bool load_adapters(std::string* error) {
        for (int s = 0; s < m->c.slots; ++s) {
            if (olora_cuda_model_clear_adapter(model, s) != 0) return *error = last_error(), false;
            for (auto& [key, lo] : m->slots[size_t(s)])
                if (olora_cuda_model_set_adapter(model, s, key / 7, key % 7, lo.rank, lo.a.data(), lo.bt.data()) != 0)
                    return *error = "set_adapter: " + last_error(), false;
            if (olora_cuda_model_set_adapter_scale(model, s, m->scales[size_t(s)]) != 0) return *error = last_error(), false;
        }
        return true;
    }

    // Reference weights for a step of `rows` token rows (quantized formats differ between GEMV and GEMM rows).
    void reference_weights(Reference& ref, int rows) {
        ref.w.clear();
        if (m->c.format == OLORA_CUDA_FORMAT_BF16) return;
        const bool gemm = rows > 8;  // prefill rows: dequantized to bf16, then the bf16 GEMM
        const Config& c = m->c;
        auto set = [&](const std::vector<uint16_t>& w, int n, int k) {
            ref.w[&w] = dequantized(quantized[&w], n, k, c.format, gemm);
        };
        set(m->head, c.vocab, c.hidden);
        for (const auto& L : m->layers) {
            set(L.qkv, m->qkvw, c.hidden);
            set(L.o, c.hidden, m->qw);
            set(L.gate_up, 2 * c.inter, c.hidden);
            set(L.down, c.hidden, c.inter);
        }
    }
};

// Runs one step: each (seq, new tokens) entry appends its tokens; logits wanted for every token row (so chunk
// interiors are checked too). Returns the max |runner - reference| / max |reference| over the step.
struct StepResult {
    bool ok;
    double rel_error;
    std::string error;
};

StepResult step(Runner& r, Reference& ref, std::vector<Seq>& seqs, const std::vector<std::pair<int, std::vector<int>>>& work) {
    const Config& c = r.m->c;
    std::vector<int32_t> ids, starts, counts, slots, rows;
    int stride = 0;
    for (auto& [si, toks] : work) {
        Seq& s = seqs[size_t(si)];
        const int start = int(s.tokens.size());
        const int end = start + int(toks.size());
        while (int(s.blocks.size()) * c.block_size < end) s.blocks.push_back(r.next_block++);
        stride = std::max(stride, int(s.blocks.size()) + 1);
    }
    std::vector<int32_t> tables;
    for (auto& [si, toks] : work) {
        Seq& s = seqs[size_t(si)];
        starts.push_back(int32_t(s.tokens.size()));
        counts.push_back(int32_t(toks.size()));
        slots.push_back(s.slot);
        for (int t : toks) ids.push_back(t);
        std::vector<int32_t> row(size_t(stride), -7);  // entries past the sequence are never read
        for (size_t b = 0; b < s.blocks.size(); ++b) row[b] = s.blocks[b];
        tables.insert(tables.end(), row.begin(), row.end());
    }
    for (int i = 0; i < int(ids.size()); ++i) rows.push_back(i);
    std::vector<float> logits(rows.size() * size_t(c.vocab), std::nanf(""));
    if (olora_cuda_model_forward(r.model, int32_t(ids.size()), ids.data(), int32_t(work.size()), starts.data(),
                                 counts.data(), slots.data(), tables.data(), stride, int32_t(rows.size()), rows.data(),
                                 logits.data()) != 0)
        return {false, 0, "forward: " + last_error()};
    r.reference_weights(ref, int(ids.size()));
    double max_err = 0, max_ref = 0;
    int row = 0;
    for (auto& [si, toks] : work) {
        Seq& s = seqs[size_t(si)];
        for (int t : toks) {
            const std::vector<double> want = ref.token(s.id, s.slot, int(s.tokens.size()), t);
            s.tokens.push_back(t);
            for (int v = 0; v < c.vocab; ++v) {
                const double got = logits[size_t(row) * c.vocab + v];
                if (!std::isfinite(got)) return {false, 0, "row " + std::to_string(row) + " not written (NaN)"};
                max_err = std::max(max_err, std::fabs(got - want[size_t(v)]));
                max_ref = std::max(max_ref, std::fabs(want[size_t(v)]));
            }
            ++row;
        }
    }
    return {true, max_err / max_ref, ""};
}

std::vector<int> random_tokens(std::mt19937& rng, int n, int vocab) {
    std::uniform_int_distribution<int> d(0, vocab - 1);
    std::vector<int> t(static_cast<size_t>(n));
    for (auto& x : t) x = d(rng);
    return t;
}

// The scenario every variant runs: prefill chunks across block boundaries on three adapters and the base, a
// step with a leading decode run plus a new prefill (both attention kernels in one step), a step where a
// chunk comes before decode rows (prefill kernel for all), then decode steps.
void run_scenario(int device, const std::string& name, Config c, double tolerance, uint32_t seed) {
    Model m = make_model(c, seed);
    std::mt19937 rng(seed + 1);
    make_adapter(m, rng, 0, 4, 0x7f, 1.f);                     // every module
    make_adapter(m, rng, 1, 16, (1u << 0) | (1u << 2), 0.5f);  // q / v only
    make_adapter(m, rng, 2, 1, 0x7f, 2.f);                     // rank 1
    std::vector<std::vector<std::pair<int, std::vector<int>>>> steps = {
        {{0, random_tokens(rng, 11, c.vocab)}, {1, random_tokens(rng, 6, c.vocab)}, {2, random_tokens(rng, 9, c.vocab)}},
        {{0, random_tokens(rng, 1, c.vocab)}, {1, random_tokens(rng, 1, c.vocab)}, {2, random_tokens(rng, 1, c.vocab)},
         {3, random_tokens(rng, 5, c.vocab)}},
        {{3, random_tokens(rng, 7, c.vocab)}, {0, random_tokens(rng, 1, c.vocab)}, {2, random_tokens(rng, 1, c.vocab)}},
    };
    for (int i = 0; i < 6; ++i)
        steps.push_back({{0, random_tokens(rng, 1, c.vocab)}, {1, random_tokens(rng, 1, c.vocab)},
                         {2, random_tokens(rng, 1, c.vocab)}, {3, random_tokens(rng, 1, c.vocab)}});
    // Every step on a fresh runner of m, against the reference of ref_model: the worst relative error, or -1.
    std::string error;
    auto run_all = [&](const Model& ref_model) {
        Runner r;
        if (!r.open(device, m, &error)) return -1.0;
        Reference ref{&ref_model, {}, {}, {}};
        std::vector<Seq> seqs = {{0, 0, {}, {}}, {1, -1, {}, {}}, {2, 1, {}, {}}, {3, 2, {}, {}}};
        double worst = 0;
        for (size_t i = 0; i < steps.size(); ++i) {
            StepResult s = step(r, ref, seqs, steps[i]);
            if (!s.ok) {
                error = "step " + std::to_string(i) + ": " + s.error;
                return -1.0;
            }
            worst = std::max(worst, s.rel_error);
        }
        return worst;
    };
    const double worst = run_all(m);
    if (worst < 0) return report(false, name, error);
    char detail[160];
    std::snprintf(detail, sizeof detail, "max |logit - float64 ref| / max |ref| = %.2e over %zu steps (tolerance %.0e)",
                  worst, steps.size(), tolerance);
    report(worst <= tolerance, name, detail);

    // The same comparison must fail when the reference leaves out what the scenario exercises: shows it can.
    auto must_differ = [&](const std::string& what, const Model& changed) {
        const double e = run_all(changed);
        std::snprintf(detail, sizeof detail, "against a reference %s the error is %.2e (must exceed 10x the tolerance)",
                      what.c_str(), e);
        report(e > 10 * tolerance, name + ": the check sees " + what.substr(what.find(' ') + 1), detail);
    };
    // (bf16 only: the quantized reference weights are keyed by the runner's own model.)
    if (c.format != OLORA_CUDA_FORMAT_BF16) return;
    Model no_adapter = m;
    no_adapter.slots[0].clear();
    must_differ("without adapter 0", no_adapter);
    if (c.window > 0) {
        Model no_window = m;
        no_window.c.window = 0;
        must_differ("without the window", no_window);
    }
}

// Long contexts at a real head size: head_dim 128, prompts over many prefill tiles and KV blocks, a second chunk
// over 400 cached positions, then decode steps whose split-K covers several parts, with a window of 300 (so the
// first part starts mid-context). What the tiny scenarios cannot reach (~3 s on the host emulation context).
void run_long(int device) {
    Config c;
    c.hidden = 256;
    c.inter = 512;
    c.heads = 4;
    c.kv_heads = 2;
    c.head_dim = 128;
    c.max_positions = 1024;
    c.block_size = 16;
    c.num_blocks = 160;
    c.window = 300;
    c.slots = 2;
    c.max_rank = 32;
    const std::string name = "long contexts: head_dim 128, 700 positions, window 300, multi-part decode";
    Model m = make_model(c, 11);
    std::mt19937 rng(12);
    make_adapter(m, rng, 0, 32, 0x7f, 1.f);
    Runner r;
    std::string error;
    if (!r.open(device, m, &error)) return report(false, name, error);
    Reference ref{&m, {}, {}, {}};
    std::vector<Seq> seqs = {{0, 0, {}, {}}, {1, -1, {}, {}}};
    std::vector<std::vector<std::pair<int, std::vector<int>>>> steps = {
        {{0, random_tokens(rng, 400, c.vocab)}, {1, random_tokens(rng, 250, c.vocab)}},
        {{1, random_tokens(rng, 1, c.vocab)}, {0, random_tokens(rng, 300, c.vocab)}},
    };
    for (int i = 0; i < 3; ++i) steps.push_back({{0, random_tokens(rng, 1, c.vocab)}, {1, random_tokens(rng, 1, c.vocab)}});
    double worst = 0;
    for (size_t i = 0; i < steps.size(); ++i) {
        StepResult st = step(r, ref, seqs, steps[i]);
        if (!st.ok) return report(false, name, "step " + std::to_string(i) + ": " + st.error);
        worst = std::max(worst, st.rel_error);
    }
    char detail[160];
    std::snprintf(detail, sizeof detail, "max |logit - float64 ref| / max |ref| = %.2e over %zu steps (tolerance 1e-02)",
                  worst, steps.size());
    report(worst <= 1e-2, name, detail);
}

// Shared prefix blocks and copy_blocks: a sequence whose table reuses another's full blocks (and a copy of
// its partial block) gets the logits the first sequence would have.
void run_prefix(int device) {
    Config c;
    Model m = make_model(c, 77);
    std::mt19937 rng(78);
    make_adapter(m, rng, 0, 8, 0x7f, 1.f);
    Runner r;
    std::string error;
    if (!r.open(device, m, &error)) return report(false, "prefix blocks + copy_blocks", error);
    Reference ref{&m, {}, {}, {}};
    std::vector<Seq> seqs = {{0, 0, {}, {}}};
    const std::vector<int> prompt = random_tokens(rng, 10, c.vocab);  // blocks 0, 1 full; block 2 partial
    StepResult s = step(r, ref, seqs, {{0, prompt}});
    if (!s.ok) return report(false, "prefix blocks + copy_blocks", s.error);
    // Sequence 1: same prompt and adapter; shares blocks 0 and 1, copies block 2 into a fresh one.
    const int fresh = r.next_block++;
    const int32_t pair[2] = {seqs[0].blocks[2], fresh};
    if (olora_cuda_model_copy_blocks(r.model, pair, 1) != 0) return report(false, "prefix blocks + copy_blocks", last_error());
    Seq twin{1, 0, prompt, {seqs[0].blocks[0], seqs[0].blocks[1], fresh}};
    ref.k_cache[1] = ref.k_cache[0];
    ref.v_cache[1] = ref.v_cache[0];
    seqs.push_back(twin);
    const std::vector<int> next = random_tokens(rng, 1, c.vocab);
    std::vector<Seq> both = seqs;
    StepResult a = step(r, ref, both, {{0, next}, {1, next}});
    if (!a.ok) return report(false, "prefix blocks + copy_blocks", a.error);
    char detail[160];
    std::snprintf(detail, sizeof detail, "relative error %.2e after sharing 2 blocks and copying 1", a.rel_error);
    report(a.rel_error <= 1e-2, "prefix blocks + copy_blocks", detail);
}

void expect_refused(olora_cuda_model* model, const std::string& name, const std::string& needle,
                    const std::vector<int32_t>& ids, const std::vector<int32_t>& starts,
                    const std::vector<int32_t>& counts, const std::vector<int32_t>& slots,
                    const std::vector<int32_t>& tables, int stride, const std::vector<int32_t>& rows, int vocab) {
    std::vector<float> logits(rows.size() * size_t(vocab) + 1);
    const int32_t rc = olora_cuda_model_forward(model, int32_t(ids.size()), ids.data(), int32_t(counts.size()),
                                                starts.data(), counts.data(), slots.data(), tables.data(), stride,
                                                int32_t(rows.size()), rows.data(), logits.data());
    const std::string msg = last_error();
    report(rc == OLORA_CUDA_E_ARGUMENT && msg.find(needle) != std::string::npos, "refuses " + name, "\"" + msg + "\"");
}

void run_refusals(int device) {
    Config c;
    Model m = make_model(c, 5);
    Runner r;
    std::string error;
    if (!r.open(device, m, &error)) return report(false, "refusals", error);
    const int v = c.vocab;
    expect_refused(r.model, "a token outside the vocabulary", "outside the vocabulary", {1, v}, {0}, {2}, {-1}, {0, 1}, 2, {1}, v);
    expect_refused(r.model, "an adapter slot out of range", "adapter slot 3", {1}, {0}, {1}, {3}, {0}, 1, {0}, v);
    expect_refused(r.model, "a block outside the pool", "block table entry", {1, 2, 3, 4, 5}, {0}, {5}, {-1}, {0, 64}, 2, {4}, v);
    expect_refused(r.model, "two tokens on one KV slot", "write KV slot", {1, 2}, {0, 0}, {1, 1}, {-1, -1}, {0, 0}, 1, {0}, v);
    expect_refused(r.model, "counts that do not add up", "sum to", {1, 2, 3}, {0}, {2}, {-1}, {0}, 1, {0}, v);
    expect_refused(r.model, "positions past max_positions", "max_positions", {1}, {c.max_positions}, {1}, {-1},
                   std::vector<int32_t>(64, 0), 64, {0}, v);
    expect_refused(r.model, "a logit row outside the batch", "logit row", {1}, {0}, {1}, {-1}, {0}, 1, {1}, v);
    {
        Config small = c;
        small.max_batch_tokens = 4;
        Model sm = make_model(small, 6);
        Runner sr;
        if (!sr.open(device, sm, &error)) return report(false, "refusals", error);
        expect_refused(sr.model, "more tokens than max_batch_tokens", "exceed max_batch_tokens 4", {1, 2, 3, 4, 5}, {0},
                       {5}, {-1}, {0, 1}, 2, {4}, v);
    }
    // Still serves after every refusal.
    Reference ref{&m, {}, {}, {}};
    std::vector<Seq> seqs = {{0, -1, {}, {}}};
    std::mt19937 rng(9);
    StepResult s = step(r, ref, seqs, {{0, random_tokens(rng, 5, v)}});
    report(s.ok && s.rel_error <= 1e-2, "serves after refused batches", s.ok ? "ok" : s.error);

    // A model missing a weight refuses to run and names it.
    olora_cuda_context* ctx = nullptr;
    olora_cuda_model* bare = nullptr;
    olora_cuda_model_config cfg{};
    cfg.rope_theta = 10000;
    cfg.rms_norm_eps = 1e-5f;
    cfg.vocab_size = 11;
    cfg.hidden_size = 8;
    cfg.intermediate_size = 8;
    cfg.num_layers = 1;
    cfg.num_heads = 2;
    cfg.kv_heads = 1;
    cfg.head_dim = 4;
    cfg.max_positions = 8;
    cfg.block_size = 4;
    cfg.num_blocks = 2;
    cfg.max_rank = 4;
    const bool made = olora_cuda_context_create(device, &ctx) == 0 && olora_cuda_model_create(ctx, &cfg, &bare) == 0;
    const int32_t one = 1, zero = 0, none = -1, block = 0;
    float out[11];
    const int32_t rc = made ? olora_cuda_model_forward(bare, 1, &one, 1, &zero, &one, &none, &block, 1, 1, &zero, out) : 0;
    const std::string missing_msg = last_error();
    report(made && rc == OLORA_CUDA_E_ARGUMENT && missing_msg.find("embed_tokens") != std::string::npos,
           "refuses to run with a weight missing", missing_msg);
    cfg.head_dim = 5;
    olora_cuda_model* odd = nullptr;
    const int32_t odd_rc = olora_cuda_model_create(ctx, &cfg, &odd);
    const std::string odd_msg = last_error();
    report(odd_rc == OLORA_CUDA_E_ARGUMENT && odd_msg.find("head_dim") != std::string::npos, "refuses an odd head_dim", odd_msg);
    olora_cuda_model_destroy(bare);
    olora_cuda_context_destroy(ctx);
}

}  // namespace

int main(int argc, char** argv) {
    int device = OLORA_CUDA_HOST_DEVICE;
    for (int i = 1; i < argc; ++i)
        if (std::strcmp(argv[i], "--device") == 0 && i + 1 < argc) device = std::atoi(argv[++i]);
    std::printf("cuda_model_check on %s\n", device == OLORA_CUDA_HOST_DEVICE ? "the host emulation context"
                                                                            : ("cuda:" + std::to_string(device)).c_str());
    Config base;
    run_scenario(device, "bf16 GQA, 3 adapters (ranks 4 / 16 q,v-only / 1) + base", base, 1e-2, 1);
    Config window = base;
    window.window = 5;
    window.rope_kind = 2;
    run_scenario(device, "bf16, sliding window 5, llama3 RoPE", window, 1e-2, 2);
    Config mha = base;
    mha.kv_heads = 4;
    mha.block_size = 16;
    mha.rope_kind = 1;
    run_scenario(device, "bf16 MHA, block 16, linear RoPE", mha, 1e-2, 3);
    Config nf4 = base;
    nf4.format = OLORA_CUDA_FORMAT_NF4;
    nf4.max_batch_tokens = 40;  // preallocated (the scenario's largest step has 26 tokens)
    run_scenario(device, "NF4 weights", nf4, 1e-2, 4);
    Config int8 = base;
    int8.format = OLORA_CUDA_FORMAT_INT8;
    run_scenario(device, "int8 weights", int8, 1e-2, 5);
    run_prefix(device);
    run_refusals(device);
    run_long(device);
    std::printf("cuda_model_check: %d passed, %d failed\n", g_passed, g_failed);
    return g_failed == 0 ? 0 : 1;
}

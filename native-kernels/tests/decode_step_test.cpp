// olora_decode_layers against the kernels it strings together, called one by one as the engine's managed decode
// step calls them: the same bits in every buffer and in the KV pools, on every ISA path, for float32, NF4 and int8
// weights, float32 and bf16 caches, one and several rows; and its argument checks, which must refuse before
// anything is written. (The kernels themselves are checked against float64 references in their own tests, and the
// whole model on this path against a float64 model in the engine's PagedAttentionMatchesReferenceTests.)
#include <functional>
#include <memory>

#include "paged_test_util.h"

using namespace olora_test;

namespace {

constexpr int kHidden = 64, kHeads = 4, kKvHeads = 2, kHeadDim = 16, kInter = 96, kLayers = 2;
constexpr int kQ = kHeads * kHeadDim, kKv = kKvHeads * kHeadDim, kQkv = kQ + 2 * kKv;
constexpr int kBlock = 4, kBlocks = 24, kMaxBlocks = 5, kMaxPositions = 40;

// One projection's weights in the layout its kind names.
struct Weights {
    std::vector<float> f32;
    std::vector<uint8_t> codes;
    std::vector<int8_t> q;
    std::vector<float> scales;
    olora_linear_ref ref{};

    Weights(std::mt19937& g, int kind, int compute, int n, int k) {
        std::vector<float> w = uniform(g, size_t(n) * k, -0.2f, 0.2f);
        ref.kind = kind;
        ref.compute = compute;
        ref.out_features = n;
        ref.in_features = k;
        if (kind == OLORA_LINEAR_F32) {
            f32 = w;
            ref.weight = f32.data();
        } else if (kind == OLORA_LINEAR_NF4) {
            codes.resize((w.size() + 1) / 2);
            scales.resize((w.size() + 63) / 64);
            EXPECT_EQ(olora_nf4_quantize(w.data(), int64_t(w.size()), codes.data(), scales.data()), OLORA_OK);
            ref.weight = codes.data();
            ref.scales = scales.data();
        } else {
            q.resize(w.size());
            scales.resize(size_t(n));
            EXPECT_EQ(olora_int8_quantize(w.data(), n, k, q.data(), scales.data()), OLORA_OK);
            ref.weight = q.data();
            ref.scales = scales.data();
        }
    }

    int32_t run(const float* x, float* y, int rows) const {
        const int n = ref.out_features, k = ref.in_features;
        if (ref.kind == OLORA_LINEAR_F32) return olora_gemm_f32(x, k, f32.data(), k, y, n, rows, n, k, 0);
        if (ref.kind == OLORA_LINEAR_NF4)
            return olora_nf4_linear_ex(x, k, y, n, rows, n, k, codes.data(), scales.data(), 0, ref.compute);
        return olora_int8_linear_ex(x, k, y, n, rows, n, k, q.data(), scales.data(), 0, ref.compute);
    }
};

struct Layer {
    std::vector<float> input_norm, post_norm;
    Weights qkv, o, gate_up, down;
    Layer(std::mt19937& g, int kind, int compute)
        : input_norm(uniform(g, kHidden, 0.5f, 1.5f)),
          post_norm(uniform(g, kHidden, 0.5f, 1.5f)),
          qkv(g, kind, compute, kQkv, kHidden),
          o(g, kind, compute, kHidden, kQ),
          gate_up(g, kind, compute, 2 * kInter, kHidden),
          down(g, kind, compute, kHidden, kInter) {}
    olora_decode_layer desc() const {
        return {input_norm.data(), post_norm.data(), 1e-5f, 2e-6f, qkv.ref, o.ref, gate_up.ref, down.ref};
    }
};

// LoRA tables of every layer and projection for kSlots slots (slot 0 left empty), each (layer, projection, slot) with
// its own rank (0: the adapter leaves it alone), in float32 or bf16.
constexpr int kSlots = 3, kMaxRank = 8;
struct Lora {
    int dtype;
    std::vector<std::vector<float>> af, bf;
    std::vector<std::vector<uint16_t>> ah, bh;
    std::vector<std::vector<int32_t>> ranks;
    std::vector<olora_lora_ref> refs;
    std::vector<float> scales{1.f, 0.5f, 2.f};
    static std::pair<int, int> dims(int module) {
        switch (module) {
            case OLORA_LORA_Q: return {kHidden, kQ};
            case OLORA_LORA_K:
            case OLORA_LORA_V: return {kHidden, kKv};
            case OLORA_LORA_O: return {kQ, kHidden};
            case OLORA_LORA_GATE:
            case OLORA_LORA_UP: return {kHidden, kInter};
            default: return {kInter, kHidden};
        }
    }
    Lora(std::mt19937& g, int dtype_) : dtype(dtype_) {
        const int n = kLayers * OLORA_LORA_MODULES;
        af.resize(n), bf.resize(n), ah.resize(n), bh.resize(n), ranks.resize(n), refs.resize(n);
        std::uniform_int_distribution<int> rank(0, kMaxRank);
        for (int p = 0; p < n; ++p) {
            const auto [in, out] = dims(p % OLORA_LORA_MODULES);
            af[p] = uniform(g, size_t(kSlots) * kMaxRank * in, -0.3f, 0.3f);
            bf[p] = uniform(g, size_t(kSlots) * kMaxRank * out, -0.3f, 0.3f);
            for (float x : af[p]) ah[p].push_back(bf16_rne(x));
            for (float x : bf[p]) bh[p].push_back(bf16_rne(x));
            ranks[p] = {0, rank(g), p % 3 == 0 ? 0 : rank(g)};
            const bool h = dtype == OLORA_DTYPE_BF16;
            refs[p] = {h ? static_cast<const void*>(ah[p].data()) : af[p].data(),
                       h ? static_cast<const void*>(bh[p].data()) : bf[p].data(), ranks[p].data()};
        }
    }
    // AdapterSlotTable.Apply: y += LoRA(x) for the segments whose slot has a rank on this projection.
    void apply(int layer, int module, const std::vector<int32_t>& starts, const std::vector<int32_t>& seg_slots,
               const float* x, int64_t xs, float* y, int64_t ys) const {
        const int p = layer * OLORA_LORA_MODULES + module;
        std::vector<int32_t> slots;
        bool any = false;
        for (int32_t sl : seg_slots) {
            slots.push_back(sl >= 0 && ranks[p][sl] > 0 ? sl : -1);
            any |= slots.back() >= 0;
        }
        if (!any) return;
        std::vector<int32_t> kernel_ranks;  // the engine passes max(rank, 1)
        for (int32_t r : ranks[p]) kernel_ranks.push_back(std::max(r, 1));
        const auto [in, out] = dims(module);
        ASSERT_EQ(olora_sgmv_mixed(OLORA_DTYPE_F32, dtype, x, xs, y, ys, starts.data(), slots.data(), int(slots.size()),
                                   refs[p].a_table, refs[p].b_table, kSlots, kMaxRank, in, out, kernel_ranks.data(),
                                   scales.data(), nullptr, 0), OLORA_OK);
    }
};

// The buffers, RoPE tables, KV pools and block tables of one step; copies compare bit for bit.
struct State {
    std::vector<float> residual, normed, qkv, attended, projected, gate_up, activation, mlp_output;
    std::vector<KvPools> pools;
    State(std::mt19937& g, int rows, int dtype) {
        residual = uniform(g, size_t(rows) * kHidden, -2.f, 2.f);
        mlp_output = uniform(g, size_t(rows) * kHidden, -1.f, 1.f);
        for (auto* b : {&normed, &projected}) b->assign(size_t(rows) * kHidden, NAN);
        qkv.assign(size_t(rows) * kQkv, NAN);
        attended.assign(size_t(rows) * kQ, NAN);
        gate_up.assign(size_t(rows) * 2 * kInter, NAN);
        activation.assign(size_t(rows) * kInter, NAN);
        for (int l = 0; l < kLayers; ++l) pools.emplace_back(dtype, kBlocks, kBlock, kKvHeads, kHeadDim);
    }
    std::vector<const std::vector<float>*> buffers() const {
        return {&residual, &normed, &qkv, &attended, &projected, &gate_up, &activation, &mlp_output};
    }
};

struct Step {
    std::vector<int32_t> positions, context_lens;
    std::vector<int64_t> slots;
    // LoRA segments: one per row, slots cycling 1, -1, 2 (rows on an adapter, on the base, on another).
    std::vector<int32_t> seg_starts, seg_slots;
    BlockTables tables;
    std::vector<float> cos, sin;
    Step(std::mt19937& g, const std::vector<int>& prior)
        : tables(g, std::vector<int>(prior.size(), kMaxBlocks), kBlocks, kMaxBlocks),
          cos(uniform(g, size_t(kMaxPositions) * kHeadDim, -1.f, 1.f)),
          sin(uniform(g, size_t(kMaxPositions) * kHeadDim, -1.f, 1.f)) {
        for (size_t i = 0; i < prior.size(); ++i) {
            positions.push_back(prior[i]);
            context_lens.push_back(prior[i] + 1);
            const int32_t* row = tables.row(int(i));
            slots.push_back(int64_t(row[prior[i] / kBlock]) * kBlock + prior[i] % kBlock);
            seg_starts.push_back(int32_t(i));
            seg_slots.push_back(i % 3 == 0 ? 1 : i % 3 == 1 ? -1 : 2);
        }
        seg_starts.push_back(int32_t(prior.size()));
    }
    olora_decode_step desc(State& s, std::vector<void*>& k, std::vector<void*>& v, const Lora* lora = nullptr) {
        k.clear();
        v.clear();
        for (auto& p : s.pools) {
            k.push_back(p.k());
            v.push_back(p.v());
        }
        olora_decode_step d{};
        d.rows = int32_t(positions.size());
        d.hidden = kHidden;
        d.num_heads = kHeads;
        d.kv_heads = kKvHeads;
        d.head_dim = kHeadDim;
        d.intermediate = kInter;
        d.pending = 1;
        d.cache_dtype = s.pools[0].dtype;
        d.residual = s.residual.data();
        d.normed = s.normed.data();
        d.qkv = s.qkv.data();
        d.attended = s.attended.data();
        d.projected = s.projected.data();
        d.gate_up = s.gate_up.data();
        d.activation = s.activation.data();
        d.mlp_output = s.mlp_output.data();
        d.positions = positions.data();
        d.cos_table = cos.data();
        d.sin_table = sin.data();
        d.max_positions = kMaxPositions;
        d.block_size = kBlock;
        d.num_blocks = kBlocks;
        d.k_pools = k.data();
        d.v_pools = v.data();
        d.slot_mapping = slots.data();
        d.block_tables = tables.t.data();
        d.block_table_stride = tables.stride;
        d.max_blocks_per_seq = tables.max_blocks;
        d.sliding_window = 0;
        d.context_lens = context_lens.data();
        if (lora) {
            d.lora_segments = int32_t(seg_slots.size());
            d.lora_dtype = lora->dtype;
            d.lora_slots = kSlots;
            d.lora_max_rank = kMaxRank;
            d.lora_seg_starts = seg_starts.data();
            d.lora_seg_slots = seg_slots.data();
            d.lora_slot_scales = lora->scales.data();
            d.lora = lora->refs.data();
        }
        return d;
    }
};

// The engine's managed decode step: DecoderLayer.ForwardDecode's calls, one kernel at a time.
void one_by_one(const std::vector<Layer>& layers, State& s, Step& st, bool pending, const Lora* lora) {
    const int rows = int(st.positions.size());
    for (int l = 0; l < kLayers; ++l) {
        const Layer& L = layers[size_t(l)];
        KvPools& p = s.pools[size_t(l)];
        if (l == 0 && !pending)
            ASSERT_EQ(olora_rmsnorm(s.residual.data(), kHidden, L.input_norm.data(), s.normed.data(), kHidden, rows,
                                    kHidden, 1e-5f), OLORA_OK);
        else
            ASSERT_EQ(olora_add_rmsnorm(s.mlp_output.data(), kHidden, s.residual.data(), kHidden, L.input_norm.data(),
                                        s.normed.data(), kHidden, rows, kHidden, 1e-5f), OLORA_OK);
        ASSERT_EQ(L.qkv.run(s.normed.data(), s.qkv.data(), rows), OLORA_OK);
        if (lora) {
            lora->apply(l, OLORA_LORA_Q, st.seg_starts, st.seg_slots, s.normed.data(), kHidden, s.qkv.data(), kQkv);
            lora->apply(l, OLORA_LORA_K, st.seg_starts, st.seg_slots, s.normed.data(), kHidden, s.qkv.data() + kQ, kQkv);
            lora->apply(l, OLORA_LORA_V, st.seg_starts, st.seg_slots, s.normed.data(), kHidden, s.qkv.data() + kQ + kKv, kQkv);
        }
        ASSERT_EQ(olora_rope(s.qkv.data(), kQkv, kHeads, s.qkv.data() + kQ, kQkv, kKvHeads, kHeadDim, st.positions.data(),
                             rows, st.cos.data(), st.sin.data(), kMaxPositions), OLORA_OK);
        ASSERT_EQ(olora_kv_append(p.dtype, s.qkv.data() + kQ, kQkv, s.qkv.data() + kQ + kKv, kQkv, st.slots.data(), rows,
                                  p.k(), p.v(), kBlocks, kBlock, kKvHeads, kHeadDim), OLORA_OK);
        ASSERT_EQ(olora_paged_attention_decode(p.dtype, s.qkv.data(), kQkv, s.attended.data(), kQ, p.k(), p.v(), kBlocks,
                                               kBlock, st.tables.t.data(), st.tables.stride, st.tables.max_blocks,
                                               st.context_lens.data(), rows, kHeads, kKvHeads, kHeadDim, 0), OLORA_OK);
        ASSERT_EQ(L.o.run(s.attended.data(), s.projected.data(), rows), OLORA_OK);
        if (lora) lora->apply(l, OLORA_LORA_O, st.seg_starts, st.seg_slots, s.attended.data(), kQ, s.projected.data(), kHidden);
        ASSERT_EQ(olora_add_rmsnorm(s.projected.data(), kHidden, s.residual.data(), kHidden, L.post_norm.data(),
                                    s.normed.data(), kHidden, rows, kHidden, 2e-6f), OLORA_OK);
        ASSERT_EQ(L.gate_up.run(s.normed.data(), s.gate_up.data(), rows), OLORA_OK);
        if (lora) {
            lora->apply(l, OLORA_LORA_GATE, st.seg_starts, st.seg_slots, s.normed.data(), kHidden, s.gate_up.data(), 2 * kInter);
            lora->apply(l, OLORA_LORA_UP, st.seg_starts, st.seg_slots, s.normed.data(), kHidden, s.gate_up.data() + kInter, 2 * kInter);
        }
        ASSERT_EQ(olora_swiglu(s.gate_up.data(), 2 * kInter, s.activation.data(), kInter, rows, kInter), OLORA_OK);
        ASSERT_EQ(L.down.run(s.activation.data(), s.mlp_output.data(), rows), OLORA_OK);
        if (lora) lora->apply(l, OLORA_LORA_DOWN, st.seg_starts, st.seg_slots, s.activation.data(), kInter, s.mlp_output.data(), kHidden);
    }
}

void expect_same(const State& a, const State& b) {
    const auto ab = a.buffers(), bb = b.buffers();
    const char* names[] = {"residual", "normed", "qkv", "attended", "projected", "gate_up", "activation", "mlp_output"};
    for (size_t i = 0; i < ab.size(); ++i)
        for (size_t e = 0; e < ab[i]->size(); ++e)
            ASSERT_TRUE(same_bits((*ab[i])[e], (*bb[i])[e])) << names[i] << "[" << e << "]: " << (*ab[i])[e] << " vs " << (*bb[i])[e];
    for (size_t l = 0; l < a.pools.size(); ++l)
        for (size_t e = 0; e < a.pools[l].size(); ++e) {
            ASSERT_EQ(a.pools[l].bits(true, int64_t(e)), b.pools[l].bits(true, int64_t(e))) << "layer " << l << " K[" << e << "]";
            ASSERT_EQ(a.pools[l].bits(false, int64_t(e)), b.pools[l].bits(false, int64_t(e))) << "layer " << l << " V[" << e << "]";
        }
}

class DecodeStepTest : public IsaTest {};

TEST_P(DecodeStepTest, LayersGiveTheKernelsOneByOneBitForBit) {
    const std::pair<int, int> kinds[] = {{OLORA_LINEAR_F32, OLORA_COMPUTE_F32}, {OLORA_LINEAR_NF4, OLORA_COMPUTE_BF16},
                                         {OLORA_LINEAR_NF4, OLORA_COMPUTE_INT8}, {OLORA_LINEAR_INT8, OLORA_COMPUTE_BF16},
                                         {OLORA_LINEAR_INT8, OLORA_COMPUTE_F32}};
    for (auto [kind, compute] : kinds)
        for (int dtype : {OLORA_DTYPE_F32, OLORA_DTYPE_BF16})
            for (const std::vector<int>& prior : {std::vector<int>{6}, std::vector<int>{0, 11, 4}})
              for (int lora_dtype : {-1, int(OLORA_DTYPE_F32), int(OLORA_DTYPE_BF16)}) {
                SCOPED_TRACE(trace() + " kind=" + std::to_string(kind) + " compute=" + std::to_string(compute) +
                             " cache=" + dtype_name(dtype) + " rows=" + std::to_string(prior.size()) +
                             " lora=" + (lora_dtype < 0 ? "none" : dtype_name(lora_dtype)));
                std::unique_ptr<Lora> lora;
                if (lora_dtype >= 0) lora = std::make_unique<Lora>(rng_, lora_dtype);
                std::vector<Layer> layers;
                for (int l = 0; l < kLayers; ++l) layers.emplace_back(rng_, kind, compute);
                Step st(rng_, prior);
                State fused(rng_, int(prior.size()), dtype);
                // Earlier positions hold keys and values (crossing block boundaries); this step's slots stay NaN.
                for (size_t i = 0; i < prior.size(); ++i)
                    for (auto& p : fused.pools) fill_positions(p, st.tables.row(int(i)), 0, prior[i], rng_);
                State chained = fused;
                std::vector<void*> k, v;
                std::vector<olora_decode_layer> descs;
                for (const Layer& L : layers) descs.push_back(L.desc());
                // A step's first layer of a model starts with no MLP output pending (the embedding rows alone).
                const bool pending = prior.size() > 1;
                olora_decode_step d = st.desc(fused, k, v, lora.get());
                d.pending = pending;
                ASSERT_EQ(olora_decode_layers(descs.data(), sizeof(olora_decode_layer), kLayers, &d, sizeof d), OLORA_OK);
                one_by_one(layers, chained, st, pending, lora.get());
                for (float x : fused.mlp_output) ASSERT_TRUE(std::isfinite(x));
                expect_same(fused, chained);
            }
}

INSTANTIATE_TEST_SUITE_P(Isa, DecodeStepTest,
                         ::testing::Values(OLORA_ISA_SCALAR, OLORA_ISA_AVX2, OLORA_ISA_AVX512, OLORA_ISA_AMX),
                         olora_test::IsaParamName);

TEST(DecodeStepArguments, RefusedBeforeAnythingIsWritten) {
    std::mt19937 g(fresh_seed());
    std::vector<Layer> layers;
    for (int l = 0; l < kLayers; ++l) layers.emplace_back(g, OLORA_LINEAR_NF4, OLORA_COMPUTE_BF16);
    Step st(g, {3, 9});
    State s(g, 2, OLORA_DTYPE_F32);
    for (int i = 0; i < 2; ++i)
        for (auto& p : s.pools) fill_positions(p, st.tables.row(i), 0, st.positions[size_t(i)], g);
    const State before = s;
    std::vector<void*> k, v;
    const Lora lora(g, OLORA_DTYPE_BF16);
    const olora_decode_step good = st.desc(s, k, v, &lora);
    std::vector<olora_decode_layer> good_layers;
    for (const Layer& L : layers) good_layers.push_back(L.desc());

    struct Case {
        const char* what;
        std::function<void(std::vector<olora_decode_layer>&, olora_decode_step&, int&, int&)> spoil;
    };
    const int32_t far_block = kBlocks;
    const int64_t far_slot = int64_t(kBlocks) * kBlock;
    std::vector<int32_t> bad_tables = st.tables.t;
    bad_tables[size_t(st.tables.stride) + 1] = far_block;  // sequence 1's second block, read at position 9
    std::vector<int32_t> bad_positions = {3, kMaxPositions};
    std::vector<int64_t> bad_slots = {st.slots[0], far_slot};
    std::vector<int32_t> bad_lens = {4, kMaxBlocks * kBlock + 1};
    std::vector<void*> k_missing = {k[0], nullptr};
    std::vector<int32_t> far_lora_slots = {kSlots, -1}, lora_starts_past = {0, 1, 3};
    const std::vector<int32_t> too_big = {0, kMaxRank + 1, 0}, targeted = {0, 4, 0};
    std::vector<olora_lora_ref> big_rank = lora.refs, no_table = lora.refs;
    big_rank[OLORA_LORA_MODULES + OLORA_LORA_O].slot_ranks = too_big.data();  // layer 1's o_proj, slot 1 (row 0)
    no_table[OLORA_LORA_UP].slot_ranks = targeted.data();
    no_table[OLORA_LORA_UP].b_table = nullptr;
    const Case cases[] = {
        {"layer struct size", [](auto&, auto&, int& ls, int&) { ls -= 8; }},
        {"step struct size", [](auto&, auto&, int&, int& ss) { ss += 4; }},
        {"qkv rows", [](auto& L, auto&, int&, int&) { L[1].qkv.out_features -= 1; }},
        {"down's input width", [](auto& L, auto&, int&, int&) { L[0].down.in_features = kHidden; }},
        {"unknown kind", [](auto& L, auto&, int&, int&) { L[1].gate_up.kind = 7; }},
        {"NF4 without absmax", [](auto& L, auto&, int&, int&) { L[1].o.scales = nullptr; }},
        {"unknown compute", [](auto& L, auto&, int&, int&) { L[0].qkv.compute = 9; }},
        {"negative eps", [](auto& L, auto&, int&, int&) { L[1].post_attention_norm_eps = -1.f; }},
        {"missing norm", [](auto& L, auto&, int&, int&) { L[1].input_norm = nullptr; }},
        {"heads not a multiple of KV heads", [](auto&, auto& d, int&, int&) { d.num_heads = 3; }},
        {"odd head_dim", [](auto&, auto& d, int&, int&) { d.head_dim = 15; }},
        {"missing buffer", [](auto&, auto& d, int&, int&) { d.activation = nullptr; }},
        {"position past the RoPE tables", [&](auto&, auto& d, int&, int&) { d.positions = bad_positions.data(); }},
        {"slot past the pool", [&](auto&, auto& d, int&, int&) { d.slot_mapping = bad_slots.data(); }},
        {"block past the pool", [&](auto&, auto& d, int&, int&) { d.block_tables = bad_tables.data(); }},
        {"context past the table", [&](auto&, auto& d, int&, int&) { d.context_lens = bad_lens.data(); }},
        {"layer 1's K pool missing", [&](auto&, auto& d, int&, int&) { d.k_pools = k_missing.data(); }},
        {"no layers", [](auto& L, auto&, int&, int&) { L.clear(); }},
        {"LoRA slot past the table", [&](auto&, auto& d, int&, int&) { d.lora_seg_slots = far_lora_slots.data(); }},
        {"LoRA segment past the rows", [&](auto&, auto& d, int&, int&) { d.lora_seg_starts = lora_starts_past.data(); }},
        {"LoRA rank past max_rank", [&](auto&, auto& d, int&, int&) { d.lora = big_rank.data(); }},
        {"LoRA table missing", [&](auto&, auto& d, int&, int&) { d.lora = no_table.data(); }},
        {"LoRA dtype", [](auto&, auto& d, int&, int&) { d.lora_dtype = 2; }},
        {"LoRA max_rank past 4096", [](auto&, auto& d, int&, int&) { d.lora_max_rank = 5000; }},
        {"more LoRA segments than rows", [](auto&, auto& d, int&, int&) { d.lora_segments = 3; }},
    };
    for (const Case& c : cases) {
        SCOPED_TRACE(c.what);
        auto descs = good_layers;
        olora_decode_step d = good;
        int ls = sizeof(olora_decode_layer), ss = sizeof(olora_decode_step);
        c.spoil(descs, d, ls, ss);
        EXPECT_EQ(olora_decode_layers(descs.empty() ? nullptr : descs.data(), ls, int(descs.size()), &d, ss),
                  OLORA_E_ARGUMENT);
        expect_same(s, before);
    }
    EXPECT_EQ(olora_decode_layers(good_layers.data(), sizeof(olora_decode_layer), kLayers, nullptr,
                                  sizeof(olora_decode_step)), OLORA_E_ARGUMENT);
    // The unspoiled step runs.
    ASSERT_EQ(olora_decode_layers(good_layers.data(), sizeof(olora_decode_layer), kLayers, &good, sizeof good), OLORA_OK);
    for (float x : s.mlp_output) ASSERT_TRUE(std::isfinite(x));
}

}  // namespace

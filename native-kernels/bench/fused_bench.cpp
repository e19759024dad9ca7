// Google Benchmark for the paged KV cache and fused decode-step kernels (issue 18), beside the
// ceilings in kernels_bench.cpp (BM_ReadBandwidth). Shapes of `olora model init --preset` tiny
// (4 heads / 2 KV heads x 16, hidden 64, MLP 176), small (16 / 4 x 64, 1024, 2816) and Mistral-7B
// (32 / 8 x 128, 4096, 14336). GB/s counts the K + V bytes an attention call must read.
#include <algorithm>
#include <numeric>
#include <random>
#include <vector>

#include "bench_util.h"
#include "olora_kernels.h"

using namespace olora_bench;

namespace {

struct Preset {
    int heads, kvh, d, hidden, inter;
};
const Preset kPresets[] = {{4, 2, 16, 64, 176}, {16, 4, 64, 1024, 2816}, {32, 8, 128, 4096, 14336}};
enum { kTiny, kSmall, kMistral };

// Sets the pool's thread count for one benchmark (0 = leave the default), restores it after.
struct ThreadCount {
    int saved;
    explicit ThreadCount(int n) : saved(olora_get_num_threads()) {
        if (n > 0) olora_set_num_threads(n);
    }
    ~ThreadCount() { olora_set_num_threads(saved); }
};

// Block tables of `batch` sequences of `ctx` positions: block size 16 takes shuffled blocks (a
// pool after churn), one block per sequence takes block i for sequence i.
std::vector<int32_t> block_tables(int batch, int ctx, int bs) {
    const int per = (ctx + bs - 1) / bs;
    std::vector<int32_t> t(size_t(batch) * per);
    std::iota(t.begin(), t.end(), 0);
    if (per > 1) std::shuffle(t.begin(), t.end(), std::mt19937(42));
    return t;
}

// Paged decode attention, one layer: args preset, batch, context, block size (0 = one block per
// sequence), dtype, threads (0 = default), cold (1: rotate the pools through the 1 GiB arena, so
// K / V come from DRAM as in a real step, which streams the weights between two uses of a layer).
void BM_PagedDecode(benchmark::State& st) {
    const Preset& p = kPresets[st.range(0)];
    const int batch = int(st.range(1)), ctx = int(st.range(2)), bs = st.range(3) ? int(st.range(3)) : ctx;
    const int dtype = int(st.range(4));
    const bool cold = st.range(6) != 0;
    ThreadCount threads(int(st.range(5)));
    const size_t es = dtype == OLORA_DTYPE_BF16 ? 2 : 4;
    const int per = (ctx + bs - 1) / bs;
    const size_t pool = size_t(batch) * per * p.kvh * bs * p.d * es;
    if (2 * pool > kArena) {
        st.SkipWithError("pools larger than the arena");
        return;
    }
    Rotor rot(2 * pool);
    if (!cold) rot.copies = 1;
    const std::vector<int32_t> bt = block_tables(batch, ctx, bs);
    const std::vector<int32_t> lens(batch, ctx);
    std::vector<float> q(size_t(batch) * p.heads * p.d, 0.01f), out(q.size());
    for (auto _ : st) {
        uint8_t* k = rot.next();
        olora_paged_attention_decode(dtype, q.data(), p.heads * p.d, out.data(), p.heads * p.d, k, k + pool,
                                     int64_t(batch) * per, bs, bt.data(), per, per, lens.data(), batch, p.heads, p.kvh,
                                     p.d, 0);
        benchmark::ClobberMemory();
    }
    set_counters(st, double(batch) * ctx * p.kvh * p.d * es * 2, 4.0 * batch * p.heads * ctx * p.d);
}

// Chunked prefill attention of one sequence: args preset, chunk tokens, cached prefix, dtype,
// threads. GFLOP/s counts q.k and p.v over the causal triangle.
void BM_PagedPrefill(benchmark::State& st) {
    const Preset& p = kPresets[st.range(0)];
    const int t = int(st.range(1)), prefix = int(st.range(2)), dtype = int(st.range(3)), ctx = t + prefix, bs = 16;
    ThreadCount threads(int(st.range(4)));
    const size_t es = dtype == OLORA_DTYPE_BF16 ? 2 : 4;
    const int per = (ctx + bs - 1) / bs;
    std::vector<uint8_t> k(size_t(per) * p.kvh * bs * p.d * es, 0x3F), v(k.size(), 0x3F);
    const std::vector<int32_t> bt = block_tables(1, ctx, bs);
    const int32_t qsl[] = {0, t}, lens[] = {ctx};
    std::vector<float> q(size_t(t) * p.heads * p.d, 0.01f), out(q.size());
    for (auto _ : st) {
        olora_paged_attention_prefill(dtype, q.data(), p.heads * p.d, out.data(), p.heads * p.d, k.data(), v.data(),
                                      per, bs, bt.data(), per, per, qsl, lens, 1, p.heads, p.kvh, p.d, 0);
        benchmark::ClobberMemory();
    }
    const double pairs = double(t) * prefix + double(t) * (t + 1) / 2;
    set_counters(st, 0, 4.0 * p.heads * p.d * pairs);
}

// The fused small ops one at a time, cache-resident: args op, preset, rows, threads.
// op: 0 add_rmsnorm (hidden), 1 rmsnorm, 2 rope (q and k of a token), 3 kv_append (float32, one
// token), 4 swiglu (intermediate), 5 argmax (50304 logits), 6 top-50 of 50304 logits.
void BM_FusedOp(benchmark::State& st) {
    const int op = int(st.range(0)), rows = int(st.range(2));
    const Preset& p = kPresets[st.range(1)];
    ThreadCount threads(int(st.range(3)));
    const int qkv = (p.heads + 2 * p.kvh) * p.d, vocab = 50304, maxpos = 4096;
    std::vector<float> x(size_t(rows) * p.hidden, 0.5f), res(x.size(), 0.25f), w(p.hidden, 1.f), out(x.size());
    std::vector<float> qk(size_t(rows) * qkv, 0.3f), cos(size_t(maxpos) * p.d, 0.6f), sin(cos.size(), 0.8f);
    std::vector<float> gu(size_t(rows) * 2 * p.inter, 0.7f), h(size_t(rows) * p.inter),
        logits(size_t(rows) * vocab, 0.1f);
    std::vector<float> kpool(size_t(64) * p.kvh * 16 * p.d), vpool(kpool.size());
    std::vector<int32_t> pos(rows), ids(rows), topk(size_t(rows) * 50);
    std::vector<int64_t> slots(rows);
    std::mt19937 g(1);
    std::normal_distribution<float> nd(0.f, 2.f);
    for (auto& l : logits) l = nd(g);  // random logits: top-k's heap sees a realistic number of inserts
    for (int r = 0; r < rows; ++r) {
        pos[r] = 100 + r;
        slots[r] = 100 + r;
    }
    for (auto _ : st) {
        switch (op) {
            case 0:
                olora_add_rmsnorm(x.data(), p.hidden, res.data(), p.hidden, w.data(), out.data(), p.hidden, rows,
                                  p.hidden, 1e-5f);
                break;
            case 1:
                olora_rmsnorm(x.data(), p.hidden, w.data(), out.data(), p.hidden, rows, p.hidden, 1e-5f);
                break;
            case 2:
                olora_rope(qk.data(), qkv, p.heads, qk.data() + p.heads * p.d, qkv, p.kvh, p.d, pos.data(), rows,
                           cos.data(), sin.data(), maxpos);
                break;
            case 3:
                olora_kv_append(OLORA_DTYPE_F32, qk.data() + p.heads * p.d, qkv, qk.data() + (p.heads + p.kvh) * p.d,
                                qkv, slots.data(), rows, kpool.data(), vpool.data(), 64, 16, p.kvh, p.d);
                break;
            case 4:
                olora_swiglu(gu.data(), 2 * p.inter, h.data(), p.inter, rows, p.inter);
                break;
            case 5:
                olora_argmax(logits.data(), vocab, rows, vocab, ids.data());
                break;
            default:
                olora_topk(logits.data(), vocab, rows, vocab, 50, topk.data(), nullptr);
                break;
        }
        benchmark::ClobberMemory();
    }
}

// Every fused op of one decoder layer's decode step at batch 1, in the order a runner calls them
// (the GEMMs between them excluded): add_rmsnorm (input norm), rope, kv_append, paged decode
// attention (float32 cache, block size 16, cache-resident), add_rmsnorm (post-attention), swiglu.
// args: preset, context, threads.
void BM_DecodeLayerOps(benchmark::State& st) {
    const Preset& p = kPresets[st.range(0)];
    const int ctx = int(st.range(1)), bs = 16, maxpos = 4096;
    ThreadCount threads(int(st.range(2)));
    const int qkv = (p.heads + 2 * p.kvh) * p.d, per = (ctx + bs - 1) / bs;
    const size_t hidden = size_t(p.hidden), inter = size_t(p.inter);
    std::vector<float> x(hidden, 0.5f), res(hidden, 0.25f), w(hidden, 1.f), normed(hidden);
    std::vector<float> qk(size_t(qkv), 0.3f), attn(size_t(p.heads) * p.d), cos(size_t(maxpos) * p.d, 0.6f),
        sin(cos.size(), 0.8f);
    std::vector<float> gu(2 * inter, 0.7f), h(inter);
    const size_t pool = size_t(per) * p.kvh * bs * p.d;
    std::vector<float> kv(2 * pool, 0.1f);  // K pool, then V pool
    float* kpool = kv.data();
    float* vpool = kpool + pool;
    const std::vector<int32_t> bt = block_tables(1, ctx, bs);
    const int32_t pos[] = {ctx - 1}, lens[] = {ctx};
    const int64_t slot[] = {int64_t(bt[(ctx - 1) / bs]) * bs + (ctx - 1) % bs};
    for (auto _ : st) {
        olora_add_rmsnorm(x.data(), p.hidden, res.data(), p.hidden, w.data(), normed.data(), p.hidden, 1, p.hidden,
                          1e-5f);
        olora_rope(qk.data(), qkv, p.heads, qk.data() + p.heads * p.d, qkv, p.kvh, p.d, pos, 1, cos.data(), sin.data(),
                   maxpos);
        olora_kv_append(OLORA_DTYPE_F32, qk.data() + p.heads * p.d, qkv, qk.data() + (p.heads + p.kvh) * p.d, qkv, slot,
                        1, kpool, vpool, per, bs, p.kvh, p.d);
        olora_paged_attention_decode(OLORA_DTYPE_F32, qk.data(), qkv, attn.data(), p.heads * p.d, kpool, vpool, per, bs,
                                     bt.data(), per, per, lens, 1, p.heads, p.kvh, p.d, 0);
        olora_add_rmsnorm(attn.data(), p.hidden, res.data(), p.hidden, w.data(), normed.data(), p.hidden, 1, p.hidden,
                          1e-5f);
        olora_swiglu(gu.data(), 2 * p.inter, h.data(), p.inter, 1, p.inter);
        benchmark::ClobberMemory();
    }
}

void DecodeShapes(benchmark::internal::Benchmark* b) {
    b->ComputeStatistics("min", min_of);
    b->ArgNames({"preset", "batch", "ctx", "bs", "dtype", "threads", "cold"});
    for (int batch : {1, 8, 32})
        for (int ctx : {128, 1024, 4096})
            for (int bs : {16, 0}) {
                for (int dtype : {OLORA_DTYPE_F32, OLORA_DTYPE_BF16}) b->Args({kSmall, batch, ctx, bs, dtype, 0, 1});
                b->Args({kMistral, batch, ctx, bs, OLORA_DTYPE_BF16, 0, 1});
                if (batch == 1) b->Args({kMistral, batch, ctx, bs, OLORA_DTYPE_F32, 0, 1});
            }
    // One thread (the split's and the pool's share of the two-thread figures), and one thread on
    // cache-resident K / V: the kernel's compute rate, which bounds it where memory does not.
    for (int bs : {16, 0})
        for (int dtype : {OLORA_DTYPE_F32, OLORA_DTYPE_BF16}) b->Args({kSmall, 1, 4096, bs, dtype, 1, 1});
    for (int preset : {kSmall, kMistral})
        for (int dtype : {OLORA_DTYPE_F32, OLORA_DTYPE_BF16}) b->Args({preset, 1, 1024, 16, dtype, 1, 0});
    b->Unit(benchmark::kMicrosecond)->UseRealTime();
}

// One thread against two at the sizes where the hand-off may not pay (cache-resident, batch 1).
void DecodeCrossover(benchmark::internal::Benchmark* b) {
    b->ComputeStatistics("min", min_of);
    b->ArgNames({"preset", "batch", "ctx", "bs", "dtype", "threads", "cold"});
    for (int preset : {kTiny, kSmall})
        for (int ctx : {16, 64, 128, 256, 512, 1024})
            for (int threads : {1, 2}) b->Args({preset, 1, ctx, 16, OLORA_DTYPE_F32, threads, 0});
    b->Unit(benchmark::kMicrosecond)->UseRealTime();
}

}  // namespace

BENCHMARK(BM_PagedDecode)->Name("BM_PagedDecode")->Apply(DecodeShapes);
BENCHMARK(BM_PagedDecode)->Name("BM_PagedDecodeCrossover")->Apply(DecodeCrossover);
BENCHMARK(BM_PagedPrefill)
    ->ComputeStatistics("min", min_of)
    ->ArgNames({"preset", "tokens", "prefix", "dtype", "threads"})
    ->Args({kSmall, 128, 0, OLORA_DTYPE_F32, 0})
    ->Args({kSmall, 512, 0, OLORA_DTYPE_F32, 0})
    ->Args({kSmall, 128, 896, OLORA_DTYPE_F32, 0})
    ->Args({kSmall, 128, 896, OLORA_DTYPE_BF16, 0})
    ->Args({kMistral, 512, 0, OLORA_DTYPE_BF16, 0})
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime();
BENCHMARK(BM_FusedOp)
    ->ComputeStatistics("min", min_of)
    ->ArgNames({"op", "preset", "rows", "threads"})
    ->ArgsProduct({{0, 1, 2, 3, 4, 5, 6}, {kTiny, kSmall}, {1}, {0}})
    ->ArgsProduct({{0, 2, 4}, {kSmall}, {8, 32, 128, 512}, {1, 2}})
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime();
BENCHMARK(BM_DecodeLayerOps)
    ->ComputeStatistics("min", min_of)
    ->ArgNames({"preset", "ctx", "threads"})
    ->ArgsProduct({{kTiny, kSmall}, {128, 192, 1024}, {0}})
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime();

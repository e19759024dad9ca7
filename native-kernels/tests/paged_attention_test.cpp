// Paged decode and chunked-prefill attention against a float64 reference (paged_test_util.h), on
// every ISA path: block sizes 1, 16, 128 and one block per sequence; head dims 64, 128 and 37; GQA
// ratios 1, 4 and 8; no window and a window shorter than the contexts; contexts on and across
// block boundaries; shuffled block tables whose entries outside the window are -1; empty sequences;
// float32 and bf16 pools. Every position no query may see is NaN in the pools and outputs start as
// NaN, so a read out of bounds or a row left unwritten fails the comparison.
#include "paged_test_util.h"

using namespace olora_test;

namespace {

struct Shape {
    int heads, kvh, d;
};
// GQA 1 / head dim 64, GQA 4 / 128, GQA 8 / 37 (odd, not a multiple of any vector width), GQA 4 / 37.
const Shape kShapes[] = {{4, 4, 64}, {8, 2, 128}, {16, 2, 37}, {12, 3, 37}};
const int kBlockSizes[] = {1, 16, 128, 0};  // 0: one block per sequence (block size = longest context)
const int kWindow = 40;

std::string describe(int bs, Shape s, int window, int dtype) {
    return "bs=" + std::to_string(bs) + " heads=" + std::to_string(s.heads) + "/" + std::to_string(s.kvh) +
           " d=" + std::to_string(s.d) + " window=" + std::to_string(window) + " " + dtype_name(dtype);
}

// A batch laid out in pools: sequence i has context ctx[i], of which positions >= lo[i] are filled.
struct Batch {
    int bs;
    KvPools pools;
    BlockTables tables;
    Batch(std::mt19937& g, const std::vector<int>& ctx, const std::vector<int>& lo, int bs_, Shape s, int dtype)
        : bs(bs_),
          pools(dtype, total_blocks(ctx, bs_), bs_, s.kvh, s.d),
          tables(g, needed(ctx, bs_), total_blocks(ctx, bs_), max_blocks(ctx, bs_)) {
        for (size_t i = 0; i < ctx.size(); ++i) {
            fill_positions(pools, tables.row(int(i)), lo[i], ctx[i], g);
            for (int b = 0; b < lo[i] / bs; ++b) tables.row(int(i))[b] = -1;  // never read
        }
    }
    static std::vector<int> needed(const std::vector<int>& ctx, int bs) {
        std::vector<int> n;
        for (int c : ctx) n.push_back((c + bs - 1) / bs);
        return n;
    }
    static int max_blocks(const std::vector<int>& ctx, int bs) {
        const auto n = needed(ctx, bs);
        return std::max(1, *std::max_element(n.begin(), n.end()));
    }
    static int64_t total_blocks(const std::vector<int>& ctx, int bs) {
        const auto n = needed(ctx, bs);
        return std::accumulate(n.begin(), n.end(), int64_t(5));  // 5 blocks nobody owns (NaN)
    }
};

// Query rows (random) and output rows (NaN), or one buffer for both when in place; q0 keeps the
// queries for the reference.
struct Rows {
    bool in_place;
    int64_t qs, os;
    std::vector<float> q, q0, out;
    Rows(std::mt19937& g, int rows, int width, int q_pad, int o_pad, bool in_place_)
        : in_place(in_place_),
          qs(width + q_pad),
          os(in_place_ ? qs : width + o_pad),
          q(uniform(g, size_t(rows) * qs, -2.f, 2.f)),
          q0(q),
          out(size_t(rows) * os) {
        poison(out);
    }
    float* o() { return in_place ? q.data() : out.data(); }
};

int block_size_for(int bs, const std::vector<int>& ctx) {
    return bs > 0 ? bs : std::max(1, *std::max_element(ctx.begin(), ctx.end()));
}

class PagedAttentionTest : public IsaTest {
protected:
    // Decode over contexts ctx; in_place: out is q. Checks every element of every output row.
    void run_decode(const std::vector<int>& ctx, int bs_arg, Shape s, int window, int dtype, bool in_place = false) {
        const int bs = block_size_for(bs_arg, ctx);
        SCOPED_TRACE(trace() + " " + describe(bs, s, window, dtype) + (in_place ? " in place" : ""));
        const int n = static_cast<int>(ctx.size()), width = s.heads * s.d;
        std::vector<int> lo(n);
        for (int i = 0; i < n; ++i) lo[i] = window > 0 ? std::max(0, ctx[i] - window) : 0;
        Batch b(rng_, ctx, lo, bs, s, dtype);
        Rows io(rng_, n, width, 5, 3, in_place);
        ASSERT_EQ(olora_paged_attention_decode(dtype, io.q.data(), io.qs, io.o(), io.os, b.pools.k(), b.pools.v(),
                                               b.pools.num_blocks, bs, b.tables.t.data(), b.tables.stride,
                                               b.tables.max_blocks, ctx.data(), n, s.heads, s.kvh, s.d, window),
                  OLORA_OK);
        std::vector<double> ref(s.d), tol(s.d);
        for (int i = 0; i < n; ++i)
            for (int h = 0; h < s.heads; ++h) {
                const float* got = io.o() + i * io.os + h * s.d;
                if (ctx[i] == 0) {
                    for (int e = 0; e < s.d; ++e) ASSERT_EQ(got[e], 0.f) << "empty sequence " << i;
                    continue;
                }
                reference_row(b.pools, b.tables.row(i), lo[i], ctx[i] - 1, io.q0.data() + i * io.qs + h * s.d,
                              h / (s.heads / s.kvh), ref.data(), tol.data());
                for (int e = 0; e < s.d; ++e)
                    ASSERT_NEAR(got[e], ref[e], tol[e])
                        << "seq " << i << " ctx " << ctx[i] << " head " << h << " e " << e;
            }
        if (!in_place) {
            for (int i = 0; i < n; ++i)
                for (int64_t e = width; e < io.os; ++e)
                    ASSERT_TRUE(std::isnan(io.out[i * io.os + e])) << "padding written";
        }
    }

    // Chunked prefill: sequence i has context ctx[i] and its last tokens[i] positions as query rows.
    void run_prefill(const std::vector<int>& ctx, const std::vector<int>& tokens, int bs_arg, Shape s, int window,
                     int dtype, bool in_place = false) {
        const int bs = block_size_for(bs_arg, ctx);
        SCOPED_TRACE(trace() + " prefill " + describe(bs, s, window, dtype) + (in_place ? " in place" : ""));
        const int n = static_cast<int>(ctx.size()), width = s.heads * s.d;
        std::vector<int> lo(n), qsl(n + 1, 2);  // rows start at 2: an offset into q / out
        for (int i = 0; i < n; ++i) {
            const int start = ctx[i] - tokens[i];
            lo[i] = window > 0 ? std::max(0, start - window + 1) : 0;
            qsl[i + 1] = qsl[i] + tokens[i];
        }
        Batch b(rng_, ctx, lo, bs, s, dtype);
        const int rows = qsl[n] + 1;
        Rows io(rng_, rows, width, 2, 7, in_place);
        ASSERT_EQ(
            olora_paged_attention_prefill(dtype, io.q.data(), io.qs, io.o(), io.os, b.pools.k(), b.pools.v(),
                                          b.pools.num_blocks, bs, b.tables.t.data(), b.tables.stride,
                                          b.tables.max_blocks, qsl.data(), ctx.data(), n, s.heads, s.kvh, s.d, window),
            OLORA_OK);
        std::vector<double> ref(s.d), tol(s.d);
        for (int i = 0; i < n; ++i)
            for (int t = 0; t < tokens[i]; ++t) {
                const int row = qsl[i] + t, pos = ctx[i] - tokens[i] + t;
                const int row_lo = window > 0 ? std::max(0, pos - window + 1) : 0;
                for (int h = 0; h < s.heads; ++h) {
                    reference_row(b.pools, b.tables.row(i), row_lo, pos, io.q0.data() + row * io.qs + h * s.d,
                                  h / (s.heads / s.kvh), ref.data(), tol.data());
                    const float* got = io.o() + row * io.os + h * s.d;
                    for (int e = 0; e < s.d; ++e)
                        ASSERT_NEAR(got[e], ref[e], tol[e])
                            << "seq " << i << " token " << t << " head " << h << " e " << e;
                }
            }
        if (!in_place) {  // rows outside every sequence and the padding columns are never written
            for (int64_t e = 0; e < io.os; ++e)
                ASSERT_TRUE(std::isnan(io.out[e]) && std::isnan(io.out[io.os + e]) &&
                            std::isnan(io.out[(rows - 1) * io.os + e]));
            for (int r = 2; r < rows - 1; ++r)
                for (int64_t e = width; e < io.os; ++e)
                    ASSERT_TRUE(std::isnan(io.out[r * io.os + e])) << "padding written";
        }
    }
};

TEST_P(PagedAttentionTest, DecodeMatchesReference) {
    // On, before and after block boundaries (16, 128), inside and past the window, and one empty sequence.
    const std::vector<int> ctx = {1, 15, 16, 17, 40, 41, 129, 300, 0, 77};
    for (int bs : kBlockSizes)
        for (const Shape& s : kShapes)
            for (int window : {0, kWindow})
                for (int dtype : {OLORA_DTYPE_F32, OLORA_DTYPE_BF16}) run_decode(ctx, bs, s, window, dtype);
}

TEST_P(PagedAttentionTest, DecodeSplitsLongContextsOverThreads) {
    // Batch 1-2 at long contexts: with two threads the contexts are split into parts and merged;
    // with one thread they are not. Both must match the reference.
    for (int threads : {2, 1}) {
        ASSERT_EQ(olora_set_num_threads(threads), OLORA_OK);
        for (const Shape& s : {Shape{16, 4, 64}, Shape{32, 8, 128}, Shape{8, 1, 37}})
            for (int dtype : {OLORA_DTYPE_F32, OLORA_DTYPE_BF16}) {
                SCOPED_TRACE("threads=" + std::to_string(threads));
                run_decode({3001}, 16, s, 0, dtype);
                run_decode({2100, 700}, 16, s, 1000, dtype);
                run_decode({1500}, 0, s, 0, dtype);
            }
    }
    ASSERT_EQ(olora_set_num_threads(0), OLORA_OK);
}

TEST_P(PagedAttentionTest, DecodeInPlace) {
    run_decode({33, 700, 5}, 16, kShapes[1], 0, OLORA_DTYPE_F32, true);
    run_decode({2000}, 16, kShapes[2], 0, OLORA_DTYPE_BF16, true);  // split: merged into q's row
}

TEST_P(PagedAttentionTest, PrefillMatchesReference) {
    // Chunks after a prefix (70/30), a whole prompt (45/45), no query (20/0), one query at a block
    // boundary (129/1), a long chunk after a prefix (300/77), a block-sized prompt (16/16).
    const std::vector<int> ctx = {70, 45, 20, 129, 300, 16}, tokens = {30, 45, 0, 1, 77, 16};
    for (int bs : kBlockSizes)
        for (const Shape& s : kShapes)
            for (int window : {0, kWindow})
                for (int dtype : {OLORA_DTYPE_F32, OLORA_DTYPE_BF16}) run_prefill(ctx, tokens, bs, s, window, dtype);
}

TEST_P(PagedAttentionTest, PrefillInPlaceAndOnOneThread) {
    run_prefill({70, 300}, {30, 200}, 16, kShapes[0], 0, OLORA_DTYPE_F32, true);
    ASSERT_EQ(olora_set_num_threads(1), OLORA_OK);
    run_prefill({70, 300}, {30, 200}, 16, kShapes[3], kWindow, OLORA_DTYPE_BF16);
    ASSERT_EQ(olora_set_num_threads(0), OLORA_OK);
}

TEST_P(PagedAttentionTest, LargeScoresDoNotOverflow) {
    // Scores of several hundred: a softmax without the running maximum overflows float32.
    const Shape s{4, 2, 64};
    const std::vector<int> ctx = {90};
    Batch b(rng_, ctx, {0}, 16, s, OLORA_DTYPE_F32);
    fill_positions(b.pools, b.tables.row(0), 0, 90, rng_, 8.f);
    std::vector<float> q = uniform(rng_, size_t(s.heads) * s.d, -8.f, 8.f), out(size_t(s.heads) * s.d);
    poison(out);
    ASSERT_EQ(olora_paged_attention_decode(OLORA_DTYPE_F32, q.data(), s.heads * s.d, out.data(), s.heads * s.d,
                                           b.pools.k(), b.pools.v(), b.pools.num_blocks, 16, b.tables.t.data(),
                                           b.tables.stride, b.tables.max_blocks, ctx.data(), 1, s.heads, s.kvh, s.d, 0),
              OLORA_OK);
    std::vector<double> ref(s.d), tol(s.d);
    for (int h = 0; h < s.heads; ++h) {
        reference_row(b.pools, b.tables.row(0), 0, 89, q.data() + h * s.d, h / 2, ref.data(), tol.data());
        for (int e = 0; e < s.d; ++e) ASSERT_NEAR(out[h * s.d + e], ref[e], tol[e]) << trace();
    }
}

OLORA_INSTANTIATE_ISA(PagedAttentionTest);

}  // namespace

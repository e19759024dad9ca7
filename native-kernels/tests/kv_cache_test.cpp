// KV append through a slot mapping and block copy (bit-exact: float32 copied, bf16 rounded to
// nearest even incl. ties, denormals, infinities and NaN; every other pool element unchanged), the
// copy-on-write flow of a shared prefix (append + copy + prefill over shared read-only blocks), and
// the argument checks of the paged entry points (nothing written on a refused call).
#include "paged_test_util.h"

using namespace olora_test;

namespace {

class KvCacheTest : public IsaTest {};

// Values that exercise rounding: ties to even both ways, denormals, infinities, NaN, large values.
std::vector<float> tricky_values(std::mt19937& g, size_t n) {
    std::vector<float> v = uniform(g, n, -3.f, 3.f);
    const uint32_t bits[] = {0x3f808000u, 0x3f818000u, 0x3f80c000u, 0x00000001u, 0x80012345u,
                             0x007fffffu, 0x7f800000u, 0xff800000u, 0x7fc00000u, 0x7f800001u,
                             0xffc12345u, 0x7f7fffffu, 0x7f7f8000u, 0x00008000u, 0x80000000u};
    for (size_t i = 0; i < sizeof(bits) / sizeof(bits[0]) && i < n; ++i) std::memcpy(&v[i * 7 % n], &bits[i], 4);
    return v;
}

TEST_P(KvCacheTest, AppendWritesExactlyTheMappedSlots) {
    for (int dtype : {OLORA_DTYPE_F32, OLORA_DTYPE_BF16})
        for (int bs : {1, 16, 5}) {
            SCOPED_TRACE(trace() + " " + dtype_name(dtype) + " bs=" + std::to_string(bs));
            const int kvh = 3, d = 37, tokens = 9, blocks = 6;
            const int64_t stride = kvh * d + 4;
            KvPools p(dtype, blocks, bs, kvh, d);
            for (size_t i = 0; i < p.size(); ++i) {  // a sentinel pattern to detect stray writes
                p.set(true, int64_t(i), float(i % 101) - 50.f);
                p.set(false, int64_t(i), float(i % 89) + 0.5f);
            }
            const KvPools before = p;
            const std::vector<float> keys = tricky_values(rng_, size_t(tokens) * stride);
            const std::vector<float> vals = tricky_values(rng_, size_t(tokens) * stride);
            std::vector<int64_t> slots(tokens);
            std::vector<int64_t> all(size_t(blocks) * bs);
            std::iota(all.begin(), all.end(), 0);
            std::shuffle(all.begin(), all.end(), rng_);
            for (int t = 0; t < tokens; ++t) slots[t] = t % 4 == 2 ? -1 : all[t % all.size()];
            if (bs == 1) slots.resize(std::min<size_t>(slots.size(), all.size()));
            const int n = static_cast<int>(slots.size());
            ASSERT_EQ(olora_kv_append(dtype, keys.data(), stride, vals.data(), stride, slots.data(), n, p.k(), p.v(),
                                      blocks, bs, kvh, d),
                      OLORA_OK);
            std::vector<char> written(p.size(), 0);
            for (int t = 0; t < n; ++t) {
                if (slots[t] < 0) continue;
                for (int h = 0; h < kvh; ++h) {
                    const int64_t base = p.index(slots[t] / bs, h, int(slots[t] % bs));
                    for (int e = 0; e < d; ++e) {
                        const float kx = keys[t * stride + h * d + e], vx = vals[t * stride + h * d + e];
                        uint32_t kb, vb;
                        std::memcpy(&kb, &kx, 4);
                        std::memcpy(&vb, &vx, 4);
                        if (dtype == OLORA_DTYPE_BF16) {
                            kb = bf16_rne(kx);
                            vb = bf16_rne(vx);
                        }
                        ASSERT_EQ(p.bits(true, base + e), kb) << "token " << t << " head " << h << " e " << e;
                        ASSERT_EQ(p.bits(false, base + e), vb) << "token " << t << " head " << h << " e " << e;
                        written[base + e] = 1;
                    }
                }
            }
            for (size_t i = 0; i < p.size(); ++i)
                if (!written[i]) {
                    ASSERT_EQ(p.bits(true, int64_t(i)), before.bits(true, int64_t(i))) << "stray K write at " << i;
                    ASSERT_EQ(p.bits(false, int64_t(i)), before.bits(false, int64_t(i))) << "stray V write at " << i;
                }
        }
}

TEST_P(KvCacheTest, AppendOfAPrefillChunkRunsOnThePool) {
    // 600 tokens x 8 heads x 128: large enough for the parallel path.
    const int kvh = 8, d = 128, tokens = 600, bs = 16, blocks = 40;
    KvPools p(OLORA_DTYPE_BF16, blocks, bs, kvh, d);
    const std::vector<float> keys = uniform(rng_, size_t(tokens) * kvh * d),
                             vals = uniform(rng_, size_t(tokens) * kvh * d);
    std::vector<int64_t> slots(tokens);
    for (int t = 0; t < tokens; ++t) slots[t] = int64_t(blocks - 1 - t / bs) * bs + t % bs;  // blocks in reverse
    ASSERT_EQ(olora_kv_append(OLORA_DTYPE_BF16, keys.data(), kvh * d, vals.data(), kvh * d, slots.data(), tokens, p.k(),
                              p.v(), blocks, bs, kvh, d),
              OLORA_OK);
    for (int t = 0; t < tokens; ++t)
        for (int h = 0; h < kvh; ++h) {
            const int64_t base = p.index(slots[t] / bs, h, int(slots[t] % bs));
            for (int e = 0; e < d; ++e) {
                ASSERT_EQ(p.kh[base + e], bf16_rne(keys[(t * kvh + h) * d + e]));
                ASSERT_EQ(p.vh[base + e], bf16_rne(vals[(t * kvh + h) * d + e]));
            }
        }
}

TEST_P(KvCacheTest, SharedPrefixCopyOnWriteThenPrefill) {
    // Sequence A cached positions 0..39 in blocks a0 a1 a2 (a2 holds rows 0..7). Sequence D shares the
    // prefix: a0 a1 shared read-only, a2 copied to d2 (copy-on-write of the partial block). Then A
    // appends a 30-token chunk (positions 40..69), D a 20-token chunk (40..59), and one prefill call
    // attends both chunks through their block tables.
    for (int dtype : {OLORA_DTYPE_F32, OLORA_DTYPE_BF16}) {
        SCOPED_TRACE(trace() + " " + dtype_name(dtype));
        const int heads = 8, kvh = 2, d = 64, bs = 16, blocks = 12, width = heads * d, kvw = kvh * d;
        KvPools p(dtype, blocks, bs, kvh, d);
        const int32_t a_blocks[] = {7, 2, 9, 4, 11}, d_blocks[] = {7, 2, 0, 5};
        const int mb = 5;
        std::vector<int32_t> tables(2 * mb, -1);
        std::copy(a_blocks, a_blocks + 5, tables.begin());
        std::copy(d_blocks, d_blocks + 4, tables.begin() + mb);
        fill_positions(p, a_blocks, 0, 40, rng_);
        const int32_t copy[] = {9, 0};
        ASSERT_EQ(olora_kv_copy_blocks(dtype, p.k(), p.v(), blocks, bs, kvh, d, copy, 1), OLORA_OK);
        for (int h = 0; h < kvh; ++h)
            for (int64_t e = 0; e < int64_t(bs) * d; ++e) {
                ASSERT_EQ(p.bits(true, p.index(0, h, 0) + e), p.bits(true, p.index(9, h, 0) + e));
                ASSERT_EQ(p.bits(false, p.index(0, h, 0) + e), p.bits(false, p.index(9, h, 0) + e));
            }
        const KvPools prefix = p;

        // The chunks' keys / values, [51, kvh, d] in one stacked buffer (stride 3 * kvw, as a QKV
        // output): rows 0..29 for A, row 30 padding (slot -1), rows 31..50 for D.
        const int rows = 51;
        std::vector<float> qkv = uniform(rng_, size_t(rows) * 3 * kvw);
        std::vector<int64_t> slots(rows, -1);
        for (int t = 0; t < 30; ++t) slots[t] = int64_t(a_blocks[(40 + t) / bs]) * bs + (40 + t) % bs;
        for (int t = 0; t < 20; ++t) slots[31 + t] = int64_t(d_blocks[(40 + t) / bs]) * bs + (40 + t) % bs;
        ASSERT_EQ(olora_kv_append(dtype, qkv.data(), 3 * kvw, qkv.data() + kvw, 3 * kvw, slots.data(), rows, p.k(),
                                  p.v(), blocks, bs, kvh, d),
                  OLORA_OK);
        // Shared blocks and the prefix rows of a2 / d2 are untouched.
        for (int blk : {7, 2, 9, 0})
            for (int h = 0; h < kvh; ++h)
                for (int64_t e = 0; e < int64_t(blk == 7 || blk == 2 ? bs : 8) * d; ++e) {
                    ASSERT_EQ(p.bits(true, p.index(blk, h, 0) + e), prefix.bits(true, p.index(blk, h, 0) + e)) << blk;
                    ASSERT_EQ(p.bits(false, p.index(blk, h, 0) + e), prefix.bits(false, p.index(blk, h, 0) + e)) << blk;
                }

        std::vector<float> q = uniform(rng_, size_t(50) * width, -2.f, 2.f), out(size_t(50) * width);
        poison(out);
        const int32_t qsl[] = {0, 30, 50}, ctx[] = {70, 60};
        ASSERT_EQ(olora_paged_attention_prefill(dtype, q.data(), width, out.data(), width, p.k(), p.v(), blocks, bs,
                                                tables.data(), mb, mb, qsl, ctx, 2, heads, kvh, d, 0),
                  OLORA_OK);
        std::vector<double> ref(d), tol(d);
        for (int s = 0; s < 2; ++s)
            for (int t = 0; t < qsl[s + 1] - qsl[s]; ++t)
                for (int h = 0; h < heads; ++h) {
                    const int row = qsl[s] + t;
                    reference_row(p, tables.data() + s * mb, 0, 40 + t, q.data() + row * width + h * d, h / 4,
                                  ref.data(), tol.data());
                    for (int e = 0; e < d; ++e)
                        ASSERT_NEAR(out[row * width + h * d + e], ref[e], tol[e]) << s << " " << t;
                }
    }
}

TEST(PagedArguments, RefusedCallsWriteNothing) {
    const int heads = 4, kvh = 2, d = 16, bs = 4, blocks = 3, width = heads * d;
    KvPools p(OLORA_DTYPE_F32, blocks, bs, kvh, d);
    std::mt19937 g(fresh_seed());
    const int32_t bt[] = {2, 0, 1};
    fill_positions(p, bt, 0, 12, g);
    const KvPools before = p;
    std::vector<float> q = uniform(g, 2 * width), out(2 * width);
    poison(out);
    auto decode = [&](const int32_t* table, const int32_t* ctx, int n, int h, int kh, int window) {
        return olora_paged_attention_decode(OLORA_DTYPE_F32, q.data(), width, out.data(), width, p.k(), p.v(), blocks,
                                            bs, table, 3, 3, ctx, n, h, kh, d, window);
    };
    const int32_t bad_entry[] = {2, 3, 1}, ctx_ok[] = {12}, ctx_long[] = {13}, ctx_neg[] = {-1}, ctx8[] = {8};
    EXPECT_EQ(decode(bad_entry, ctx_ok, 1, heads, kvh, 0), OLORA_E_ARGUMENT);  // entry 1 = 3 is not a block
    EXPECT_EQ(decode(bt, ctx_long, 1, heads, kvh, 0), OLORA_E_ARGUMENT);       // past the table
    EXPECT_EQ(decode(bt, ctx_neg, 1, heads, kvh, 0), OLORA_E_ARGUMENT);
    EXPECT_EQ(decode(bt, ctx_ok, 1, 5, kvh, 0), OLORA_E_ARGUMENT);  // 5 heads over 2 KV heads
    EXPECT_EQ(decode(bt, ctx_ok, 1, heads, kvh, -1), OLORA_E_ARGUMENT);
    EXPECT_EQ(decode(bt, ctx_ok, -1, heads, kvh, 0), OLORA_E_ARGUMENT);
    EXPECT_EQ(decode(nullptr, ctx_ok, 1, heads, kvh, 0), OLORA_E_ARGUMENT);
    for (float x : out) ASSERT_TRUE(std::isnan(x)) << "a refused call wrote";
    // Entries for positions outside the window are not read, so they may be anything.
    const int32_t outside[] = {-1, 0, 1};
    EXPECT_EQ(decode(outside, ctx_ok, 1, heads, kvh, 8), OLORA_OK);
    EXPECT_EQ(decode(bad_entry, ctx8, 0, heads, kvh, 0), OLORA_OK);  // no sequence: nothing to read

    const int32_t qsl_bad[] = {0, 3, 2}, qsl_long[] = {0, 9}, ctx2[] = {8, 8}, bt2[] = {2, 0, 1, 2, 0, 1};
    poison(out);
    EXPECT_EQ(olora_paged_attention_prefill(OLORA_DTYPE_F32, q.data(), width, out.data(), width, p.k(), p.v(), blocks,
                                            bs, bt2, 3, 3, qsl_bad, ctx2, 2, heads, kvh, d, 0),
              OLORA_E_ARGUMENT);  // decreasing query_start_loc
    EXPECT_EQ(olora_paged_attention_prefill(OLORA_DTYPE_F32, q.data(), width, out.data(), width, p.k(), p.v(), blocks,
                                            bs, bt, 3, 3, qsl_long, ctx8, 1, heads, kvh, d, 0),
              OLORA_E_ARGUMENT);  // 9 tokens in a context of 8
    for (float x : out) ASSERT_TRUE(std::isnan(x)) << "a refused call wrote";

    const int64_t bad_slots[] = {0, 12}, ok_slots[] = {-1, 11};
    std::vector<float> kv = uniform(g, 2 * kvh * d);
    EXPECT_EQ(olora_kv_append(OLORA_DTYPE_F32, kv.data(), kvh * d, kv.data(), kvh * d, bad_slots, 2, p.k(), p.v(),
                              blocks, bs, kvh, d),
              OLORA_E_ARGUMENT);
    EXPECT_EQ(olora_kv_append(OLORA_DTYPE_F32, kv.data(), kvh * d - 1, kv.data(), kvh * d, ok_slots, 2, p.k(), p.v(),
                              blocks, bs, kvh, d),
              OLORA_E_ARGUMENT);  // key stride below kv_heads * head_dim
    EXPECT_EQ(olora_kv_append(7, kv.data(), kvh * d, kv.data(), kvh * d, ok_slots, 2, p.k(), p.v(), blocks, bs, kvh, d),
              OLORA_E_ARGUMENT);
    const int32_t bad_copy[] = {0, 1, 2, 2}, bad_copy2[] = {0, 3};
    EXPECT_EQ(olora_kv_copy_blocks(OLORA_DTYPE_F32, p.k(), p.v(), blocks, bs, kvh, d, bad_copy, 2), OLORA_E_ARGUMENT);
    EXPECT_EQ(olora_kv_copy_blocks(OLORA_DTYPE_F32, p.k(), p.v(), blocks, bs, kvh, d, bad_copy2, 1), OLORA_E_ARGUMENT);
    for (size_t i = 0; i < p.size(); ++i) {
        ASSERT_EQ(p.bits(true, int64_t(i)), before.bits(true, int64_t(i))) << "a refused call wrote the pool";
        ASSERT_EQ(p.bits(false, int64_t(i)), before.bits(false, int64_t(i))) << "a refused call wrote the pool";
    }
}

OLORA_INSTANTIATE_ISA(KvCacheTest);

}  // namespace

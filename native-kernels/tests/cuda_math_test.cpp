// The CUDA runner's host/device math (cuda/olora_cuda_math.h), compiled here as plain C++ and
// checked against the CPU kernels, which are the contract the CUDA kernels must meet. This is what
// runs of the CUDA path on a machine without a GPU; the kernels themselves are checked by
// scripts/gpu-check.sh on a GPU.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <vector>

#include "olora_cuda_math.h"
#include "olora_kernels.h"

namespace {

using namespace olora_cuda;

std::vector<float> uniform(std::mt19937& rng, size_t n, float lo = -1.f, float hi = 1.f) {
    std::uniform_real_distribution<float> d(lo, hi);
    std::vector<float> v(n);
    for (auto& x : v) x = d(rng);
    return v;
}

TEST(CudaMath, Bf16RoundingMatchesCpuConvert) {
    std::mt19937 rng(1);
    std::vector<float> x = uniform(rng, 4096, -1e4f, 1e4f);
    // Ties, NaN, infinities, denormals, the largest finite float (rounds to inf).
    for (uint32_t bits : {0x3f808000u, 0x3f818000u, 0x7fc00001u, 0xffc12345u, 0x7f800000u, 0xff800000u,
                          0x00000001u, 0x807fffffu, 0x7f7fffffu})
        x.push_back(bits_float(bits));
    std::vector<uint16_t> cpu(x.size());
    ASSERT_EQ(olora_convert_2d(OLORA_DTYPE_F32, x.data(), int64_t(x.size()), 1, OLORA_DTYPE_BF16, cpu.data(),
                               int64_t(x.size()), 1, int(x.size()), 1.f),
              OLORA_OK);
    for (size_t i = 0; i < x.size(); ++i) {
        ASSERT_EQ(f32_to_bf16(x[i]), cpu[i]) << "at " << i;
        const float back = bf16_to_f32(cpu[i]);
        if (!std::isnan(back)) {
            ASSERT_EQ(float_bits(back) >> 16, cpu[i]);
        }
    }
}

TEST(CudaMath, Nf4DecodeMatchesCpuDequantize) {
    std::mt19937 rng(2);
    // An element count that is not a multiple of the block size or of two rows.
    const int64_t n = 64 * 37 + 30;
    std::vector<float> w = uniform(rng, size_t(n));
    std::vector<uint8_t> codes(size_t((n + 1) / 2));
    std::vector<float> absmax(size_t((n + 63) / 64));
    ASSERT_EQ(olora_nf4_quantize(w.data(), n, codes.data(), absmax.data()), OLORA_OK);
    std::vector<float> cpu(static_cast<size_t>(n));
    ASSERT_EQ(olora_nf4_dequantize(codes.data(), absmax.data(), n, cpu.data()), OLORA_OK);
    for (int64_t g = 0; g < n; ++g) ASSERT_EQ(nf4_decode(codes.data(), absmax.data(), g), cpu[size_t(g)]) << g;
    float book[16];
    ASSERT_EQ(olora_nf4_code_book(book), OLORA_OK);
    for (int c = 0; c < 16; ++c) EXPECT_EQ(nf4_code(c), book[c]);
}

RopeParams rope(int kind, int head_dim, double theta) {
    RopeParams p{};
    p.kind = kind;
    p.head_dim = head_dim;
    p.theta = theta;
    p.factor = 8.0;
    p.low_freq_factor = 1.0;
    p.high_freq_factor = 4.0;
    p.original_max_positions = 8192;
    return p;
}

TEST(CudaMath, RopeInverseFrequencies) {
    const RopeParams def = rope(kRopeDefault, 128, 500000.0), lin = rope(kRopeLinear, 128, 500000.0),
                     l3 = rope(kRopeLlama3, 128, 500000.0);
    const double kPi = 3.14159265358979323846;
    int low = 0, mid = 0, high = 0;
    for (int i = 0; i < 64; ++i) {
        const double base = 1.0 / std::pow(500000.0, 2.0 * i / 128);
        EXPECT_EQ(rope_inv_freq(def, i), base);
        EXPECT_EQ(rope_inv_freq(lin, i), base / 8.0);
        // Llama 3.1: wavelengths below 8192/4 keep their frequency, above 8192/1 are divided by the
        // factor, in between interpolated (smooth = 0 at the long end, 1 at the short end).
        const double wavelen = 2 * kPi / base, got = rope_inv_freq(l3, i);
        if (wavelen < 2048) {
            EXPECT_EQ(got, base) << i;
            ++high;
        } else if (wavelen > 8192) {
            EXPECT_EQ(got, base / 8) << i;
            ++low;
        } else {
            const double smooth = (8192 / wavelen - 1) / 3;
            EXPECT_GT(smooth, 0);
            EXPECT_LE(smooth, 1);
            EXPECT_NEAR(got, (1 - smooth) * base / 8 + smooth * base, 1e-18) << i;
            EXPECT_GT(got, base / 8);
            EXPECT_LT(got, base);
            ++mid;
        }
    }
    // The Llama 3.1 8B configuration exercises all three regimes.
    EXPECT_GT(low, 0);
    EXPECT_GT(mid, 0);
    EXPECT_GT(high, 0);
}

// Tables from rope_cos_sin, rotation by rope_rotate: bit for bit what olora_rope does with the same
// tables (which are what RotaryEmbedding.cs fills), for every kind.
TEST(CudaMath, RopeRotationMatchesCpuRope) {
    std::mt19937 rng(3);
    for (int kind : {kRopeDefault, kRopeLinear, kRopeLlama3}) {
        const int d = 64, heads = 4, kvh = 2, maxpos = 300, tokens = 9;
        const RopeParams p = rope(kind, d, 10000.0);
        std::vector<float> cos_t(size_t(maxpos) * d), sin_t(size_t(maxpos) * d);
        rope_fill_tables(p, maxpos, cos_t.data(), sin_t.data());
        std::vector<int32_t> positions = {0, 1, 2, 17, 100, 255, 256, 298, 299};
        std::vector<float> q = uniform(rng, size_t(tokens) * heads * d), k = uniform(rng, size_t(tokens) * kvh * d);
        std::vector<float> q_cpu = q, k_cpu = k;
        ASSERT_EQ(olora_rope(q_cpu.data(), heads * d, heads, k_cpu.data(), kvh * d, kvh, d, positions.data(), tokens,
                             cos_t.data(), sin_t.data(), maxpos),
                  OLORA_OK);
        auto apply = [&](std::vector<float>& x, int h) {
            for (int t = 0; t < tokens; ++t)
                for (int hh = 0; hh < h; ++hh)
                    for (int i = 0; i < d / 2; ++i) {
                        float* row = x.data() + (size_t(t) * h + hh) * d;
                        float c, s;
                        rope_cos_sin(p, positions[size_t(t)], i, &c, &s);
                        rope_rotate(row + i, row + i + d / 2, c, s);
                    }
        };
        apply(q, heads);
        apply(k, kvh);
        for (size_t i = 0; i < q.size(); ++i) ASSERT_EQ(q[i], q_cpu[i]) << "kind " << kind << " q " << i;
        for (size_t i = 0; i < k.size(); ++i) ASSERT_EQ(k[i], k_cpu[i]) << "kind " << kind << " k " << i;
    }
}

// Block-table addressing: slots from kv_slot fed to the CPU append, read back through kv_offset;
// then decode attention computed through the same addressing (with a sliding window) against the
// CPU paged attention.
TEST(CudaMath, BlockTableAddressingMatchesCpuPagedCache) {
    std::mt19937 rng(4);
    for (int dtype : {OLORA_DTYPE_F32, OLORA_DTYPE_BF16}) {
        const KvGeom g{16, 2, 32};
        const int num_blocks = 12, heads = 6, len = 70, window = 29;
        std::vector<int32_t> table(num_blocks);
        std::iota(table.begin(), table.end(), 0);
        std::shuffle(table.begin(), table.end(), rng);
        const size_t pool = size_t(num_blocks) * g.kv_heads * g.block_size * g.head_dim;
        std::vector<float> kf(pool, NAN), vf(pool, NAN);
        std::vector<uint16_t> kh(pool, 0x7fc0), vh(pool, 0x7fc0);
        void* kp = dtype == OLORA_DTYPE_F32 ? static_cast<void*>(kf.data()) : static_cast<void*>(kh.data());
        void* vp = dtype == OLORA_DTYPE_F32 ? static_cast<void*>(vf.data()) : static_cast<void*>(vh.data());
        const int kvw = g.kv_heads * g.head_dim;
        std::vector<float> keys = uniform(rng, size_t(len) * kvw), values = uniform(rng, size_t(len) * kvw);
        std::vector<int64_t> slots(len);
        for (int pos = 0; pos < len; ++pos) slots[size_t(pos)] = kv_slot(table.data(), pos, g.block_size);
        ASSERT_EQ(olora_kv_append(dtype, keys.data(), kvw, values.data(), kvw, slots.data(), len, kp, vp,
                                  num_blocks, g.block_size, g.kv_heads, g.head_dim),
                  OLORA_OK);
        auto read = [&](bool key, int64_t off) {
            if (dtype == OLORA_DTYPE_F32) return key ? kf[size_t(off)] : vf[size_t(off)];
            return bf16_to_f32(key ? kh[size_t(off)] : vh[size_t(off)]);
        };
        auto stored = [&](float x) { return dtype == OLORA_DTYPE_F32 ? x : bf16_to_f32(f32_to_bf16(x)); };
        for (int pos = 0; pos < len; ++pos)
            for (int h = 0; h < g.kv_heads; ++h)
                for (int e = 0; e < g.head_dim; ++e) {
                    const int64_t off = kv_offset(g, slots[size_t(pos)], h) + e;
                    ASSERT_EQ(read(true, off), stored(keys[size_t(pos) * kvw + h * g.head_dim + e]));
                    ASSERT_EQ(read(false, off), stored(values[size_t(pos) * kvw + h * g.head_dim + e]));
                }

        // Decode attention for a query at position len - 1, split into parts as the CUDA kernel
        // splits the context (attn_num_parts), merged in double.
        std::vector<float> q = uniform(rng, size_t(heads) * g.head_dim), out(q.size(), NAN);
        const int32_t ctx = len;
        ASSERT_EQ(olora_paged_attention_decode(dtype, q.data(), heads * g.head_dim, out.data(), heads * g.head_dim, kp,
                                               vp, num_blocks, g.block_size, table.data(), num_blocks, num_blocks,
                                               &ctx, 1, heads, g.kv_heads, g.head_dim, window),
                  OLORA_OK);
        const int first = attn_first_key(len - 1, window), part = 8, group = heads / g.kv_heads;
        ASSERT_EQ(first, len - window);
        ASSERT_EQ(attn_num_parts(first, len, part), (window + part - 1) / part);
        for (int hq = 0; hq < heads; ++hq) {
            const int h = hq / group;
            double m = -INFINITY, l = 0;
            std::vector<double> acc(size_t(g.head_dim), 0.0);
            for (int pi = 0; pi < attn_num_parts(first, len, part); ++pi) {
                // One part's partial state (max, sum, weighted values), then the flash-decoding merge.
                const int lo = first + pi * part, hi = std::min(len, lo + part);
                double pm = -INFINITY, pl = 0;
                std::vector<double> s(size_t(hi - lo)), pacc(size_t(g.head_dim), 0.0);
                for (int j = lo; j < hi; ++j) {
                    const int64_t off = kv_offset(g, kv_slot(table.data(), j, g.block_size), h);
                    double dot = 0;
                    for (int e = 0; e < g.head_dim; ++e) dot += double(q[size_t(hq) * g.head_dim + e]) * read(true, off + e);
                    s[size_t(j - lo)] = dot / std::sqrt(double(g.head_dim));
                    pm = std::max(pm, s[size_t(j - lo)]);
                }
                for (int j = lo; j < hi; ++j) {
                    const double w = std::exp(s[size_t(j - lo)] - pm);
                    pl += w;
                    const int64_t off = kv_offset(g, kv_slot(table.data(), j, g.block_size), h);
                    for (int e = 0; e < g.head_dim; ++e) pacc[size_t(e)] += w * read(false, off + e);
                }
                const double nm = std::max(m, pm), a = std::exp(m - nm), b = std::exp(pm - nm);
                for (int e = 0; e < g.head_dim; ++e) acc[size_t(e)] = acc[size_t(e)] * a + pacc[size_t(e)] * b;
                l = l * a + pl * b;
                m = nm;
            }
            for (int e = 0; e < g.head_dim; ++e)
                EXPECT_NEAR(out[size_t(hq) * g.head_dim + e], acc[size_t(e)] / l, 2e-5)
                    << "dtype " << dtype << " head " << hq << " dim " << e;
        }
    }
}

// The SGMV plan: one tile loop over sgmv_plan's tiles (what one launch per projection does, one
// block per tile) reproduces the CPU SGMV with mixed ranks 1-128, empty segments and base rows.
TEST(CudaMath, SgmvPlanReproducesCpuSgmv) {
    std::mt19937 rng(5);
    const int in = 96, out = 80, max_rank = 128, num_slots = 6, rows_per_tile = 4;
    const std::vector<int32_t> ranks = {1, 3, 16, 64, 128, 8};
    const std::vector<float> scales = {2.f, 0.5f, 1.f, 0.25f, 0.125f, 1.5f};
    // Segments: base, slot 4 (rank 128), empty, slot 0 (rank 1), slot 2, base, slot 3, slot 1.
    const std::vector<int32_t> seg_starts = {0, 3, 12, 12, 13, 18, 20, 27, 29};
    const std::vector<int32_t> seg_slots = {-1, 4, 2, 0, 2, -1, 3, 1};
    const int nseg = int(seg_slots.size()), rows = seg_starts.back();
    std::vector<float> a = uniform(rng, size_t(num_slots) * max_rank * in),
                       b = uniform(rng, size_t(num_slots) * max_rank * out), x = uniform(rng, size_t(rows) * in),
                       y0 = uniform(rng, size_t(rows) * out);
    std::vector<float> y_cpu = y0;
    ASSERT_EQ(olora_sgmv(OLORA_DTYPE_F32, x.data(), in, y_cpu.data(), out, seg_starts.data(), seg_slots.data(), nseg,
                         a.data(), b.data(), num_slots, max_rank, in, out, ranks.data(), scales.data(), nullptr, 0),
              OLORA_OK);

    const int32_t count = sgmv_plan(seg_starts.data(), seg_slots.data(), nseg, rows_per_tile, nullptr, 0);
    // 9 rows of slot 4 -> 3 tiles, 1 -> 1, 5 -> 2, 7 -> 2, 2 -> 1; base and empty segments none.
    ASSERT_EQ(count, 9);
    std::vector<SgmvTile> tiles(static_cast<size_t>(count));
    ASSERT_EQ(sgmv_plan(seg_starts.data(), seg_slots.data(), nseg, rows_per_tile, tiles.data(), count), count);
    std::vector<float> y = y0;
    std::vector<int> covered(size_t(rows), 0);
    for (const SgmvTile& t : tiles) {
        ASSERT_GE(t.rows, 1);
        ASSERT_LE(t.rows, rows_per_tile);
        ASSERT_EQ(t.slot, seg_slots[size_t(t.seg)]);
        const int r = ranks[size_t(t.slot)];
        for (int row = t.row0; row < t.row0 + t.rows; ++row) {
            ++covered[size_t(row)];
            std::vector<double> v(size_t(r), 0.0);
            for (int k = 0; k < r; ++k)
                for (int j = 0; j < in; ++j)
                    v[size_t(k)] += double(x[size_t(row) * in + j]) * a[(size_t(t.slot) * max_rank + k) * in + j];
            for (int j = 0; j < out; ++j) {
                double acc = 0;
                for (int k = 0; k < r; ++k) acc += v[size_t(k)] * b[(size_t(t.slot) * max_rank + k) * out + j];
                y[size_t(row) * out + j] += float(scales[size_t(t.slot)] * acc);
            }
        }
    }
    for (int s = 0; s < nseg; ++s)
        for (int row = seg_starts[size_t(s)]; row < seg_starts[size_t(s) + 1]; ++row)
            ASSERT_EQ(covered[size_t(row)], seg_slots[size_t(s)] >= 0 ? 1 : 0) << row;
    for (size_t i = 0; i < y.size(); ++i) EXPECT_NEAR(y[i], y_cpu[i], 1e-3f * (1.f + std::fabs(y_cpu[i]))) << i;
    // Base rows are untouched bit for bit.
    for (int row = 0; row < 3; ++row)
        for (int j = 0; j < out; ++j) ASSERT_EQ(y[size_t(row) * out + j], y0[size_t(row) * out + j]);
}

}  // namespace

// SGMV shrink / expand / fused / BGMV against a double-precision reference, for f32 and bf16 on
// every ISA path: mixed and odd ranks, empty segments, slot -1 segments, a row offset, padded
// strides, 64 segments, a single row. Outputs are poisoned (shrink) or must stay bit-identical
// outside the rows that an adapter touches (expand).
#include <algorithm>
#include <cmath>

#include "test_util.h"

using namespace olora_test;

namespace {

struct Case {
    const char* name;
    int in, out, max_rank;
    std::vector<int> seg_rows;   // rows per segment
    std::vector<int> seg_slots;  // slot per segment (-1 = none)
    std::vector<int> ranks;      // rank per slot
    int row0 = 0;                // first row of segment 0
    int pad = 0;                 // extra elements per row in x / y strides
};

std::vector<Case> cases() {
    std::vector<Case> c;
    c.push_back({"mixed_odd", 1000, 1000, 128, {2, 0, 5, 1, 3, 4, 0, 2}, {0, 1, 2, 3, -1, 1, 2, 0}, {1, 3, 17, 128}, 3, 5});
    {
        Case d{"64_segments", 4097, 1029, 16, {}, {}, {16, 16, 16, 16}, 0, 0};
        for (int i = 0; i < 64; ++i) {
            d.seg_rows.push_back(1);
            d.seg_slots.push_back(i % 5 == 4 ? -1 : i % 4);
        }
        c.push_back(d);
    }
    {
        // Decode-shaped (every segment <= 4 rows, many segments): the fused path takes one task per
        // segment (shrink then expand); rows of 1-4, ranks 1-16, base rows, odd dims, a row offset.
        Case d{"decode_segments", 300, 701, 16, {}, {}, {16, 1, 7, 16, 3}, 2, 3};
        for (int i = 0; i < 24; ++i) {
            d.seg_rows.push_back(1 + i % 4);
            d.seg_slots.push_back(i % 6 == 5 ? -1 : i % 5);
        }
        c.push_back(d);
    }
    c.push_back({"single_row_rank1", 1, 3, 1, {1}, {0}, {1}, 0, 0});
    // A lone decode segment: on the calling thread when its tables are small (bf16 here: 95 KB), split over the pool
    // when not (float32: 190 KB); and one row of the small preset's up projection at rank 16.
    c.push_back({"lone_decode_rows", 1000, 1500, 32, {3}, {1}, {5, 19}, 2, 4});
    c.push_back({"lone_decode_row", 1024, 2816, 16, {1}, {0}, {16}, 0, 0});
    c.push_back({"big_segment", 256, 520, 8, {40, 21}, {1, 0}, {8, 5}, 0, 3});
    c.push_back({"all_none", 64, 64, 4, {3, 2}, {-1, -1}, {4}, 1, 0});
    return c;
}

struct Data {
    int dtype;
    std::vector<float> f;     // exact values (bf16-representable when dtype is bf16)
    std::vector<uint16_t> h;  // bf16 storage
    void init(int dt, std::mt19937& g, size_t n, float scale) {
        dtype = dt;
        f = uniform(g, n, -scale, scale);
        if (dt == OLORA_DTYPE_BF16) {
            h.resize(n);
            for (size_t i = 0; i < n; ++i) {
                h[i] = f32_to_bf16(f[i]);
                f[i] = bf16_to_f32(h[i]);
            }
        }
    }
    void* ptr() { return dtype == OLORA_DTYPE_BF16 ? static_cast<void*>(h.data()) : static_cast<void*>(f.data()); }
    float at(size_t i) const { return dtype == OLORA_DTYPE_BF16 ? bf16_to_f32(h[i]) : f[i]; }
    bool same(size_t i, const Data& o) const { return dtype == OLORA_DTYPE_BF16 ? h[i] == o.h[i] : same_bits(f[i], o.f[i]); }
};

class SgmvTest : public IsaTest {
protected:
    // dtype: x and y; wdtype: the slot tables. Different dtypes go through olora_sgmv_mixed only.
    void run_case(const Case& c, int dtype, int wdtype) {
        SCOPED_TRACE(trace() + " case=" + c.name + (dtype ? " bf16" : " f32") + (wdtype ? " tables bf16" : " tables f32"));
        const int nseg = static_cast<int>(c.seg_rows.size());
        const int nslots = static_cast<int>(c.ranks.size());
        std::vector<int32_t> starts(nseg + 1), slots(c.seg_slots.begin(), c.seg_slots.end()),
            ranks(c.ranks.begin(), c.ranks.end());
        starts[0] = c.row0;
        for (int i = 0; i < nseg; ++i) starts[i + 1] = starts[i] + c.seg_rows[i];
        const int rows = starts[nseg] + 2;  // two extra rows past the last segment: never touched
        const int64_t ldx = c.in + c.pad, ldy = c.out + c.pad, ldv = c.max_rank + 1;
        std::vector<float> scales(nslots);
        for (int s = 0; s < nslots; ++s) scales[s] = 0.5f + 0.25f * s;

        Data x, a, b, y0;
        x.init(dtype, rng_, rows * ldx, 1.f);
        a.init(wdtype, rng_, static_cast<size_t>(nslots) * c.max_rank * c.in, 0.1f);
        b.init(wdtype, rng_, static_cast<size_t>(nslots) * c.max_rank * c.out, 0.1f);
        y0.init(dtype, rng_, rows * ldy, 1.f);

        // Reference in double.
        std::vector<double> vref(static_cast<size_t>(rows) * c.max_rank, 0.0);
        std::vector<double> yref(rows * ldy), ybound(rows * ldy, 0.0);
        for (size_t i = 0; i < yref.size(); ++i) yref[i] = y0.at(i);
        std::vector<char> touched(rows, 0);
        for (int sg = 0; sg < nseg; ++sg) {
            const int s = slots[sg];
            if (s < 0) continue;
            const int r = ranks[s];
            for (int row = starts[sg]; row < starts[sg + 1]; ++row) {
                touched[row] = 1;
                for (int k = 0; k < r; ++k) {
                    double acc = 0;
                    for (int j = 0; j < c.in; ++j)
                        acc += double(x.at(row * ldx + j)) * a.at((size_t(s) * c.max_rank + k) * c.in + j);
                    vref[size_t(row) * c.max_rank + k] = acc;
                }
                for (int o = 0; o < c.out; ++o) {
                    double acc = 0, bound = 0;
                    for (int k = 0; k < r; ++k) {
                        const double t = vref[size_t(row) * c.max_rank + k] * b.at((size_t(s) * c.max_rank + k) * c.out + o);
                        acc += t;
                        bound += std::fabs(t);
                    }
                    yref[row * ldy + o] += scales[s] * acc;
                    ybound[row * ldy + o] = std::fabs(scales[s]) * bound;
                }
            }
        }
        const double rel = dtype == OLORA_DTYPE_BF16 ? 1e-2 : 2e-5;
        auto check_y = [&](const Data& y, const char* what) {
            SCOPED_TRACE(what);
            int bad = 0;
            for (int row = 0; row < rows; ++row)
                for (int o = 0; o < ldy; ++o) {
                    const size_t i = row * ldy + o;
                    if (!touched[row] || o >= c.out) {
                        if (!y.same(i, y0) && ++bad < 5) ADD_FAILURE() << "untouched y[" << row << "," << o << "] changed";
                        continue;
                    }
                    const double tol = rel * (std::fabs(yref[i]) + ybound[i]) + 1e-6;
                    if (!(std::fabs(y.at(i) - yref[i]) <= tol) && ++bad < 5)
                        ADD_FAILURE() << "y[" << row << "," << o << "]=" << y.at(i) << " ref " << yref[i];
                }
            EXPECT_EQ(bad, 0);
        };

        const int total = starts[nseg] - starts[0];
        std::vector<float> scratch(std::max<int64_t>(1, olora_sgmv_scratch_elems(total, c.max_rank)));
        {
            // The mixed entry (tables in their own dtype), with a caller scratch and the internal one.
            poison(scratch);
            Data y = y0;
            ASSERT_EQ(olora_sgmv_mixed(dtype, wdtype, x.ptr(), ldx, y.ptr(), ldy, starts.data(), slots.data(), nseg,
                                       a.ptr(), b.ptr(), nslots, c.max_rank, c.in, c.out, ranks.data(), scales.data(),
                                       scratch.data(), static_cast<int64_t>(scratch.size())),
                      OLORA_OK);
            check_y(y, "mixed");
            y = y0;
            ASSERT_EQ(olora_sgmv_mixed(dtype, wdtype, x.ptr(), ldx, y.ptr(), ldy, starts.data(), slots.data(), nseg,
                                       a.ptr(), b.ptr(), nslots, c.max_rank, c.in, c.out, ranks.data(), scales.data(),
                                       nullptr, 0),
                      OLORA_OK);
            check_y(y, "mixed, internal scratch");
        }
        if (dtype != wdtype) return;

        // Shrink into a poisoned v.
        std::vector<float> v(rows * ldv);
        poison(v);
        ASSERT_EQ(olora_sgmv_shrink(dtype, x.ptr(), ldx, v.data(), ldv, starts.data(), slots.data(), nseg, a.ptr(),
                                    nslots, c.max_rank, c.in, ranks.data()),
                  OLORA_OK);
        int bad = 0;
        for (int row = 0; row < rows; ++row) {
            int r = 0;
            for (int sg = 0; sg < nseg; ++sg)
                if (row >= starts[sg] && row < starts[sg + 1] && slots[sg] >= 0) r = ranks[slots[sg]];
            for (int k = 0; k < ldv; ++k) {
                const float got = v[row * ldv + k];
                if (k >= r) {
                    if (!std::isnan(got) && ++bad < 5) ADD_FAILURE() << "v[" << row << "," << k << "] written";
                    continue;
                }
                const double ref = vref[size_t(row) * c.max_rank + k];
                const double tol = (dtype ? 1e-5 : 2e-5) * (std::fabs(ref) + 0.1 * std::sqrt(double(c.in))) + 1e-6;
                if (!(std::fabs(got - ref) <= tol) && ++bad < 5)
                    ADD_FAILURE() << "v[" << row << "," << k << "]=" << got << " ref " << ref;
            }
        }
        EXPECT_EQ(bad, 0);

        // Expand from the kernel's v (rows offset by 0: v is indexed by absolute row).
        Data y = y0;
        ASSERT_EQ(olora_sgmv_expand(dtype, v.data(), ldv, y.ptr(), ldy, starts.data(), slots.data(), nseg, b.ptr(),
                                    nslots, c.max_rank, c.out, ranks.data(), scales.data()),
                  OLORA_OK);
        check_y(y, "expand");

        // Fused, with a caller scratch and with the internal one.
        poison(scratch);
        y = y0;
        ASSERT_EQ(olora_sgmv(dtype, x.ptr(), ldx, y.ptr(), ldy, starts.data(), slots.data(), nseg, a.ptr(), b.ptr(),
                             nslots, c.max_rank, c.in, c.out, ranks.data(), scales.data(), scratch.data(),
                             static_cast<int64_t>(scratch.size())),
                  OLORA_OK);
        check_y(y, "fused");
        y = y0;
        ASSERT_EQ(olora_sgmv(dtype, x.ptr(), ldx, y.ptr(), ldy, starts.data(), slots.data(), nseg, a.ptr(), b.ptr(),
                             nslots, c.max_rank, c.in, c.out, ranks.data(), scales.data(), nullptr, 0),
                  OLORA_OK);
        check_y(y, "fused, internal scratch");

        // BGMV over all rows (rows outside segments get slot -1).
        std::vector<int32_t> row_slots(rows, -1);
        for (int sg = 0; sg < nseg; ++sg)
            for (int row = starts[sg]; row < starts[sg + 1]; ++row) row_slots[row] = slots[sg];
        y = y0;
        ASSERT_EQ(olora_bgmv(dtype, x.ptr(), ldx, y.ptr(), ldy, rows, row_slots.data(), a.ptr(), b.ptr(), nslots,
                             c.max_rank, c.in, c.out, ranks.data(), scales.data(), nullptr, 0),
                  OLORA_OK);
        check_y(y, "bgmv");
    }
};

TEST_P(SgmvTest, Float32) {
    for (const Case& c : cases()) run_case(c, OLORA_DTYPE_F32, OLORA_DTYPE_F32);
}

TEST_P(SgmvTest, BFloat16) {
    for (const Case& c : cases()) run_case(c, OLORA_DTYPE_BF16, OLORA_DTYPE_BF16);
}

// The engine's float32 model with bfloat16 adapter tables (and the converse, for completeness).
TEST_P(SgmvTest, Float32WithBFloat16Tables) {
    for (const Case& c : cases()) run_case(c, OLORA_DTYPE_F32, OLORA_DTYPE_BF16);
}

TEST_P(SgmvTest, BFloat16WithFloat32Tables) {
    for (const Case& c : cases()) run_case(c, OLORA_DTYPE_BF16, OLORA_DTYPE_F32);
}

TEST_P(SgmvTest, SingleThread) {
    ASSERT_EQ(olora_set_num_threads(1), OLORA_OK);
    run_case(cases()[0], OLORA_DTYPE_F32, OLORA_DTYPE_F32);
    run_case(cases()[0], OLORA_DTYPE_F32, OLORA_DTYPE_BF16);
    ASSERT_EQ(olora_set_num_threads(0), OLORA_OK);
}

TEST_P(SgmvTest, NoSegmentsIsANoOp) {
    int32_t start = 0, rank = 4;
    float scale = 1.f, x = 1.f, y = 2.f, tab[4] = {0, 0, 0, 0};
    EXPECT_EQ(olora_sgmv(OLORA_DTYPE_F32, &x, 1, &y, 1, &start, nullptr, 0, tab, tab, 1, 4, 1, 1, &rank, &scale,
                         nullptr, 0),
              OLORA_OK);
    EXPECT_EQ(olora_bgmv(OLORA_DTYPE_F32, &x, 1, &y, 1, 0, nullptr, tab, tab, 1, 4, 1, 1, &rank, &scale, nullptr, 0),
              OLORA_OK);
    EXPECT_EQ(y, 2.f);
}

OLORA_INSTANTIATE_ISA(SgmvTest);

TEST(SgmvArguments, BadArgumentsAreRefused) {
    float x[64] = {}, y[64] = {}, v[64] = {}, tab[256] = {}, scales[2] = {1, 1}, scratch[64];
    int32_t starts[3] = {0, 1, 2}, slots[2] = {0, 1}, ranks[2] = {2, 4};
    const int F = OLORA_DTYPE_F32;
    // Baseline is valid.
    ASSERT_EQ(olora_sgmv(F, x, 8, y, 8, starts, slots, 2, tab, tab, 2, 4, 8, 8, ranks, scales, nullptr, 0), OLORA_OK);
    EXPECT_EQ(olora_sgmv(7, x, 8, y, 8, starts, slots, 2, tab, tab, 2, 4, 8, 8, ranks, scales, nullptr, 0), OLORA_E_ARGUMENT);
    EXPECT_EQ(olora_sgmv(F, nullptr, 8, y, 8, starts, slots, 2, tab, tab, 2, 4, 8, 8, ranks, scales, nullptr, 0), OLORA_E_ARGUMENT);
    EXPECT_EQ(olora_sgmv(F, x, 7, y, 8, starts, slots, 2, tab, tab, 2, 4, 8, 8, ranks, scales, nullptr, 0), OLORA_E_ARGUMENT);
    EXPECT_EQ(olora_sgmv(F, x, 8, y, 7, starts, slots, 2, tab, tab, 2, 4, 8, 8, ranks, scales, nullptr, 0), OLORA_E_ARGUMENT);
    EXPECT_EQ(olora_sgmv(F, x, 8, y, 8, nullptr, slots, 2, tab, tab, 2, 4, 8, 8, ranks, scales, nullptr, 0), OLORA_E_ARGUMENT);
    EXPECT_EQ(olora_sgmv(F, x, 8, y, 8, starts, slots, -1, tab, tab, 2, 4, 8, 8, ranks, scales, nullptr, 0), OLORA_E_ARGUMENT);
    EXPECT_EQ(olora_sgmv(F, x, 8, y, 8, starts, slots, 2, tab, tab, 2, 0, 8, 8, ranks, scales, nullptr, 0), OLORA_E_ARGUMENT);
    EXPECT_EQ(olora_sgmv(F, x, 8, y, 8, starts, slots, 2, tab, tab, 2, 4, 0, 8, ranks, scales, nullptr, 0), OLORA_E_ARGUMENT);
    EXPECT_EQ(olora_sgmv(F, x, 8, y, 8, starts, slots, 2, tab, tab, 2, 4, 8, 8, ranks, scales, scratch, 7), OLORA_E_ARGUMENT);
    int32_t bad_starts[3] = {0, 2, 1};
    EXPECT_EQ(olora_sgmv(F, x, 8, y, 8, bad_starts, slots, 2, tab, tab, 2, 4, 8, 8, ranks, scales, nullptr, 0), OLORA_E_ARGUMENT);
    int32_t neg_starts[3] = {-1, 0, 1};
    EXPECT_EQ(olora_sgmv(F, x, 8, y, 8, neg_starts, slots, 2, tab, tab, 2, 4, 8, 8, ranks, scales, nullptr, 0), OLORA_E_ARGUMENT);
    int32_t bad_slots[2] = {0, 2};
    EXPECT_EQ(olora_sgmv(F, x, 8, y, 8, starts, bad_slots, 2, tab, tab, 2, 4, 8, 8, ranks, scales, nullptr, 0), OLORA_E_ARGUMENT);
    int32_t bad_slots2[2] = {-2, 0};
    EXPECT_EQ(olora_sgmv(F, x, 8, y, 8, starts, bad_slots2, 2, tab, tab, 2, 4, 8, 8, ranks, scales, nullptr, 0), OLORA_E_ARGUMENT);
    int32_t bad_ranks[2] = {0, 4}, big_ranks[2] = {2, 5};
    EXPECT_EQ(olora_sgmv(F, x, 8, y, 8, starts, slots, 2, tab, tab, 2, 4, 8, 8, bad_ranks, scales, nullptr, 0), OLORA_E_ARGUMENT);
    EXPECT_EQ(olora_sgmv(F, x, 8, y, 8, starts, slots, 2, tab, tab, 2, 4, 8, 8, big_ranks, scales, nullptr, 0), OLORA_E_ARGUMENT);
    EXPECT_EQ(olora_sgmv(F, x, 8, y, 8, starts, slots, 2, tab, tab, 2, 4, 8, 8, ranks, nullptr, nullptr, 0), OLORA_E_ARGUMENT);
    // An unused slot's rank is not checked.
    int32_t one_slot[2] = {0, 0};
    EXPECT_EQ(olora_sgmv(F, x, 8, y, 8, starts, one_slot, 2, tab, tab, 2, 4, 8, 8, bad_ranks + 1, scales, nullptr, 0), OLORA_OK);
    EXPECT_EQ(olora_sgmv_shrink(F, x, 8, v, 3, starts, slots, 2, tab, 2, 4, 8, ranks), OLORA_E_ARGUMENT);
    EXPECT_EQ(olora_sgmv_shrink(F, x, 8, nullptr, 4, starts, slots, 2, tab, 2, 4, 8, ranks), OLORA_E_ARGUMENT);
    EXPECT_EQ(olora_sgmv_expand(F, v, 4, y, 8, starts, slots, 2, nullptr, 2, 4, 8, ranks, scales), OLORA_E_ARGUMENT);
    EXPECT_EQ(olora_sgmv_expand(F, v, 4, y, 8, starts, slots, 2, tab, 2, 4, 8, ranks, nullptr), OLORA_E_ARGUMENT);
    EXPECT_EQ(olora_sgmv_mixed(F, OLORA_DTYPE_BF16, x, 8, y, 8, starts, slots, 2, tab, tab, 2, 4, 8, 8, ranks, scales, nullptr, 0), OLORA_OK);
    EXPECT_EQ(olora_sgmv_mixed(F, 7, x, 8, y, 8, starts, slots, 2, tab, tab, 2, 4, 8, 8, ranks, scales, nullptr, 0), OLORA_E_ARGUMENT);
    EXPECT_EQ(olora_sgmv_mixed(7, F, x, 8, y, 8, starts, slots, 2, tab, tab, 2, 4, 8, 8, ranks, scales, nullptr, 0), OLORA_E_ARGUMENT);
    int32_t row_slots[2] = {0, 5};
    EXPECT_EQ(olora_bgmv(F, x, 8, y, 8, 2, row_slots, tab, tab, 2, 4, 8, 8, ranks, scales, nullptr, 0), OLORA_E_ARGUMENT);
    EXPECT_EQ(olora_bgmv(F, x, 8, y, 8, 2, nullptr, tab, tab, 2, 4, 8, 8, ranks, scales, nullptr, 0), OLORA_E_ARGUMENT);
    EXPECT_EQ(olora_bgmv(F, x, 8, y, 8, -1, row_slots, tab, tab, 2, 4, 8, 8, ranks, scales, nullptr, 0), OLORA_E_ARGUMENT);
}

}  // namespace

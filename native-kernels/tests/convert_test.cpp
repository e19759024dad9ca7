// olora_convert_2d against a plain loop: every dtype pair, transposed and plain sources, padded
// strides, scale 1 and not; destinations poisoned first, padding columns must stay poisoned.
#include "test_util.h"

using namespace olora_test;

namespace {

float stored(int dtype, const std::vector<float>& f, const std::vector<uint16_t>& h, size_t i) {
    return dtype == OLORA_DTYPE_BF16 ? bf16_to_f32(h[i]) : f[i];
}

TEST(Convert2d, MatchesALoopForEveryDtypePairTransposeAndScale) {
    std::mt19937 rng(fresh_seed());
    const int rows = 13, cols = 37;
    for (int sd : {OLORA_DTYPE_F32, OLORA_DTYPE_BF16})
        for (int dd : {OLORA_DTYPE_F32, OLORA_DTYPE_BF16})
            for (bool transpose : {false, true})
                for (float scale : {1.f, 0.375f}) {
                    SCOPED_TRACE(std::to_string(sd) + "->" + std::to_string(dd) + (transpose ? " T" : "") + " scale " +
                                 std::to_string(scale));
                    // Source: [rows, cols] read plainly, or the transpose of a [cols, rows + 2] matrix.
                    const int64_t ld = transpose ? rows + 2 : cols + 3;
                    const size_t n = static_cast<size_t>(transpose ? cols : rows) * ld;
                    std::vector<float> sf = uniform(rng, n, -4.f, 4.f);
                    std::vector<uint16_t> sh(n);
                    for (size_t i = 0; i < n; ++i) sh[i] = f32_to_bf16(sf[i]);
                    const int64_t rs = transpose ? 1 : ld, cs = transpose ? ld : 1;
                    const int64_t ldd = cols + 5;
                    std::vector<float> df(rows * ldd);
                    std::vector<uint16_t> dh(rows * ldd, 0x7fc1);  // a bf16 NaN
                    poison(df);
                    const void* src = sd == OLORA_DTYPE_BF16 ? static_cast<const void*>(sh.data()) : sf.data();
                    void* dst = dd == OLORA_DTYPE_BF16 ? static_cast<void*>(dh.data()) : df.data();
                    ASSERT_EQ(olora_convert_2d(sd, src, rs, cs, dd, dst, ldd, rows, cols, scale), OLORA_OK);
                    int bad = 0;
                    for (int i = 0; i < rows; ++i)
                        for (int j = 0; j < ldd; ++j) {
                            const size_t k = static_cast<size_t>(i) * ldd + j;
                            const float got = dd == OLORA_DTYPE_BF16 ? bf16_to_f32(dh[k]) : df[k];
                            if (j >= cols) {
                                if (!std::isnan(got) && ++bad < 5) ADD_FAILURE() << "padding [" << i << "," << j << "] written";
                                continue;
                            }
                            const double exact = double(stored(sd, sf, sh, static_cast<size_t>(i * rs + j * cs))) * scale;
                            // float32: the product rounded once; bf16: rounded once more, to 8 bits.
                            const double tol = (dd == OLORA_DTYPE_BF16 ? 1.0 / 256 : 1e-7) * std::fabs(exact);
                            if (!(std::fabs(got - exact) <= tol) && ++bad < 5)
                                ADD_FAILURE() << "[" << i << "," << j << "] = " << got << ", expected " << exact;
                        }
                    EXPECT_EQ(bad, 0);
                }
}

TEST(Convert2d, BadArgumentsAreRefusedAndEmptyIsANoOp) {
    float s[4] = {1, 2, 3, 4}, d[4] = {0, 0, 0, 0};
    EXPECT_EQ(olora_convert_2d(OLORA_DTYPE_F32, s, 2, 1, OLORA_DTYPE_F32, d, 2, 2, 2, 1.f), OLORA_OK);
    EXPECT_EQ(d[3], 4.f);
    EXPECT_EQ(olora_convert_2d(7, s, 2, 1, OLORA_DTYPE_F32, d, 2, 2, 2, 1.f), OLORA_E_ARGUMENT);
    EXPECT_EQ(olora_convert_2d(OLORA_DTYPE_F32, s, 2, 1, 7, d, 2, 2, 2, 1.f), OLORA_E_ARGUMENT);
    EXPECT_EQ(olora_convert_2d(OLORA_DTYPE_F32, s, 2, 1, OLORA_DTYPE_F32, d, 1, 2, 2, 1.f), OLORA_E_ARGUMENT);
    EXPECT_EQ(olora_convert_2d(OLORA_DTYPE_F32, nullptr, 2, 1, OLORA_DTYPE_F32, d, 2, 2, 2, 1.f), OLORA_E_ARGUMENT);
    EXPECT_EQ(olora_convert_2d(OLORA_DTYPE_F32, s, 2, 1, OLORA_DTYPE_F32, d, 2, -1, 2, 1.f), OLORA_E_ARGUMENT);
    EXPECT_EQ(olora_convert_2d(OLORA_DTYPE_F32, nullptr, 2, 1, OLORA_DTYPE_F32, nullptr, 2, 0, 2, 1.f), OLORA_OK);
}

}  // namespace

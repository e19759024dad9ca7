// olora_check_finite against a float64 reference loop, per ISA: fresh random buffers of every
// dtype and many lengths (around each vector width and unroll), sprinkled with NaNs of random
// payload and sign, +-Inf, denormals, the largest finite values and values on either side of the
// bound; a single bad value at every position; and the argument checks.
#include "test_util.h"

using namespace olora_test;

namespace {

// float16 decoded independently of the library: sign, exponent and mantissa into a double.
double f16_value(uint16_t h) {
    const int e = (h >> 10) & 0x1f, m = h & 0x3ff;
    const double sign = (h & 0x8000) ? -1.0 : 1.0;
    if (e == 0x1f) return m ? std::numeric_limits<double>::quiet_NaN() : sign * std::numeric_limits<double>::infinity();
    if (e == 0) return sign * std::ldexp(double(m), -24);
    return sign * std::ldexp(1.0 + m / 1024.0, e - 15);
}

double value(int dtype, const std::vector<uint32_t>& words, const std::vector<uint16_t>& halves, size_t i) {
    if (dtype == OLORA_DTYPE_F32) {
        float f;
        std::memcpy(&f, &words[i], 4);
        return f;
    }
    return dtype == OLORA_DTYPE_BF16 ? double(bf16_to_f32(halves[i])) : f16_value(halves[i]);
}

// The reference: the first value that is not finite or whose magnitude exceeds max_abs, else n.
int64_t reference(int dtype, const std::vector<uint32_t>& words, const std::vector<uint16_t>& halves, size_t n, float max_abs) {
    for (size_t i = 0; i < n; ++i) {
        const double v = value(dtype, words, halves, i);
        if (!std::isfinite(v) || std::fabs(v) > double(max_abs)) return int64_t(i);
    }
    return int64_t(n);
}

uint32_t bits(float f) {
    uint32_t u;
    std::memcpy(&u, &f, 4);
    return u;
}

// A value of the buffer's format, as raw bits: usually an ordinary weight, sometimes a special one.
struct Sampler {
    std::mt19937& g;
    float max_abs;
    uint32_t f32(bool special) {
        if (!special) return bits(std::uniform_real_distribution<float>(-2.f, 2.f)(g));
        const uint32_t sign = (g() & 1) << 31;
        switch (g() % 8) {
            case 0: return sign | 0x7f800000u | (1 + g() % 0x7fffff);  // NaN, random payload (signalling or quiet)
            case 1: return sign | 0x7f800000u;                           // Inf
            case 2: return sign | (1 + g() % 0x7fffff);                  // denormal
            case 3: return sign | 0x7f7fffffu;                           // largest finite
            case 4: return sign | bits(3e38f);
            case 5: return sign | bits(max_abs);                         // exactly the bound (passes)
            case 6: return sign | std::min(bits(max_abs) + 1, 0x7f800000u);  // just above it
            default: return sign;                                        // +-0
        }
    }
    uint16_t bf16(bool special) {
        if (!special) return f32_to_bf16(std::uniform_real_distribution<float>(-2.f, 2.f)(g));
        const uint16_t sign = static_cast<uint16_t>((g() & 1) << 15);
        switch (g() % 7) {
            case 0: return sign | 0x7f80 | (1 + g() % 0x7f);
            case 1: return sign | 0x7f80;
            case 2: return sign | (1 + g() % 0x7f);
            case 3: return sign | 0x7f7f;
            case 4: return sign | static_cast<uint16_t>(bits(max_abs) >> 16);
            case 5: return sign | static_cast<uint16_t>(std::min<uint32_t>((bits(max_abs) >> 16) + 1, 0x7f80));
            default: return sign;
        }
    }
    uint16_t f16(bool special) {
        if (!special) {
            // An ordinary weight: a random finite float16 of magnitude below 2.
            const uint16_t h = static_cast<uint16_t>(g() % 0x4000);
            return static_cast<uint16_t>(((g() & 1) << 15) | h);
        }
        const uint16_t sign = static_cast<uint16_t>((g() & 1) << 15);
        switch (g() % 6) {
            case 0: return sign | 0x7c00 | (1 + g() % 0x3ff);
            case 1: return sign | 0x7c00;
            case 2: return sign | (1 + g() % 0x3ff);
            case 3: return sign | 0x7bff;  // 65504
            case 4: return sign | 0x3c00;  // 1.0
            default: return sign;
        }
    }
};

class CheckFiniteTest : public IsaTest {};

TEST_P(CheckFiniteTest, MatchesTheReferenceOnRandomBuffersWithSpecialValues) {
    const std::vector<size_t> lengths = {1, 2, 7, 8, 15, 16, 17, 31, 32, 33, 63, 64, 65, 127, 128, 129, 255, 257, 1000, 4099};
    const float bounds[] = {std::numeric_limits<float>::infinity(), 65504.f, 1.f, 0.5f, 3e38f, 0.f, 1e-40f};
    int checked = 0;
    for (int dtype : {OLORA_DTYPE_F32, OLORA_DTYPE_BF16, OLORA_DTYPE_F16})
        for (float max_abs : bounds)
            for (size_t n : lengths)
                for (double rate : {0.0, 0.002, 0.05}) {
                    Sampler s{rng_, max_abs};
                    std::bernoulli_distribution special(rate);
                    std::vector<uint32_t> words(n);
                    std::vector<uint16_t> halves(n);
                    for (size_t i = 0; i < n; ++i) {
                        if (dtype == OLORA_DTYPE_F32) words[i] = s.f32(special(rng_));
                        else if (dtype == OLORA_DTYPE_BF16) halves[i] = s.bf16(special(rng_));
                        else halves[i] = s.f16(special(rng_));
                    }
                    const void* data = dtype == OLORA_DTYPE_F32 ? static_cast<const void*>(words.data()) : halves.data();
                    const int64_t want = reference(dtype, words, halves, n, max_abs);
                    const int64_t got = olora_check_finite(dtype, data, int64_t(n), max_abs);
                    ASSERT_EQ(got, want) << trace() << " dtype " << dtype << " n " << n << " max_abs " << max_abs << " rate " << rate;
                    ++checked;
                }
    EXPECT_EQ(checked, 3 * 7 * 20 * 3);
}

TEST_P(CheckFiniteTest, FindsASingleBadValueAtEveryPosition) {
    const size_t n = 300;  // several unrolled blocks plus a partial one for both lane widths
    for (int dtype : {OLORA_DTYPE_F32, OLORA_DTYPE_BF16, OLORA_DTYPE_F16}) {
        std::vector<uint32_t> words(n, bits(0.25f));
        std::vector<uint16_t> halves(n, dtype == OLORA_DTYPE_BF16 ? f32_to_bf16(0.25f) : uint16_t(0x3400));
        const void* data = dtype == OLORA_DTYPE_F32 ? static_cast<const void*>(words.data()) : halves.data();
        ASSERT_EQ(olora_check_finite(dtype, data, int64_t(n), std::numeric_limits<float>::infinity()), int64_t(n)) << trace();
        for (size_t at = 0; at < n; ++at) {
            // A negative NaN with a payload: its sign bit must not hide it.
            if (dtype == OLORA_DTYPE_F32) words[at] = 0xffc00123u;
            else halves[at] = dtype == OLORA_DTYPE_BF16 ? uint16_t(0xffc1) : uint16_t(0xfe01);
            ASSERT_EQ(olora_check_finite(dtype, data, int64_t(n), std::numeric_limits<float>::infinity()), int64_t(at))
                << trace() << " dtype " << dtype;
            // Only a prefix is scanned: n = at finds nothing.
            ASSERT_EQ(olora_check_finite(dtype, data, int64_t(at), std::numeric_limits<float>::infinity()), int64_t(at)) << trace();
            if (dtype == OLORA_DTYPE_F32) words[at] = bits(0.25f);
            else halves[at] = dtype == OLORA_DTYPE_BF16 ? f32_to_bf16(0.25f) : uint16_t(0x3400);
        }
    }
}

TEST_P(CheckFiniteTest, TheBoundIsInclusiveAndDenormalsAreFinite) {
    const float bound = 65504.f;
    const float f32[] = {bound, -bound, std::nextafter(bound, 1e30f), 1e-45f, -1e-45f, 0.f, -0.f};
    EXPECT_EQ(olora_check_finite(OLORA_DTYPE_F32, f32, 2, bound), 2) << trace();
    EXPECT_EQ(olora_check_finite(OLORA_DTYPE_F32, f32, 3, bound), 2) << trace();
    EXPECT_EQ(olora_check_finite(OLORA_DTYPE_F32, f32 + 3, 4, 0.f), 0) << trace();  // a denormal is above a bound of 0
    EXPECT_EQ(olora_check_finite(OLORA_DTYPE_F32, f32 + 3, 4, std::numeric_limits<float>::infinity()), 4) << trace();
    // 65504 is float16's largest value: every finite float16 passes, +-Inf does not.
    const uint16_t f16[] = {0x7bff, 0xfbff, 0x0001, 0x8001, 0x7c00};
    EXPECT_EQ(olora_check_finite(OLORA_DTYPE_F16, f16, 5, bound), 4) << trace();
    // A bound between two float16 values: 1.0 passes a bound of 1.0004, the next value (1.000977) does not.
    const uint16_t ones[] = {0x3c00, 0x3c01};
    EXPECT_EQ(olora_check_finite(OLORA_DTYPE_F16, ones, 2, 1.0004f), 1) << trace();
    // bfloat16: 65280 passes 65504, 65536 does not.
    const uint16_t bf[] = {0x477f, 0x4780};
    EXPECT_EQ(olora_check_finite(OLORA_DTYPE_BF16, bf, 2, bound), 1) << trace();
}

OLORA_INSTANTIATE_ISA(CheckFiniteTest);

TEST(CheckFinite, BadArgumentsAreRefusedAndEmptyIsClean) {
    const float x[2] = {1.f, 2.f};
    const float inf = std::numeric_limits<float>::infinity();
    EXPECT_EQ(olora_check_finite(7, x, 2, inf), OLORA_E_ARGUMENT);
    EXPECT_EQ(olora_check_finite(OLORA_DTYPE_F32, x, -1, inf), OLORA_E_ARGUMENT);
    EXPECT_EQ(olora_check_finite(OLORA_DTYPE_F32, x, 2, std::numeric_limits<float>::quiet_NaN()), OLORA_E_ARGUMENT);
    EXPECT_EQ(olora_check_finite(OLORA_DTYPE_F32, x, 2, -1.f), OLORA_E_ARGUMENT);
    EXPECT_EQ(olora_check_finite(OLORA_DTYPE_F32, nullptr, 2, inf), OLORA_E_ARGUMENT);
    EXPECT_EQ(olora_check_finite(OLORA_DTYPE_F32, nullptr, 0, inf), 0);
    EXPECT_EQ(olora_check_finite(OLORA_DTYPE_F32, x, 2, inf), 2);
}

}  // namespace

// Helpers shared by the kernel tests: random data, bf16 conversion, NaN poisoning, and a
// fixture parameterised over the SIMD paths (scalar, AVX2, AVX-512) that this CPU supports.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "olora_kernels.h"

namespace olora_test {

inline uint32_t fresh_seed() {
    static std::random_device rd;
    return rd();
}

inline float bf16_to_f32(uint16_t h) {
    uint32_t u = static_cast<uint32_t>(h) << 16;
    float f;
    std::memcpy(&f, &u, 4);
    return f;
}
inline uint16_t f32_to_bf16(float f) {
    uint32_t u;
    std::memcpy(&u, &f, 4);
    u += 0x7fffu + ((u >> 16) & 1u);
    return static_cast<uint16_t>(u >> 16);
}

inline std::vector<float> uniform(std::mt19937& g, size_t n, float lo = -1.f, float hi = 1.f) {
    std::uniform_real_distribution<float> d(lo, hi);
    std::vector<float> v(n);
    for (auto& x : v) x = d(g);
    return v;
}

inline void poison(std::vector<float>& v) { std::fill(v.begin(), v.end(), std::numeric_limits<float>::quiet_NaN()); }

inline bool same_bits(float a, float b) { return std::memcmp(&a, &b, 4) == 0; }

inline const char* isa_name(int isa) {
    switch (isa) {
        case OLORA_ISA_SCALAR: return "scalar";
        case OLORA_ISA_AVX2: return "avx2";
        case OLORA_ISA_AVX512: return "avx512";
        case OLORA_ISA_AMX: return "amx";
        default: return "?";
    }
}

// Runs each test once per ISA; skipped where the CPU lacks it.
class IsaTest : public ::testing::TestWithParam<int> {
protected:
    void SetUp() override {
        if (GetParam() > olora_detect_isa()) GTEST_SKIP() << isa_name(GetParam()) << " not supported by this CPU";
        ASSERT_EQ(olora_set_isa(GetParam()), OLORA_OK);
        seed_ = fresh_seed();
        rng_.seed(seed_);
    }
    void TearDown() override { olora_set_isa(OLORA_ISA_AUTO); }
    std::string trace() const { return std::string("isa=") + isa_name(GetParam()) + " seed=" + std::to_string(seed_); }
    uint32_t seed_ = 0;
    std::mt19937 rng_;
};

inline std::string IsaParamName(const ::testing::TestParamInfo<int>& info) { return isa_name(info.param); }

#define OLORA_INSTANTIATE_ISA(Suite)                                                                       \
    INSTANTIATE_TEST_SUITE_P(Isa, Suite, ::testing::Values(OLORA_ISA_SCALAR, OLORA_ISA_AVX2, OLORA_ISA_AVX512, OLORA_ISA_AMX), \
                             olora_test::IsaParamName)

}  // namespace olora_test

// ISA selection, thread count and concurrent callers (a caller that finds the pool busy runs on
// its own thread and must still get correct results).
#include <cstdlib>
#include <cstring>
#include <thread>

#include "test_util.h"

using namespace olora_test;

TEST(Dispatch, SetIsaAcceptsSupportedRefusesOthers) {
    const int best = olora_detect_isa();
    ASSERT_GE(best, OLORA_ISA_SCALAR);
    for (int isa = OLORA_ISA_SCALAR; isa <= best; ++isa) {
        EXPECT_EQ(olora_set_isa(isa), OLORA_OK);
        EXPECT_EQ(olora_get_isa(), isa);
    }
    EXPECT_EQ(olora_set_isa(99), OLORA_E_ARGUMENT);
    EXPECT_EQ(olora_set_isa(-1), OLORA_E_ARGUMENT);
    EXPECT_EQ(olora_set_isa(OLORA_ISA_AUTO), OLORA_OK);
    EXPECT_EQ(olora_get_isa(), best);
}

// The NF4 bfloat16 GEMV's route: FMA on Intel (vdpbf16ps at half the FMA rate), dot products elsewhere.
TEST(Dispatch, Bf16GemvRouteDefaultsByVendorAndRefusesUnknown) {
    __builtin_cpu_init();
    const int vendor_default = __builtin_cpu_is("intel") ? OLORA_BF16_GEMV_FMA : OLORA_BF16_GEMV_DOT;
    const char* env = std::getenv("OLORA_BF16_GEMV");
    const int expected = env && !std::strcmp(env, "dot")   ? OLORA_BF16_GEMV_DOT
                         : env && !std::strcmp(env, "fma") ? OLORA_BF16_GEMV_FMA
                                                           : vendor_default;
    EXPECT_EQ(olora_get_bf16_gemv(), expected);
    for (int route : {OLORA_BF16_GEMV_DOT, OLORA_BF16_GEMV_FMA}) {
        EXPECT_EQ(olora_set_bf16_gemv(route), OLORA_OK);
        EXPECT_EQ(olora_get_bf16_gemv(), route);
        EXPECT_EQ(olora_set_bf16_gemv(3), OLORA_E_ARGUMENT);
        EXPECT_EQ(olora_set_bf16_gemv(-1), OLORA_E_ARGUMENT);
        EXPECT_EQ(olora_get_bf16_gemv(), route);
    }
    EXPECT_EQ(olora_set_bf16_gemv(OLORA_BF16_GEMV_AUTO), OLORA_OK);
    EXPECT_EQ(olora_get_bf16_gemv(), expected);
}

TEST(Dispatch, ThreadCount) {
    EXPECT_EQ(olora_set_num_threads(-1), OLORA_E_ARGUMENT);
    EXPECT_EQ(olora_set_num_threads(1000), OLORA_E_ARGUMENT);
    EXPECT_EQ(olora_set_num_threads(3), OLORA_OK);
    EXPECT_EQ(olora_get_num_threads(), 3);
    EXPECT_EQ(olora_set_num_threads(0), OLORA_OK);
    EXPECT_GE(olora_get_num_threads(), 1);
}

TEST(Dispatch, ConcurrentCallersGetCorrectResults) {
    const int n = 256, k = 512;
    std::mt19937 g(fresh_seed());
    const std::vector<float> w = uniform(g, n * k), x = uniform(g, k);
    std::vector<float> ref(n);
    ASSERT_EQ(olora_gemm_f32(x.data(), k, w.data(), k, ref.data(), n, 1, n, k, 0), OLORA_OK);
    std::vector<std::thread> ts;
    std::vector<int> ok(4, 1);
    for (int t = 0; t < 4; ++t)
        ts.emplace_back([&, t] {
            std::vector<float> y(n);
            for (int it = 0; it < 200; ++it) {
                if (olora_gemm_f32(x.data(), k, w.data(), k, y.data(), n, 1, n, k, 0) != OLORA_OK) ok[t] = 0;
                for (int j = 0; j < n; ++j)
                    if (!same_bits(y[j], ref[j])) ok[t] = 0;
            }
        });
    for (auto& t : ts) t.join();
    for (int t = 0; t < 4; ++t) EXPECT_EQ(ok[t], 1) << t;
}

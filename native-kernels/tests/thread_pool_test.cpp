// parallel_ranges (src/thread_pool.cpp, compiled into this test: its pool is the test's own, not the
// library's): every index covered exactly once by ranges of whole grains, and a slow thread's share taken
// over by the others.
#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>
#include <vector>

#include "test_util.h"
#include "thread_pool.h"

using namespace olora_test;

namespace {

struct Range {
    int64_t r0, r1;
};

// Runs parallel_ranges and checks its ranges: each within [0, n), a multiple of grain long unless it ends
// at n, starting on a grain, and together covering every index once. With `hold_caller` >= 0 the calling
// thread, in its first range, waits until the other threads have taken more than hold_caller indices (at
// most 10 s): they can only get there by taking over the rest of its share. A fixed sleep per range instead
// failed 29 times in 100 with both cores busy, where the other threads barely ran. Returns the number of
// indices the other threads took.
int64_t run_and_check(int64_t n, int64_t grain, int64_t chunk, int64_t hold_caller = -1) {
    const std::thread::id caller = std::this_thread::get_id();
    std::vector<std::atomic<int>> seen(static_cast<size_t>(n));
    std::mutex mu;
    std::vector<Range> ranges;
    std::atomic<int64_t> others{0};
    bool held = false;  // only the calling thread reads or writes it
    olora::parallel_ranges(n, grain, chunk, [&](int64_t r0, int64_t r1) {
        if (std::this_thread::get_id() == caller) {
            if (hold_caller >= 0 && !held) {
                held = true;
                const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
                while (others.load() <= hold_caller && std::chrono::steady_clock::now() < deadline)
                    std::this_thread::sleep_for(std::chrono::microseconds(50));
            }
        } else {
            others.fetch_add(r1 - r0);
        }
        for (int64_t i = r0; i < r1; ++i)
            if (i >= 0 && i < n) seen[static_cast<size_t>(i)].fetch_add(1);
        std::lock_guard<std::mutex> lk(mu);
        ranges.push_back({r0, r1});
    });
    for (const Range& r : ranges) {
        EXPECT_TRUE(r.r0 >= 0 && r.r0 < r.r1 && r.r1 <= n) << "range [" << r.r0 << ", " << r.r1 << ") of " << n;
        EXPECT_EQ(r.r0 % grain, 0) << "range [" << r.r0 << ", " << r.r1 << ") grain " << grain;
        if (r.r1 != n) {
            EXPECT_EQ((r.r1 - r.r0) % grain, 0) << "range [" << r.r0 << ", " << r.r1 << ") grain " << grain;
        }
    }
    for (int64_t i = 0; i < n; ++i) {
        EXPECT_EQ(seen[static_cast<size_t>(i)].load(), 1) << "index " << i << " of " << n;
        if (seen[static_cast<size_t>(i)].load() != 1) break;
    }
    return others.load();
}

class ParallelRanges : public ::testing::TestWithParam<int> {
protected:
    void SetUp() override { olora::set_num_threads(GetParam()); }
    void TearDown() override { olora::set_num_threads(0); }
};

}  // namespace

TEST_P(ParallelRanges, CoversEveryIndexOnceInWholeGrains) {
    std::mt19937 g(fresh_seed());
    std::uniform_int_distribution<int64_t> size(0, 5000);
    for (int trial = 0; trial < 200; ++trial) {
        const int64_t grain = trial % 3 == 0 ? 1 : 16;
        const int64_t chunk = grain * (1 + trial % 5);
        const int64_t n = trial < 4 ? trial * 7 : size(g);
        SCOPED_TRACE("n=" + std::to_string(n) + " grain=" + std::to_string(grain) + " chunk=" + std::to_string(chunk));
        run_and_check(n, grain, chunk);
        if (HasFailure()) return;
    }
}

// The calling thread stalls in its first range: the other threads take its share from the back, so they
// cover well over their own equal shares (without stealing they would cover exactly those).
TEST(ParallelRangesStealing, OthersTakeOverASlowThreadsShare) {
    for (int threads : {2, 3, 4}) {
        SCOPED_TRACE(std::to_string(threads) + " threads");
        olora::set_num_threads(threads);
        const int64_t n = 4096, grain = 16;
        const int64_t own_shares = n - n / threads;  // what the other threads' equal shares hold
        const int64_t expected = own_shares + (n / threads) / 2;
        const int64_t others = run_and_check(n, grain, 4 * grain, expected);
        EXPECT_GT(others, expected) << "other threads took " << others << " of " << n;
    }
    olora::set_num_threads(0);
}

INSTANTIATE_TEST_SUITE_P(Threads, ParallelRanges, ::testing::Values(1, 2, 3, 4),
                         [](const auto& info) { return std::to_string(info.param) + "threads"; });

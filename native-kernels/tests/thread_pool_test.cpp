// parallel_ranges (src/thread_pool.cpp, compiled into this test: its pool is the test's own, not the
// library's): every index covered exactly once by ranges of whole grains, and a slow thread's share taken
// over by the others. The idle threads' prefetch (prefetch_when_idle) and the decode GEMVs' learned order of
// weights (decode_weights_read, src/weight_prefetch.cpp, also compiled in).
#include <sys/mman.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>
#include <vector>

#include "kernels_internal.h"
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

// Waits (at most 10 s) until the idle threads have prefetched `bytes` more than `from`; returns what they did.
int64_t wait_prefetched(int64_t from, int64_t bytes) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (olora::idle_prefetched_bytes() - from < bytes && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    return olora::idle_prefetched_bytes() - from;
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

// Each worker w of T threads prefetches the front of part w / T of every region, its budget split by the regions'
// sizes, and no more; a sleeping worker wakes for it.
TEST(IdlePrefetch, WorkersPrefetchTheirPartsWithinTheBudget) {
    std::vector<char> a(4 << 20), b(1 << 20);
    for (int threads : {2, 4}) {
        SCOPED_TRACE(std::to_string(threads) + " threads");
        olora::set_num_threads(threads);
        std::this_thread::sleep_for(std::chrono::milliseconds(5));  // past the workers' spin: they sleep
        const olora::PrefetchRegion regions[] = {{a.data(), int64_t(a.size())}, {b.data(), int64_t(b.size())}};
        const int64_t budget = 640 << 10;  // 512 KB of a and 128 KB of b per worker, less than each part
        const int64_t expected = int64_t(threads - 1) * budget;
        const int64_t before = olora::idle_prefetched_bytes();
        olora::prefetch_when_idle(regions, 2, budget);
        olora::PrefetchRegion posted[4];
        int64_t posted_budget = 0;
        ASSERT_EQ(olora::posted_prefetch(posted, 4, &posted_budget), 2);
        EXPECT_EQ(posted[0].data, a.data());
        EXPECT_EQ(posted[1].bytes, int64_t(b.size()));
        EXPECT_EQ(posted_budget, budget);
        EXPECT_EQ(wait_prefetched(before, expected), expected);
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        EXPECT_EQ(olora::idle_prefetched_bytes() - before, expected) << "prefetched past the budget, or twice";
        run_and_check(1000, 16, 64);  // jobs still run as before
    }
    olora::set_num_threads(0);
}

// Prefetch instructions never fault: a region that is no longer mapped (weights freed after their order was
// learned) is harmless.
TEST(IdlePrefetch, UnmappedMemoryDoesNotFault) {
    olora::set_num_threads(2);
    const size_t bytes = 8 << 20;
    void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ASSERT_NE(p, MAP_FAILED);
    ASSERT_EQ(munmap(p, bytes), 0);
    const olora::PrefetchRegion region{p, int64_t(bytes)};
    const int64_t before = olora::idle_prefetched_bytes();
    olora::prefetch_when_idle(&region, 1, int64_t(bytes));
    EXPECT_EQ(wait_prefetched(before, int64_t(bytes) / 2), int64_t(bytes) / 2);  // the worker's half
    run_and_check(1000, 16, 64);
    olora::set_num_threads(0);
}

// A decode GEMV's call posts the weights that followed it last time on this thread, once it has seen them.
TEST(IdlePrefetch, DecodeWeightsFollowTheLearnedOrder) {
    olora::set_num_threads(2);
    static char w[3][2][256];  // three layers' weights, two regions each
    auto read = [](int i) {
        const olora::PrefetchRegion r[] = {{w[i][0], 256}, {w[i][1], 64}};
        olora::decode_weights_read(r, 2);
    };
    auto posted_first = []() -> const void* {
        olora::PrefetchRegion p[2];
        return olora::posted_prefetch(p, 2, nullptr) > 0 ? p[0].data : nullptr;
    };
    // Nothing is known the first time through; a stale request from earlier tests may still be posted.
    read(0);
    read(1);
    read(2);
    read(0);
    EXPECT_EQ(posted_first(), w[1][0]);
    read(1);
    EXPECT_EQ(posted_first(), w[2][0]);
    read(2);
    EXPECT_EQ(posted_first(), w[0][0]) << "the last weights lead to the next step's first";
    // The order changes (a layer skipped): the new successor replaces the old one.
    read(0);
    read(2);
    read(0);
    EXPECT_EQ(posted_first(), w[2][0]);
    olora::PrefetchRegion p[2];
    ASSERT_EQ(olora::posted_prefetch(p, 2, nullptr), 2);
    EXPECT_EQ(p[1].data, w[2][1]);
    EXPECT_EQ(p[1].bytes, 64);
    olora::set_num_threads(0);
}

// The budget is a runtime setting: 0 posts nothing; out-of-range values are refused and change nothing.
TEST(IdlePrefetch, BudgetZeroPostsNothing) {
    olora::set_num_threads(2);
    const int64_t was = olora_get_idle_prefetch_bytes();
    static char w[2][128];
    auto read = [](int i) {
        const olora::PrefetchRegion r[] = {{w[i], 128}};
        olora::decode_weights_read(r, 1);
    };
    ASSERT_EQ(olora_set_idle_prefetch_bytes(1 << 20), OLORA_OK);
    read(0);
    read(1);
    read(0);  // posts w[1]
    olora::PrefetchRegion p[2];
    int64_t budget = 0;
    ASSERT_EQ(olora::posted_prefetch(p, 2, &budget), 1);
    EXPECT_EQ(p[0].data, w[1]);
    EXPECT_EQ(budget, 1 << 20);
    ASSERT_EQ(olora_set_idle_prefetch_bytes(0), OLORA_OK);
    read(1);  // would post w[0]
    ASSERT_EQ(olora::posted_prefetch(p, 2, nullptr), 1);
    EXPECT_EQ(p[0].data, w[1]) << "posted with the prefetch turned off";
    EXPECT_EQ(olora_set_idle_prefetch_bytes(-1), OLORA_E_ARGUMENT);
    EXPECT_EQ(olora_set_idle_prefetch_bytes((int64_t(1) << 30) + 1), OLORA_E_ARGUMENT);
    EXPECT_EQ(olora_get_idle_prefetch_bytes(), 0);
    ASSERT_EQ(olora_set_idle_prefetch_bytes(was), OLORA_OK);
    olora::set_num_threads(0);
}

// A thread that has seen more weights than the table holds (model after model loaded and freed) still learns the
// order of the ones it reads now.
TEST(IdlePrefetch, DecodeWeightsKeepLearningPastAFullTable) {
    olora::set_num_threads(2);
    // Keys only (never read; a prefetch of them cannot fault), 64 bytes apart as weights would be: enough to fill
    // every slot.
    for (uintptr_t i = 0; i < 6000; ++i) {
        const olora::PrefetchRegion r[] = {{reinterpret_cast<const void*>((uintptr_t(1) << 40) + 64 * i), 64}};
        olora::decode_weights_read(r, 1);
    }
    static char w[2][64];
    auto read = [](int i) {
        const olora::PrefetchRegion r[] = {{w[i], 64}};
        olora::decode_weights_read(r, 1);
    };
    read(0);
    read(1);
    read(0);
    olora::PrefetchRegion p[1];
    ASSERT_EQ(olora::posted_prefetch(p, 1, nullptr), 1);
    EXPECT_EQ(p[0].data, w[1]);
    olora::set_num_threads(0);
}

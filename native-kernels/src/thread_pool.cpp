#include "thread_pool.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <new>
#include <thread>
#include <vector>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define OLORA_PAUSE() _mm_pause()
#else
#define OLORA_PAUSE() ((void)0)
#endif

namespace olora {
namespace {

constexpr auto kSpin = std::chrono::microseconds(100);

// Into the L2 (and on AMD, from there the L3 that L2 evictions fill), not the L1 the spinning thread does not need.
inline void prefetch_l2(const char* p) {
#if defined(__x86_64__) || defined(__i386__)
    _mm_prefetch(p, _MM_HINT_T1);
#else
    __builtin_prefetch(p, 0, 2);
#endif
}

class Pool {
public:
    explicit Pool(int threads) { start(threads); }

    int threads() const { return threads_; }

    void post_prefetch(const PrefetchRegion* regions, int count, int64_t budget) {
        if (threads_ <= 1 || count <= 0 || budget <= 0) return;
        std::unique_lock<std::mutex> busy(busy_, std::try_to_lock);
        if (!busy.owns_lock()) return;
        // Seqlock: odd while the fields change; a worker that reads across a change sees the count move and retries.
        const uint64_t s = pf_seq_.load(std::memory_order_relaxed);
        pf_seq_.store(s + 1, std::memory_order_relaxed);
        std::atomic_thread_fence(std::memory_order_release);
        const int c = count < kMaxPrefetchRegions ? count : kMaxPrefetchRegions;
        for (int i = 0; i < c; ++i) {
            pf_data_[i].store(static_cast<const char*>(regions[i].data), std::memory_order_relaxed);
            pf_bytes_[i].store(regions[i].bytes, std::memory_order_relaxed);
        }
        pf_count_.store(c, std::memory_order_relaxed);
        pf_budget_.store(budget, std::memory_order_relaxed);
        pf_seq_.store(s + 2, std::memory_order_release);
        // Wakes a sleeping worker; taking the mutex orders this after any wait's check of pf_seq_.
        { std::lock_guard<std::mutex> lk(mu_); }
        cv_.notify_all();
    }

    int posted_prefetch(PrefetchRegion* out, int max, int64_t* budget) {
        std::lock_guard<std::mutex> busy(busy_);
        const int c = std::min(max, pf_count_.load(std::memory_order_relaxed));
        for (int i = 0; i < c; ++i) out[i] = {pf_data_[i].load(std::memory_order_relaxed), pf_bytes_[i].load(std::memory_order_relaxed)};
        if (budget) *budget = pf_budget_.load(std::memory_order_relaxed);
        return c;
    }

    int64_t prefetched_bytes() const { return pf_done_.load(std::memory_order_relaxed); }

    void resize(int threads) {
        std::lock_guard<std::mutex> busy(busy_);
        stop();
        start(threads);
    }

    void run(int64_t n, TaskFn fn, void* ctx) {
        if (n <= 0) return;
        std::unique_lock<std::mutex> busy(busy_, std::try_to_lock);
        if (n == 1 || threads_ <= 1 || !busy.owns_lock()) {
            for (int64_t t = 0; t < n; ++t) fn(ctx, t);
            return;
        }
        fn_ = fn;
        ctx_ = ctx;
        num_tasks_ = n;
        next_.store(0, std::memory_order_relaxed);
        uint64_t g;
        {
            std::lock_guard<std::mutex> lk(mu_);
            g = generation_.load(std::memory_order_relaxed) + 1;
            open_.store(g, std::memory_order_seq_cst);
            generation_.store(g, std::memory_order_release);
        }
        cv_.notify_all();
        work();
        // Close the job, then wait only for the workers that joined it: a worker that is not
        // running (another process holds the core) never delays the caller.
        open_.store(0, std::memory_order_seq_cst);
        for (int i = 0; active_.load(std::memory_order_seq_cst) != 0; ++i) {
            if (i < 4096)
                OLORA_PAUSE();
            else
                std::this_thread::yield();
        }
    }

private:
    void work() {
        for (;;) {
            const int64_t t = next_.fetch_add(1, std::memory_order_relaxed);
            if (t >= num_tasks_) break;
            fn_(ctx_, t);
        }
    }

    // Prefetches this worker's part of the posted regions (see prefetch_when_idle) while no job is posted.
    void prefetch_posted(int index, uint64_t seen, uint64_t& pf_seen) {
        const uint64_t s = pf_seq_.load(std::memory_order_acquire);
        if (s == pf_seen || (s & 1) != 0) return;
        const int c = pf_count_.load(std::memory_order_relaxed);
        const char* data[kMaxPrefetchRegions];
        int64_t bytes[kMaxPrefetchRegions];
        int64_t total = 0;
        for (int i = 0; i < c; ++i) {
            data[i] = pf_data_[i].load(std::memory_order_relaxed);
            bytes[i] = pf_bytes_[i].load(std::memory_order_relaxed);
            total += bytes[i] > 0 ? bytes[i] : 0;
        }
        const int64_t budget = pf_budget_.load(std::memory_order_relaxed);
        std::atomic_thread_fence(std::memory_order_acquire);
        if (pf_seq_.load(std::memory_order_relaxed) != s) return;  // changed while read: the next spin retries
        pf_seen = s;
        if (total <= 0) return;
        for (int i = 0; i < c; ++i) {
            if (bytes[i] <= 0) continue;
            // This worker's part of region i, and its share of the budget (proportional to the region's size).
            const int64_t from = bytes[i] * index / threads_;
            const int64_t part = bytes[i] * (index + 1) / threads_ - from;
            const int64_t want = std::min(part, static_cast<int64_t>(static_cast<double>(budget) * bytes[i] / total));
            const char* p = data[i] + from;
            for (int64_t off = 0; off < want; off += 64 * 64) {
                if (generation_.load(std::memory_order_relaxed) != seen ||
                    pf_seq_.load(std::memory_order_relaxed) != s)
                    return;
                const int64_t end = std::min(want, off + 64 * 64);
                for (int64_t o = off; o < end; o += 64) prefetch_l2(p + o);
                pf_done_.fetch_add(end - off, std::memory_order_relaxed);
            }
        }
    }

    // `seen` and `pf_seen` are the generation and prefetch request when the worker was created: a job, stop or
    // request posted before the thread gets to run is still seen as new.
    void worker_loop(int index, uint64_t seen, uint64_t pf_seen) {
        for (;;) {
            // Spin for a while, then sleep on the condition variable.
            auto until = std::chrono::steady_clock::now() + kSpin;
            uint64_t g;
            for (int i = 0;; ++i) {
                g = generation_.load(std::memory_order_acquire);
                if (g != seen) break;
                prefetch_posted(index, seen, pf_seen);
                OLORA_PAUSE();
                if ((i & 255) == 255 && std::chrono::steady_clock::now() > until) {
                    // A prefetch request wakes it too (a decode step's first weights, posted at the end of the
                    // step before); it then spins again for a while.
                    std::unique_lock<std::mutex> lk(mu_);
                    cv_.wait(lk, [&] {
                        return generation_.load(std::memory_order_acquire) != seen ||
                               pf_seq_.load(std::memory_order_acquire) != pf_seen;
                    });
                    until = std::chrono::steady_clock::now() + kSpin;
                }
            }
            seen = g;
            if (quit_.load(std::memory_order_acquire)) return;
            active_.fetch_add(1, std::memory_order_seq_cst);
            if (open_.load(std::memory_order_seq_cst) == g) work();
            active_.fetch_sub(1, std::memory_order_seq_cst);
        }
    }

    void start(int threads) {
        threads_ = threads < 1 ? 1 : threads;
        quit_.store(false);
        const uint64_t g = generation_.load(std::memory_order_acquire), pf = pf_seq_.load(std::memory_order_acquire);
        for (int i = 1; i < threads_; ++i) workers_.emplace_back([this, i, g, pf] { worker_loop(i, g, pf); });
    }

    void stop() {
        {
            std::lock_guard<std::mutex> lk(mu_);
            quit_.store(true, std::memory_order_release);
            generation_.fetch_add(1, std::memory_order_release);
        }
        cv_.notify_all();
        for (auto& t : workers_) t.join();
        workers_.clear();
    }

    int threads_ = 1;
    std::vector<std::thread> workers_;
    std::mutex busy_;  // held by the caller that owns the pool for one job
    std::mutex mu_;
    std::condition_variable cv_;
    std::atomic<uint64_t> generation_{0};
    std::atomic<bool> quit_{false};
    TaskFn fn_ = nullptr;
    void* ctx_ = nullptr;
    int64_t num_tasks_ = 0;
    std::atomic<int64_t> next_{0};
    std::atomic<uint64_t> open_{0};  // generation of the job that workers may still join, 0 = none
    std::atomic<int> active_{0};     // workers inside a job
    // The posted prefetch request (post_prefetch's seqlock).
    static constexpr int kMaxPrefetchRegions = 4;
    std::atomic<uint64_t> pf_seq_{0};
    std::atomic<const char*> pf_data_[kMaxPrefetchRegions] = {};
    std::atomic<int64_t> pf_bytes_[kMaxPrefetchRegions] = {};
    std::atomic<int> pf_count_{0};
    std::atomic<int64_t> pf_budget_{0};
    std::atomic<int64_t> pf_done_{0};  // bytes the workers have prefetched (prefetched_bytes)
};

int default_threads() {
    if (const char* e = std::getenv("OLORA_NUM_THREADS")) {
        int n = std::atoi(e);
        if (n >= 1 && n <= 256) return n;
    }
    unsigned hc = std::thread::hardware_concurrency();
    return hc == 0 ? 1 : static_cast<int>(hc > 256 ? 256 : hc);
}

Pool& pool() {
    // Leaked on purpose: workers must not be joined during static destruction.
    static Pool* p = new Pool(default_threads());
    return *p;
}

}  // namespace

void parallel_for_raw(int64_t num_tasks, TaskFn fn, void* ctx) { pool().run(num_tasks, fn, ctx); }

void prefetch_when_idle(const PrefetchRegion* regions, int count, int64_t budget) {
    pool().post_prefetch(regions, count, budget);
}

int posted_prefetch(PrefetchRegion* out, int max, int64_t* budget) { return pool().posted_prefetch(out, max, budget); }

int64_t idle_prefetched_bytes() { return pool().prefetched_bytes(); }

namespace {

// The rest of one thread's share, [next, end), in one word so that its owner taking from the front and a
// thief taking from the back agree by compare-and-swap. One per cache line: the owners update them per chunk.
struct alignas(64) Share {
    std::atomic<uint64_t> v;
    static uint64_t pack(int64_t next, int64_t end) {
        return static_cast<uint64_t>(next) | static_cast<uint64_t>(end) << 32;
    }
    static int64_t next(uint64_t v) { return static_cast<int64_t>(v & 0xFFFFFFFFu); }
    static int64_t end(uint64_t v) { return static_cast<int64_t>(v >> 32); }
};
constexpr int kMaxShares = 256;  // default_threads' cap

struct RangeJob {
    Share* shares;
    int count;
    int64_t grain, chunk;
    RangeFn fn;
    void* ctx;

    // Half of `left` rows, rounded up to whole grains.
    int64_t half(int64_t left) const { return (left / 2 + grain - 1) / grain * grain; }

    // Takes up to `chunk` rows from the front of share s; from 2 chunks left on, half of what is left (whole
    // grains). The chunk a thread is in is the one thing the others cannot take over, so the last ones are short:
    // the threads then end within a grain or so of each other instead of up to a chunk apart.
    bool take_front(int s, int64_t& r0, int64_t& r1) const {
        uint64_t v = shares[s].v.load(std::memory_order_relaxed);
        for (;;) {
            const int64_t nx = Share::next(v), en = Share::end(v);
            if (nx >= en) return false;
            const int64_t left = en - nx;
            const int64_t take = left > 2 * chunk ? chunk : std::max(grain, half(left));
            const int64_t nn = take < left ? nx + take : en;
            if (shares[s].v.compare_exchange_weak(v, Share::pack(nn, en), std::memory_order_relaxed)) {
                r0 = nx;
                r1 = nn;
                return true;
            }
        }
    }

    // Takes the back half of share s (rounded to grain; all of it when that leaves nothing).
    bool take_back(int s, int64_t& r0, int64_t& r1) const {
        uint64_t v = shares[s].v.load(std::memory_order_relaxed);
        for (;;) {
            const int64_t nx = Share::next(v), en = Share::end(v);
            if (nx >= en) return false;
            int64_t mid = nx + half(en - nx);
            if (mid >= en) mid = nx;
            if (shares[s].v.compare_exchange_weak(v, Share::pack(nx, mid), std::memory_order_relaxed)) {
                r0 = mid;
                r1 = en;
                return true;
            }
        }
    }

    void run(int own) const {
        int64_t r0, r1;
        for (;;) {
            while (take_front(own, r0, r1)) fn(ctx, r0, r1);
            // Out of work: the largest share left, if any, loses its back half to this thread's share.
            int victim = -1;
            int64_t most = 0;
            for (int s = 0; s < count; ++s) {
                const uint64_t v = shares[s].v.load(std::memory_order_relaxed);
                if (Share::end(v) - Share::next(v) > most) {
                    most = Share::end(v) - Share::next(v);
                    victim = s;
                }
            }
            if (victim < 0) return;
            // take_back fails only when another thread emptied the victim first: then look again.
            if (take_back(victim, r0, r1)) shares[own].v.store(Share::pack(r0, r1), std::memory_order_relaxed);
        }
    }
};

}  // namespace

void parallel_ranges_raw(int64_t n, int64_t grain, int64_t chunk, RangeFn fn, void* ctx) {
    if (n <= 0) return;
    const int threads = pool().threads();
    if (threads <= 1 || n <= grain) {
        fn(ctx, 0, n);
        return;
    }
    // Uninitialized storage: only `threads` shares are constructed, not all kMaxShares per call.
    alignas(Share) unsigned char storage[sizeof(Share) * kMaxShares];
    Share* shares = reinterpret_cast<Share*>(storage);
    RangeJob job{shares, threads, grain, chunk, fn, ctx};
    // Equal shares, rounded to grain (the last ends at n); a thread of the pool that never joins leaves its
    // share to the others' stealing.
    const int64_t units = (n + grain - 1) / grain;
    for (int s = 0; s < threads; ++s) {
        const int64_t b = units * s / threads * grain, e = units * (s + 1) / threads * grain;
        new (&shares[s]) Share{Share::pack(b, e < n ? e : n)};
    }
    // The pool's job start and end order the shares' initial values and the kernels' writes.
    parallel_for(threads, [&](int64_t s) { job.run(static_cast<int>(s)); });
}

int num_threads() { return pool().threads(); }

int set_num_threads(int n) {
    pool().resize(n <= 0 ? default_threads() : n);
    return pool().threads();
}

}  // namespace olora

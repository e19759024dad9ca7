// A small persistent thread pool: parallel_for over task indices with dynamic scheduling, and prefetching of what
// the caller reads next while it works alone.
// The calling thread takes part; workers spin briefly after each job (so the next call, which
// in a decode step follows within microseconds, starts without a wake-up), then sleep.
#pragma once

#include <cstdint>

namespace olora {

using TaskFn = void (*)(void* ctx, int64_t task);

// Runs fn(ctx, t) for t in [0, num_tasks) on up to num_threads() threads; returns when all are
// done. Runs everything on the caller when num_tasks <= 1, the pool has one thread, or another
// thread is using the pool at the moment.
void parallel_for_raw(int64_t num_tasks, TaskFn fn, void* ctx);

template <typename F>
void parallel_for(int64_t num_tasks, const F& f) {
    parallel_for_raw(
        num_tasks, [](void* c, int64_t t) { (*static_cast<const F*>(c))(t); },
        const_cast<void*>(static_cast<const void*>(&f)));
}

using RangeFn = void (*)(void* ctx, int64_t r0, int64_t r1);

// Runs fn(ctx, r0, r1) over disjoint ranges covering [0, n), each a multiple of `grain` long but the one
// ending at n. Each thread streams a contiguous share from its front, `chunk` (a multiple of grain) at a
// time; one that runs out takes the back half of the largest share left (at least grain) as its own, which
// the others may split again. Shares stay sequential streams, and threads of unequal speed finish together.
void parallel_ranges_raw(int64_t n, int64_t grain, int64_t chunk, RangeFn fn, void* ctx);

template <typename F>
void parallel_ranges(int64_t n, int64_t grain, int64_t chunk, const F& f) {
    parallel_ranges_raw(
        n, grain, chunk, [](void* c, int64_t r0, int64_t r1) { (*static_cast<const F*>(c))(r0, r1); },
        const_cast<void*>(static_cast<const void*>(&f)));
}

// Asks the pool's idle threads to pull memory the caller will read next into their caches while the caller works
// alone (a decode step's norms, RoPE and managed code between two GEMVs, when DRAM would otherwise idle). Worker w of
// T threads prefetches the front of part w / T of each region, at most `budget` bytes in all: where the next job's
// range scheduling hands it its share. Prefetch instructions only, so a stale region never faults; a new job or
// request stops it. Returns without posting when another thread is using the pool.
struct PrefetchRegion {
    const void* data;
    int64_t bytes;
};
void prefetch_when_idle(const PrefetchRegion* regions, int count, int64_t budget);
// The request posted last (its regions into out[0, max), its budget), and the bytes the idle threads have prefetched
// so far: for tests and diagnostics.
int posted_prefetch(PrefetchRegion* out, int max, int64_t* budget);
int64_t idle_prefetched_bytes();

int num_threads();
int set_num_threads(int n);  // 0 = hardware concurrency; returns the new count

}  // namespace olora

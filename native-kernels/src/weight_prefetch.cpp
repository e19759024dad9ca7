// Which weights a decode step reads next, learned per calling thread, for the pool's idle threads to prefetch.
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <memory>

#include "kernels_internal.h"
#include "thread_pool.h"

namespace olora {
namespace {

// Bytes each idle worker may prefetch of the next weights (kDefaultIdlePrefetchBytes, an L2's worth: in the engine's
// decode step 256 KiB gained nothing and 0.75-1.5 MiB 1-3 %, native-kernels/BENCHMARKS.md). OLORA_IDLE_PREFETCH_KB
// overrides the default (0 turns the prefetch off).
std::atomic<int64_t>& prefetch_budget() {
    static std::atomic<int64_t> budget{[] {
        if (const char* e = std::getenv("OLORA_IDLE_PREFETCH_KB")) {
            const long kb = std::strtol(e, nullptr, 10);
            if (kb >= 0 && kb <= (1L << 20)) return static_cast<int64_t>(kb) << 10;
        }
        return kDefaultIdlePrefetchBytes;
    }()};
    return budget;
}

struct Entry {
    const void* key = nullptr;  // the weights read before `next`
    PrefetchRegion next[kMaxWeightRegions] = {};
    int count = 0;
};

// Open addressing without deletion: a decode step has a few hundred GEMVs. Keys of weights freed since stay until
// overwritten; when a key's probe run is full, its home slot is taken over, so a process that loads model after
// model keeps learning.
constexpr int kEntries = 2048;
constexpr int kProbes = 16;

struct Chain {
    Entry table[kEntries];
    const void* previous = nullptr;

    static int slot(const void* key) {
        const auto v = reinterpret_cast<uintptr_t>(key);
        return static_cast<int>((v >> 6) * 0x9E3779B97F4A7C15ull >> 53) & (kEntries - 1);
    }
    Entry* find(const void* key, bool insert) {
        for (int i = 0, s = slot(key); i < kProbes; ++i, s = (s + 1) & (kEntries - 1)) {
            if (table[s].key == key) return &table[s];
            if (table[s].key == nullptr) return insert ? claim(table[s], key) : nullptr;
        }
        return insert ? claim(table[slot(key)], key) : nullptr;
    }
    static Entry* claim(Entry& e, const void* key) {
        e = Entry{};
        e.key = key;
        return &e;
    }
};

}  // namespace

void decode_weights_read(const PrefetchRegion* regions, int count) {
    const int64_t budget = prefetch_budget().load(std::memory_order_relaxed);
    if (budget == 0 || count <= 0 || count > kMaxWeightRegions || num_threads() <= 1) return;
    // About 100 KB per thread that runs decode GEMVs, made on its first and freed when it exits.
    thread_local std::unique_ptr<Chain> owned;
    if (!owned) owned = std::make_unique<Chain>();
    Chain* chain = owned.get();
    const void* key = regions[0].data;
    if (chain->previous != nullptr && chain->previous != key) {
        if (Entry* e = chain->find(chain->previous, true)) {
            for (int i = 0; i < count; ++i) e->next[i] = regions[i];
            e->count = count;
        }
    }
    chain->previous = key;
    if (const Entry* e = chain->find(key, false); e != nullptr && e->count > 0) prefetch_when_idle(e->next, e->count, budget);
}

}  // namespace olora

extern "C" OLORA_API int32_t olora_set_idle_prefetch_bytes(int64_t bytes) {
    if (bytes < 0 || bytes > (int64_t(1) << 30)) return OLORA_E_ARGUMENT;
    olora::prefetch_budget().store(bytes, std::memory_order_relaxed);
    return OLORA_OK;
}

extern "C" OLORA_API int64_t olora_get_idle_prefetch_bytes(void) {
    return olora::prefetch_budget().load(std::memory_order_relaxed);
}

// AMX-BF16 path of the quantized linears from a few rows of x (kAmxMinMNf4, kAmxMinMInt8: decode
// batches, prefill), where the AVX-512 paths are bound by float32 FMA throughput. Each task
// dequantizes a group of 32 W rows to bfloat16 (L2-resident), x is rounded to bfloat16 once per
// call, and the tile unit multiplies with float32 accumulation. It computes yᵀ = W · xᵀ so that
// both operands keep their natural layouts: the first tile operand is W rows as they are (32 k per
// tile row), the second is x packed in pairs of k, the layout AMX wants for its second operand,
// which costs one pass over the small x.
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cpuid.h>
#include <vector>

#include "kernels_internal.h"
#include "simd.h"
#include "thread_pool.h"

#define OLORA_TARGET_AMX \
    __attribute__((target("amx-tile,amx-bf16,avx512f,avx512bw,avx512vl,avx512dq,avx512bf16,avx2,fma")))

namespace olora {
namespace {

constexpr int kTileRows = 16;      // rows of every tile used here
constexpr int kTileK = 32;         // bf16 values of k per tile row (64 bytes)
constexpr int kGroupRows = 32;     // W rows per task: two A tiles
constexpr int kPackedTile = 512;   // bf16 values of one packed x tile (16 pairs x 16 rows x 2)

struct alignas(64) TileConfig {
    uint8_t palette = 1;
    uint8_t start_row = 0;
    uint8_t reserved[14] = {};
    uint16_t colsb[16] = {};
    uint8_t rows[16] = {};
};

// GCC 12's tile intrinsics tell the compiler too little about memory: _tile_loadconfig names only
// the first 8 bytes of the config as read (the rest of it was optimised away: every tile then
// faulted as unconfigured) and _tile_loadd names none. So the config load is written here with the
// whole struct as its operand, and a compiler barrier sits between filling buffers and loading tiles.
inline void compiler_barrier() { __asm__ volatile("" ::: "memory"); }

// Tiles 0-3: C (W block a, x block b) at 2a + b; 4-5: A (W blocks); 6-7: B (packed x blocks).
OLORA_TARGET_AMX void configure_tiles() {
    TileConfig cfg;
    for (int t = 0; t < 8; ++t) {
        cfg.colsb[t] = 64;
        cfg.rows[t] = kTileRows;
    }
    __asm__ volatile("ldtilecfg %0" ::"m"(cfg));
}

// x [m, k] float32 -> packed bf16 tiles xp[ib][c] (ib: block of 16 rows, c: chunk of 32 k), each
// 16 rows p of 16 dwords i: (x[16 ib + i][32 c + 2p], x[16 ib + i][32 c + 2p + 1]); rows past m are 0.
OLORA_TARGET_AMX void pack_x_block(const float* x, int64_t ldx, int m, int k, int ib, uint16_t* xp) {
    const int kc = k / kTileK;
    uint32_t* out = reinterpret_cast<uint32_t*>(xp + static_cast<int64_t>(ib) * kc * kPackedTile);
    for (int i = 0; i < kTileRows; ++i) {
        const int row = ib * kTileRows + i;
        for (int c = 0; c < kc; ++c) {
            uint32_t* tile = out + static_cast<int64_t>(c) * (kPackedTile / 2);
            if (row >= m) {
                for (int p = 0; p < 16; ++p) tile[p * 16 + i] = 0;
                continue;
            }
            const float* xr = x + row * ldx + c * kTileK;
            alignas(64) uint32_t pairs[16];
            const __m512bh b = _mm512_cvtne2ps_pbh(_mm512_loadu_ps(xr + 16), _mm512_loadu_ps(xr));
            _mm512_store_si512(pairs, (__m512i)b);
            for (int p = 0; p < 16; ++p) tile[p * 16 + i] = pairs[p];
        }
    }
}

// y[16 ib + i, n0 + 16 a + r] (+)= c[r][i] for the valid rows and columns of one C tile.
inline void store_tile(const float* c, float* y, int64_t ldy, int m, int n, int row0, int col0, bool acc) {
    const int rows = std::min(kTileRows, m - row0), cols = std::min(kTileRows, n - col0);
    for (int i = 0; i < rows; ++i) {
        float* yr = y + (row0 + i) * ldy + col0;
        for (int r = 0; r < cols; ++r) yr[r] = acc ? yr[r] + c[r * kTileRows + i] : c[r * kTileRows + i];
    }
}

// One W group (32 bf16 rows at w, row stride k) times one or two packed x blocks.
template <int NB>
OLORA_TARGET_AMX void group_times_blocks(const uint16_t* w, int k, const uint16_t* xp0, float* y, int64_t ldy,
                                         int m, int n, int n0, int row0, bool acc) {
    const int kc = k / kTileK;
    _tile_zero(0);
    _tile_zero(2);
    if (NB == 2) {
        _tile_zero(1);
        _tile_zero(3);
    }
    const int64_t wstride = static_cast<int64_t>(k) * 2;
    compiler_barrier();
    for (int c = 0; c < kc; ++c) {
        _tile_loadd(4, w + c * kTileK, wstride);
        _tile_loadd(5, w + kTileRows * k + c * kTileK, wstride);
        _tile_loadd(6, xp0 + static_cast<int64_t>(c) * kPackedTile, 64);
        _tile_dpbf16ps(0, 4, 6);
        _tile_dpbf16ps(2, 5, 6);
        if (NB == 2) {
            _tile_loadd(7, xp0 + static_cast<int64_t>(kc + c) * kPackedTile, 64);
            _tile_dpbf16ps(1, 4, 7);
            _tile_dpbf16ps(3, 5, 7);
        }
    }
    alignas(64) float c[kTileRows * kTileRows];
    _tile_stored(0, c, 64);
    store_tile(c, y, ldy, m, n, row0, n0, acc);
    _tile_stored(2, c, 64);
    store_tile(c, y, ldy, m, n, row0, n0 + kTileRows, acc);
    if (NB == 2) {
        _tile_stored(1, c, 64);
        store_tile(c, y, ldy, m, n, row0 + kTileRows, n0, acc);
        _tile_stored(3, c, 64);
        store_tile(c, y, ldy, m, n, row0 + kTileRows, n0 + kTileRows, acc);
    }
}

OLORA_TARGET_AMX void release_tiles() { _tile_release(); }

template <typename Dequant>
void amx_linear(const float* x, int64_t ldx, float* y, int64_t ldy, int m, int n, int k, bool acc, Dequant dequant) {
    const int kc = k / kTileK;
    const int blocks = (m + kTileRows - 1) / kTileRows;
    thread_local std::vector<uint16_t> packed;  // the caller's; the workers only read it
    packed.resize(static_cast<size_t>(blocks) * kc * kPackedTile);
    uint16_t* xp = packed.data();
    parallel_for(blocks, [&](int64_t ib) { pack_x_block(x, ldx, m, k, static_cast<int>(ib), xp); });
    for_bf16_row_groups(n, k, kGroupRows, dequant, [&](int n0, int n1, uint16_t* w) {
        if (n1 - n0 < kGroupRows)  // rows past n multiply as zeros and are never stored
            std::fill(w + static_cast<int64_t>(n1 - n0) * k, w + static_cast<int64_t>(kGroupRows) * k, uint16_t{0});
        configure_tiles();
        int ib = 0;
        for (; ib + 2 <= blocks; ib += 2)
            group_times_blocks<2>(w, k, xp + static_cast<int64_t>(ib) * kc * kPackedTile, y, ldy, m, n, n0,
                                  ib * kTileRows, acc);
        if (ib < blocks)
            group_times_blocks<1>(w, k, xp + static_cast<int64_t>(ib) * kc * kPackedTile, y, ldy, m, n, n0,
                                  ib * kTileRows, acc);
        release_tiles();
    });
}

}  // namespace

bool amx_supported() {
#if defined(__x86_64__)
    static const bool ok = [] {
        unsigned a, b, c, d;
        if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return false;
        constexpr unsigned kAmxBf16 = 1u << 22, kAmxTile = 1u << 24;
        if ((d & kAmxBf16) == 0 || (d & kAmxTile) == 0) return false;
        // The kernel must have enabled the tile state (XCR0 bits 17-18) and grant it to this process:
        // Linux keeps AMX off per process until asked (ARCH_REQ_XCOMP_PERM for XFEATURE_XTILEDATA).
        if (!__get_cpuid(1, &a, &b, &c, &d) || (c & (1u << 27)) == 0) return false;  // OSXSAVE
        unsigned lo, hi;
        __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
        if ((lo & (3u << 17)) != (3u << 17)) return false;
        constexpr long kArchReqXcompPerm = 0x1023, kXfeatureXtiledata = 18;
        return syscall(SYS_arch_prctl, kArchReqXcompPerm, kXfeatureXtiledata) == 0;
    }();
    return ok;
#else
    return false;
#endif
}

void nf4_linear_amx(const float* x, int64_t ldx, float* y, int64_t ldy, int m, int n, int k, const uint8_t* codes,
                    const float* absmax, bool accumulate) {
    amx_linear(x, ldx, y, ldy, m, n, k, accumulate,
               [&](int n0, int n1, uint16_t* out) { nf4_rows_bf16(codes, absmax, k, n0, n1, out); });
}

void int8_linear_amx(const float* x, int64_t ldx, float* y, int64_t ldy, int m, int n, int k, const int8_t* q,
                     const float* scales, bool accumulate) {
    amx_linear(x, ldx, y, ldy, m, n, k, accumulate,
               [&](int n0, int n1, uint16_t* out) { int8_rows_bf16(q, scales, k, n0, n1, out); });
}

}  // namespace olora

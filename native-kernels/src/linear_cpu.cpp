// Tiled linear driver (prefill / general path) and the plain float32 GEMM entry point.
// Each task takes a tile of W rows sized to stay in L2, obtains it as float32 (dequantized into a
// per-thread buffer, or read in place for float32 W) and multiplies all rows of x with the NT
// micro-kernel.
#include <algorithm>
#include <vector>

#include "kernels_internal.h"
#include "thread_pool.h"

namespace olora {

namespace {
int rows_per_tile(int k) {
    const int64_t budget = 192 * 1024;  // bytes of float32 tile per task
    int64_t nb = budget / (static_cast<int64_t>(k) * 4);
    nb = std::max<int64_t>(4, std::min<int64_t>(64, nb));
    return static_cast<int>(nb & ~int64_t{3});
}
}  // namespace

void linear_tiled(const float* x, int64_t ldx, float* y, int64_t ldy, int m, int n, int k, bool accumulate,
                  const TileSource& src) {
    const int nb = rows_per_tile(k);
    const GemmNtFn nt = gemm_nt_for(active_isa());
    auto tile = [&](int n0, int n1) {
        thread_local std::vector<float> buf;
        const size_t need = static_cast<size_t>(n1 - n0) * static_cast<size_t>(k);
        if (buf.size() < need) buf.resize(need);
        int64_t ld = k;
        const float* w = src.rows(n0, n1, buf.data(), &ld);
        nt(OLORA_DTYPE_F32, OLORA_DTYPE_F32, x, ldx, w, ld, y + n0, ldy, m, n1 - n0, k, accumulate);
    };
    if (m <= 2) {
        // Batch-1 and -2 decode, bound by streaming W: each thread streams a share of consecutive tiles and
        // takes over the other's tail (parallel_ranges), as the fused quantized GEMVs do. Small-preset float32
        // decode, 8 alternated pairs: step / floor median 1.21 against 1.25. At M = 8 the tiles are bound by
        // arithmetic, and ranges measured no faster than tasks (docs/BENCHMARKS.md).
        parallel_ranges(n, 4, nb, [&](int64_t r0, int64_t r1) {
            for (int64_t p = r0; p < r1; p += nb) tile(static_cast<int>(p), static_cast<int>(std::min<int64_t>(r1, p + nb)));
        });
        return;
    }
    parallel_for((n + nb - 1) / nb, [&](int64_t t) {
        const int n0 = static_cast<int>(t * nb);
        tile(n0, std::min(n, n0 + nb));
    });
}

}  // namespace olora

namespace {
struct DenseSource final : olora::TileSource {
    const float* w;
    int64_t ldw;
    const float* rows(int n0, int, float*, int64_t* ld) const override {
        *ld = ldw;
        return w + n0 * ldw;
    }
};
}  // namespace

extern "C" OLORA_API int32_t olora_gemm_f32(const float* x, int64_t x_row_stride, const float* w,
                                            int64_t w_row_stride, float* y, int64_t y_row_stride, int32_t m,
                                            int32_t n, int32_t k, int32_t accumulate) {
    if (m < 0 || n < 1 || k < 1) return OLORA_E_ARGUMENT;
    if (m == 0) return OLORA_OK;
    if (!x || !w || !y || x_row_stride < k || w_row_stride < k || y_row_stride < n) return OLORA_E_ARGUMENT;
    DenseSource src;
    src.w = w;
    src.ldw = w_row_stride;
    olora::linear_tiled(x, x_row_stride, y, y_row_stride, m, n, k, accumulate != 0, src);
    return OLORA_OK;
}

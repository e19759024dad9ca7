// Strided 2-D copy with dtype conversion, optional transpose and scale, on the calling thread:
// how the engine stacks adapter factors into the slot layout. libtorch's copy_ splits such copies
// over its OpenMP pool, which on a machine whose cores are busy with decode steps turned a ~6 ms
// adapter load into ~100 ms; a load runs beside the steps, so one thread is what it should use.
#include "kernels_internal.h"

namespace olora {
namespace {

inline float load(const float* p, int64_t i) { return p[i]; }
inline float load(const uint16_t* p, int64_t i) { return bf16_to_f32(p[i]); }
inline void store(float* p, int64_t i, float v) { p[i] = v; }
inline void store(uint16_t* p, int64_t i, float v) { p[i] = f32_to_bf16(v); }

template <typename TS, typename TD>
void convert(const TS* src, int64_t row_stride, int64_t col_stride, TD* dst, int64_t dst_row_stride, int rows,
             int cols, float scale) {
    for (int i = 0; i < rows; ++i) {
        const TS* s = src + i * row_stride;
        TD* d = dst + i * dst_row_stride;
        if constexpr (sizeof(TS) == sizeof(TD)) {
            if (col_stride == 1 && scale == 1.f) {  // the slot copy: same dtype, nothing to convert
                std::memcpy(d, s, static_cast<size_t>(cols) * sizeof(TD));
                continue;
            }
        }
        if (col_stride == 1) {  // unit stride: a loop the compiler vectorizes
            for (int j = 0; j < cols; ++j) store(d, j, load(s, j) * scale);
        } else {
            for (int j = 0; j < cols; ++j) store(d, j, load(s, j * col_stride) * scale);
        }
    }
}

}  // namespace
}  // namespace olora

using namespace olora;

extern "C" OLORA_API int32_t olora_convert_2d(int32_t src_dtype, const void* src, int64_t src_row_stride,
                                              int64_t src_col_stride, int32_t dst_dtype, void* dst,
                                              int64_t dst_row_stride, int32_t rows, int32_t cols, float scale) {
    const bool ok_dtypes = (src_dtype == OLORA_DTYPE_F32 || src_dtype == OLORA_DTYPE_BF16) &&
                           (dst_dtype == OLORA_DTYPE_F32 || dst_dtype == OLORA_DTYPE_BF16);
    if (!ok_dtypes || rows < 0 || cols < 0 || dst_row_stride < cols) return OLORA_E_ARGUMENT;
    if (rows == 0 || cols == 0) return OLORA_OK;
    if (!src || !dst) return OLORA_E_ARGUMENT;
    with_dtypes(src_dtype, dst_dtype, [&](auto ts, auto td) {
        using TS = decltype(ts);
        using TD = decltype(td);
        convert(static_cast<const TS*>(src), src_row_stride, src_col_stride, static_cast<TD*>(dst), dst_row_stride,
                rows, cols, scale);
    });
    return OLORA_OK;
}
